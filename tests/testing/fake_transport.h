// FakeTransport: a SubmitTransport that records what the submitters ask of
// other processes and lets a test answer, one step at a time, from the test
// thread (as the real one answers from the queue's thread, never inline).
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/src/submit/transport.h"

namespace glint::testing {

class FakeSink : public internal::CallSink {
 public:
  explicit FakeSink(proto::Address worker, DoneFn done) : worker(std::move(worker)), done_(std::move(done)) {}
  bool Send(proto::TaskSpec& task) override {
    if (ended_ || closed) return false;
    sent.push_back(std::move(task));
    return true;
  }
  void Close() override { closed = true; }
  bool ended() const override { return ended_; }
  void Ack(const proto::GeneratorAck& ack) override { acks.push_back(ack); }
  bool Has(const std::string& task_id) const override {
    for (auto& t : sent) {
      if (t.task_id() == task_id) return true;
    }
    return false;
  }
  bool Cancel(const proto::CancelRequest& cancel) override {
    for (auto& t : sent) {
      if (t.task_id() == cancel.task_id()) {
        cancels.push_back(cancel);
        return true;
      }
    }
    return false;
  }

  // Answers the oldest call not answered yet with `result` (or an empty one).
  void Reply(proto::ObjectValue result = {}) {
    auto task = std::move(sent.front());
    sent.pop_front();
    proto::PushTaskReply reply;
    *reply.mutable_result() = std::move(result);
    done_(task, absl::OkStatus(), reply);
  }
  // The worker gives call `task_id` back unstarted (as asked with give_back).
  void GiveBack(const std::string& task_id) {
    for (auto it = sent.begin(); it != sent.end(); ++it) {
      if (it->task_id() != task_id) continue;
      auto task = std::move(*it);
      sent.erase(it);
      proto::PushTaskReply reply;
      reply.set_not_run(true);
      done_(task, absl::OkStatus(), reply);
      return;
    }
  }
  // The task ids of the calls sent and not answered yet, in order.
  std::vector<std::string> SentIds() const {
    std::vector<std::string> ids;
    for (auto& t : sent) ids.push_back(t.task_id());
    return ids;
  }
  // The task ids asked back (cancels with give_back), in order.
  std::vector<std::string> AskedBack() const {
    std::vector<std::string> ids;
    for (auto& c : cancels) {
      if (c.give_back()) ids.push_back(c.task_id());
    }
    return ids;
  }
  // The stream breaks: every call not answered ends with `why`.
  void Break(absl::Status why = absl::UnavailableError("the worker died")) {
    ended_ = true;
    std::deque<proto::TaskSpec> failed;
    failed.swap(sent);
    proto::PushTaskReply none;
    for (auto& t : failed) done_(t, why, none);
  }

  proto::Address worker;
  std::deque<proto::TaskSpec> sent;  // sent, not answered yet
  bool closed = false;
  std::vector<proto::GeneratorAck> acks;
  std::vector<proto::CancelRequest> cancels;

 private:
  DoneFn done_;
  bool ended_ = false;
};

class FakeTransport : public internal::SubmitTransport {
 public:
  struct LeaseCall {
    std::string raylet;
    proto::LeaseRequest req;
    LeaseFn done;
  };
  struct Watch {
    std::string actor_id;
    int64_t version;
    internal::GcsClient::ActorFn done;
  };
  struct GroupWatch {
    std::string group_id;
    internal::GcsClient::GroupFn done;
  };

  std::shared_ptr<internal::CallSink> OpenStream(const proto::Address& worker, const std::string& lease_id,
                                                 internal::CallSink::DoneFn done) override {
    stream_leases.push_back(lease_id);
    auto s = std::make_shared<FakeSink>(worker, std::move(done));
    streams.push_back(s);
    return s;
  }
  // Each worker asked for is a request of its own in `leases`; `lease_calls`
  // has how many were asked in each call.
  void RequestLeases(const std::string& raylet, const proto::LeaseRequest& req, int count, LeaseFn each) override {
    lease_calls.push_back(count);
    for (int i = 0; i < count; ++i) leases.push_back({raylet, req, each});
  }
  // At once unless `hold_soon` (then RunSoonNow() runs them).
  void RunSoon(std::function<void()> fn) override {
    if (!hold_soon) return fn();
    soon.push_back(std::move(fn));
  }
  // Runs what was asked to run soon (and what that asks for in turn).
  void RunSoonNow() {
    for (int round = 0; round < 100 && !soon.empty(); ++round) {
      auto now = std::move(soon);
      soon.clear();
      for (auto& fn : now) fn();
    }
  }
  void ReturnLease(const std::string& raylet, const std::string& lease_id, bool disconnect) override {
    returned.push_back(lease_id + (disconnect ? " disconnect" : "") + " to " + raylet);
  }
  void WatchActor(const std::string& actor_id, int64_t version, int64_t,
                  internal::GcsClient::ActorFn done) override {
    watches.push_back({actor_id, version, std::move(done)});
  }
  void WatchPlacementGroup(const std::string& group_id, int64_t, internal::GcsClient::GroupFn done) override {
    group_watches.push_back({group_id, std::move(done)});
  }

  // Grants the oldest lease request a worker on port `port`, as lease `id`.
  void GrantLease(int port, const std::string& id) {
    proto::LeaseReply reply;
    reply.mutable_worker()->set_ip("127.0.0.1");
    reply.mutable_worker()->set_port(port);
    reply.mutable_worker()->set_worker_id("worker-" + std::to_string(port));
    reply.set_lease_id(id);
    AnswerLease(reply);
  }
  void AnswerLease(proto::LeaseReply reply, absl::Status status = absl::OkStatus()) {
    auto call = std::move(leases.front());
    leases.pop_front();
    call.done(status, reply);
  }
  // Answers the oldest watch of an actor with its new record.
  void AnswerWatch(const proto::ActorInfo& info) {
    auto w = std::move(watches.front());
    watches.pop_front();
    proto::GetActorReply reply;
    reply.set_found(true);
    *reply.mutable_actor() = info;
    w.done(absl::OkStatus(), reply);
  }
  // Answers the oldest watch of a placement group: its state, or gone.
  void AnswerGroupWatch(std::optional<proto::PlacementGroupState> state) {
    auto w = std::move(group_watches.front());
    group_watches.pop_front();
    proto::GetPlacementGroupReply reply;
    reply.set_found(state.has_value());
    if (state) {
      reply.mutable_group()->set_group_id(w.group_id);
      reply.mutable_group()->set_state(*state);
    }
    w.done(absl::OkStatus(), reply);
  }
  FakeSink& Stream(size_t i) { return *streams.at(i); }

  std::deque<LeaseCall> leases;
  std::vector<int> lease_calls;
  bool hold_soon = false;
  std::vector<std::function<void()>> soon;
  std::vector<std::shared_ptr<FakeSink>> streams;
  std::vector<std::string> stream_leases;  // the lease each stream of `streams` was opened for
  std::vector<std::string> returned;
  std::deque<Watch> watches;
  std::deque<GroupWatch> group_watches;
};

}  // namespace glint::testing
