// CallScheduler on its own: actor calls run in each caller's order, early
// ones wait within bounds, and the table of callers stays bounded.
#include "client/src/execute/call_scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace glint::internal {
namespace {

class CallSchedulerTest : public ::testing::Test {
 protected:
  explicit CallSchedulerTest(absl::Duration early_call_wait = CallScheduler::kEarlyCallWait)
      : scheduler_(
            &poller_, [this](IncomingCall* c) { Record(c, &ran_); }, [this](IncomingCall* c) { Record(c, &ran_); },
            [this](IncomingCall* c, const std::string&) { Record(c, &refused_); }, early_call_wait) {
    scheduler_.Start();
  }
  ~CallSchedulerTest() override {
    poller_.Shutdown();
    scheduler_.Stop(absl::Seconds(10));
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) delete static_cast<CqTag*>(tag);
  }

  void Send(const std::string& caller, int64_t seq) {
    auto* call = new IncomingCall(nullptr);
    call->req.mutable_task()->set_type(proto::ACTOR_TASK);
    call->req.mutable_task()->set_caller_id(caller);
    call->req.mutable_task()->set_sequence_number(seq);
    std::vector<IncomingCall*> calls{call};
    scheduler_.Admit(calls);
  }
  // Waits (up to 30 s) until `n` calls ran; returns them, as caller:seq.
  std::vector<std::string> Ran(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return ran_.size() >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
    return ran_;
  }
  std::vector<std::string> RanOf(size_t n, const std::string& caller) {
    std::vector<std::string> out;
    for (auto& r : Ran(n)) {
      if (r.rfind(caller + ":", 0) == 0) out.push_back(r);
    }
    return out;
  }

  void Record(IncomingCall* c, std::vector<std::string>* where) {
    absl::MutexLock lock(&mu_);
    where->push_back(c->task().caller_id() + ":" + std::to_string(c->task().sequence_number()));
    delete c;
  }

  grpc::CompletionQueue cq_;
  QueuePoller poller_{&cq_};
  absl::Mutex mu_;
  std::vector<std::string> ran_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> refused_ ABSL_GUARDED_BY(mu_);
  CallScheduler scheduler_;
};

TEST_F(CallSchedulerTest, ManyCallersLeaveABoundedTableAndOrderIsKept) {
  Send("a", 0);
  Send("a", 1);
  Send("b", 1);  // early: waits for b:0, so b is never forgotten
  const size_t flood = CallScheduler::kMaxCallers + 100;
  for (size_t i = 0; i < flood; ++i) Send("caller-" + std::to_string(i), 0);
  ASSERT_EQ(Ran(flood + 2).size(), flood + 2);
  EXPECT_LE(scheduler_.callers(), CallScheduler::kMaxCallers);
  Send("a", 2);  // a was forgotten: its next call runs, not waits
  Send("b", 0);
  EXPECT_EQ(RanOf(flood + 5, "a"), (std::vector<std::string>{"a:0", "a:1", "a:2"}));
  EXPECT_EQ(RanOf(flood + 5, "b"), (std::vector<std::string>{"b:0", "b:1"})) << "b's order held across the flood";
  absl::MutexLock lock(&mu_);
  EXPECT_TRUE(refused_.empty());
}

class ShortWaitTest : public CallSchedulerTest {
 protected:
  ShortWaitTest() : CallSchedulerTest(absl::Milliseconds(200)) {}
};

TEST_F(ShortWaitTest, AnEarlyCallWhosePredecessorsNeverComeIsRefusedInTime) {
  Send("lost", 1);  // lost:0 never comes
  // The wait is checked as calls arrive: others keep calling meanwhile.
  bool refused = false;
  for (int i = 0; i < 400 && !refused; ++i) {
    Send("busy", i);
    Ran(static_cast<size_t>(i) + 1);
    absl::MutexLock lock(&mu_);
    auto any = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !refused_.empty(); };
    refused = mu_.AwaitWithTimeout(absl::Condition(&any), absl::Milliseconds(25));
  }
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(refused_, (std::vector<std::string>{"lost:1"}));
  EXPECT_EQ(std::count(ran_.begin(), ran_.end(), "lost:1"), 0);
}

TEST_F(CallSchedulerTest, ACallerIdLongerThanAnIdIsRefused) {
  Send(std::string(1000, 'x'), 0);
  Send("ok", 0);
  Ran(1);
  absl::MutexLock lock(&mu_);
  auto refused = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !refused_.empty(); };
  mu_.AwaitWithTimeout(absl::Condition(&refused), absl::Seconds(30));
  ASSERT_EQ(refused_.size(), 1u);
  EXPECT_EQ(refused_[0].size(), 1002u);
}

}  // namespace
}  // namespace glint::internal
