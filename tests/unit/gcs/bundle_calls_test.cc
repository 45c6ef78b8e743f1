// The GCS's bundle steps to raylets: one call in flight per raylet, the
// steps asked for meanwhile sent together next, in order, each step told
// its own outcome.
#include "gcs/bundle_calls.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>

#include "common/limits.h"

namespace glint::gcs {
namespace {

// Records each call and answers it when the test says.
struct FakeRaylets {
  struct Call {
    std::string target;
    proto::BundleStepsRequest req;
    BundleCalls::Reply reply;
  };
  std::deque<Call> calls;
  BundleCalls::Send Send() {
    return [this](const std::string& target, const proto::BundleStepsRequest& req,
                  BundleCalls::Reply reply) {
      calls.push_back({target, req, std::move(reply)});
    };
  }
  // Answers the oldest call: step i succeeds if ok(i).
  void Answer(const std::function<bool(int)>& ok, absl::Status status = absl::OkStatus()) {
    ASSERT_FALSE(calls.empty());
    Call c = std::move(calls.front());
    calls.pop_front();
    proto::BundleStepsReply r;
    for (int i = 0; i < c.req.steps_size(); ++i) r.add_ok(ok(i));
    c.reply(status, r);
  }
};

proto::BundleStep Step(proto::BundleStep::Kind kind, int index) {
  proto::BundleStep s;
  s.set_kind(kind);
  s.mutable_bundle()->set_group_id("g");
  s.mutable_bundle()->set_bundle_index(index);
  return s;
}

std::vector<int> Indexes(const proto::BundleStepsRequest& req) {
  std::vector<int> out;
  for (auto& s : req.steps()) out.push_back(s.bundle().bundle_index());
  return out;
}

constexpr int kWindow = BundleCalls::kCallsInFlight;

// Answers the oldest call in flight, each step by its bundle index.
void AnswerByIndex(FakeRaylets& raylets, const std::function<bool(int)>& ok) {
  ASSERT_FALSE(raylets.calls.empty());
  auto indexes = Indexes(raylets.calls.front().req);
  raylets.Answer([&](int i) { return ok(indexes[i]); });
}

using Ended = std::vector<std::pair<int, bool>>;

TEST(BundleCallsTest, StepsAskedForWhileTheWindowIsFullGoTogetherNextInTheirOrder) {
  FakeRaylets raylets;
  BundleCalls calls(raylets.Send());
  Ended ended;
  auto done = [&](int i) { return [&ended, i](const absl::Status& s) { ended.emplace_back(i, s.ok()); }; };
  for (int i = 0; i < kWindow; ++i) calls.Add("a:1", Step(proto::BundleStep::PREPARE, i), done(i));
  ASSERT_EQ(raylets.calls.size(), static_cast<size_t>(kWindow))
      << "lone steps go at once, up to the window";
  for (int i = kWindow; i < kWindow + 3; ++i)
    calls.Add("a:1", Step(proto::BundleStep::RETURN, i), done(i));
  EXPECT_EQ(raylets.calls.size(), static_cast<size_t>(kWindow))
      << "the others wait for a call to end";

  AnswerByIndex(raylets, [](int) { return true; });
  ASSERT_EQ(raylets.calls.size(), static_cast<size_t>(kWindow));
  EXPECT_EQ(Indexes(raylets.calls.back().req),
            (std::vector<int>{kWindow, kWindow + 1, kWindow + 2}))
      << "the waiting steps went as one call when the first ended";
  EXPECT_EQ(raylets.calls.back().req.steps(0).kind(), proto::BundleStep::RETURN);
  EXPECT_EQ(ended, (Ended{{0, true}}));

  while (!raylets.calls.empty()) AnswerByIndex(raylets, [](int i) { return i != kWindow + 1; });
  Ended expected;
  for (int i = 0; i < kWindow + 3; ++i) expected.emplace_back(i, i != kWindow + 1);
  EXPECT_EQ(ended, expected) << "each step gets its own outcome, in the order asked";
  EXPECT_EQ(calls.Busy(), 0u) << "an idle raylet keeps no state";

  calls.Add("a:1", Step(proto::BundleStep::COMMIT, 9), done(9));
  EXPECT_EQ(raylets.calls.size(), 1u) << "the next lone step goes at once again";
  AnswerByIndex(raylets, [](int) { return true; });
  EXPECT_EQ(ended.back(), std::make_pair(9, true));
}

TEST(BundleCallsTest, RayletsAreIndependentAndAFailedCallFailsItsSteps) {
  FakeRaylets raylets;
  BundleCalls calls(raylets.Send());
  Ended ended;
  auto done = [&](int i) { return [&ended, i](const absl::Status& s) { ended.emplace_back(i, s.ok()); }; };
  for (int i = 0; i < kWindow; ++i) calls.Add("a:1", Step(proto::BundleStep::PREPARE, i), done(i));
  calls.Add("b:2", Step(proto::BundleStep::PREPARE, 100), done(100));
  ASSERT_EQ(raylets.calls.size(), static_cast<size_t>(kWindow + 1))
      << "a busy raylet does not hold up another";
  EXPECT_EQ(raylets.calls.back().target, "b:2");
  EXPECT_EQ(calls.Busy(), 2u);
  calls.Add("a:1", Step(proto::BundleStep::PREPARE, 50), done(50));
  calls.Add("a:1", Step(proto::BundleStep::PREPARE, 51), done(51));
  raylets.Answer([](int) { return true; }, absl::UnavailableError("raylet a went away"));
  EXPECT_EQ(ended, (Ended{{0, false}}));
  // The rest: a's others succeed, b's succeeds, and a's batch times out.
  while (!raylets.calls.empty()) {
    bool batch = raylets.calls.front().req.steps_size() == 2;
    raylets.Answer([](int) { return true; },
                   batch ? absl::DeadlineExceededError("no answer") : absl::OkStatus());
  }
  Ended expected;
  for (int i = 0; i < kWindow; ++i) expected.emplace_back(i, i != 0);
  expected.insert(expected.end(), {{100, true}, {50, false}, {51, false}});
  std::sort(ended.begin(), ended.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(ended, expected);
  EXPECT_EQ(calls.Busy(), 0u);
}

TEST(BundleCallsTest, ARefusedStepSaysWhyAndAFailedCallSaysSo) {
  FakeRaylets raylets;
  BundleCalls calls(raylets.Send());
  std::vector<absl::Status> ended;
  for (int i = 0; i < 2; ++i) {
    calls.Add("a:1", Step(proto::BundleStep::PREPARE, i), [&](const absl::Status& s) { ended.push_back(s); });
  }
  ASSERT_EQ(raylets.calls.size(), 2u);
  auto first = std::move(raylets.calls.front());
  raylets.calls.pop_front();
  proto::BundleStepsReply refused;
  refused.add_ok(false);
  refused.add_why("the node's free resources do not hold {CPU: 1} now");
  first.reply(absl::OkStatus(), refused);
  raylets.Answer([](int) { return true; }, absl::UnavailableError("connection refused"));
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[0].message(), "the node's free resources do not hold {CPU: 1} now") << "the raylet's own words";
  EXPECT_TRUE(absl::IsUnavailable(ended[1])) << ended[1];
  EXPECT_NE(ended[1].message().find("connection refused"), std::string::npos) << ended[1];
}

TEST(BundleCallsTest, AReplyThatDoesNotAnswerEveryStepFailsThemAll) {
  FakeRaylets raylets;
  BundleCalls calls(raylets.Send());
  int failed = 0;
  for (int i = 0; i < kWindow + 2; ++i)
    calls.Add("a:1", Step(proto::BundleStep::PREPARE, i), [&](const absl::Status& s) { failed += !s.ok(); });
  raylets.Answer([](int) { return true; });
  ASSERT_EQ(raylets.calls.back().req.steps_size(), 2);
  auto c = std::move(raylets.calls.back());
  raylets.calls.pop_back();
  proto::BundleStepsReply short_reply;
  short_reply.add_ok(true);  // one answer for two steps
  c.reply(absl::OkStatus(), short_reply);
  EXPECT_EQ(failed, 2);
  while (!raylets.calls.empty()) raylets.Answer([](int) { return true; });
  EXPECT_EQ(failed, 2);
}

TEST(BundleCallsTest, AStepsEndMayAskForMoreAndALongQueueIsSentInBoundedCalls) {
  FakeRaylets raylets;
  BundleCalls calls(raylets.Send());
  std::vector<int> ended;
  // The first step's end asks for a commit, as a placement round does.
  calls.Add("a:1", Step(proto::BundleStep::PREPARE, 0), [&](const absl::Status&) {
    ended.push_back(0);
    calls.Add("a:1", Step(proto::BundleStep::COMMIT, 0), [&](const absl::Status&) { ended.push_back(-1); });
  });
  for (int i = 1; i < kWindow; ++i)
    calls.Add("a:1", Step(proto::BundleStep::RETURN, i), [&ended, i](const absl::Status&) { ended.push_back(i); });
  const int last = kWindow + kMaxBundleSteps + 9;
  for (int i = kWindow; i <= last; ++i)
    calls.Add("a:1", Step(proto::BundleStep::RETURN, i), [&ended, i](const absl::Status&) { ended.push_back(i); });
  ASSERT_EQ(raylets.calls.size(), static_cast<size_t>(kWindow));
  raylets.Answer([](int) { return true; });
  EXPECT_EQ(raylets.calls.back().req.steps_size(), kMaxBundleSteps)
      << "at most kMaxBundleSteps in one call";
  EXPECT_EQ(raylets.calls.back().req.steps(0).bundle().bundle_index(), kWindow);
  auto has_commit = [&] {
    auto& steps = raylets.calls.front().req.steps();
    return std::any_of(steps.begin(), steps.end(),
                       [](auto& s) { return s.kind() == proto::BundleStep::COMMIT; });
  };
  for (int i = 0; i < 10 && !raylets.calls.empty() && !has_commit(); ++i)
    raylets.Answer([](int) { return true; });
  ASSERT_EQ(raylets.calls.size(), 1u);
  // The rest of the returns, then the commit asked for during the first call's end.
  auto& rest = raylets.calls.front().req;
  ASSERT_EQ(rest.steps_size(), 11);
  EXPECT_EQ(rest.steps(0).bundle().bundle_index(), kWindow + kMaxBundleSteps);
  EXPECT_EQ(rest.steps(9).bundle().bundle_index(), last);
  EXPECT_EQ(rest.steps(10).kind(), proto::BundleStep::COMMIT);
  raylets.Answer([](int) { return true; });
  ASSERT_EQ(ended.size(), static_cast<size_t>(last + 2));
  EXPECT_EQ(ended.front(), 0);
  EXPECT_EQ(ended.back(), -1);
  for (int i = 1; i <= last; ++i) ASSERT_EQ(ended[i], i) << "in the order asked";
  EXPECT_EQ(calls.Busy(), 0u);
}

}  // namespace
}  // namespace glint::gcs
