// What the submitters need from other processes, behind an interface so
// their ordering, leasing and retry logic can be unit-tested with a fake:
// call streams to workers, leases from raylets, and the GCS's word on an
// actor's or a placement group's state. GrpcTransport is the real one.
// Callbacks run on the client queue's thread, never inline.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "client/src/gcs_client.h"
#include "common/async_call.h"
#include "proto/raylet.grpc.pb.h"
#include "proto/worker.grpc.pb.h"

namespace glint::internal {

// One caller's stream of calls to one worker (CallStream is the real one).
class CallSink {
 public:
  // Called once per call: with the reply, or with the stream's error.
  using DoneFn = std::function<void(proto::TaskSpec& task, const absl::Status&, proto::PushTaskReply&)>;
  // Called for each item of a generator call, before its final reply (not
  // necessarily in order: replies of two messages may be taken at once).
  using ItemFn = std::function<void(const std::string& task_id, proto::PushTaskReply& item,
                                    const std::shared_ptr<CallSink>& via)>;
  virtual ~CallSink() = default;
  // Queues `task` (moved from only on success); false once the stream has
  // ended or Close() was called.
  virtual bool Send(proto::TaskSpec& task) = 0;
  // Ends this side once the queued calls are written; the worker answers
  // the calls sent, then ends the stream.
  virtual void Close() = 0;
  virtual bool ended() const = 0;
  // Tells the worker how far the consumer of a generator running there got.
  virtual void Ack(const proto::GeneratorAck& ack) = 0;
  // Sends a cancel for a call sent on this stream and not answered yet;
  // false if there is no such call here.
  virtual bool Cancel(const proto::CancelRequest& cancel) = 0;
  // Whether a call with this id was sent on this stream and is not answered yet.
  virtual bool Has(const std::string& task_id) const = 0;
};

class SubmitTransport {
 public:
  using LeaseFn = std::function<void(const absl::Status&, proto::LeaseReply&)>;
  virtual ~SubmitTransport() = default;
  // `lease_id`: the lease of a task worker the stream serves (the worker
  // gives itself back when the stream ends); empty for an actor's worker.
  virtual std::shared_ptr<CallSink> OpenStream(const proto::Address& worker, const std::string& lease_id,
                                               CallSink::DoneFn done) = 0;
  // Asks for `count` workers of `req`'s shape in one call; `each` runs once
  // per worker asked for: with an answer (granted, spilled back, refused),
  // or with the call's error for those it did not answer.
  virtual void RequestLeases(const std::string& raylet, const proto::LeaseRequest& req, int count, LeaseFn each) = 0;
  // Runs `fn` on the transport's thread soon, never inline (lease requests
  // of tasks submitted in a loop go out together from there).
  virtual void RunSoon(std::function<void()> fn) = 0;
  // One-way: gives the leased worker back (`disconnect`: it failed; kill it).
  virtual void ReturnLease(const std::string& raylet, const std::string& lease_id, bool disconnect) = 0;
  virtual void WatchActor(const std::string& actor_id, int64_t version, int64_t timeout_ms,
                          GcsClient::ActorFn done) = 0;
  virtual void WatchPlacementGroup(const std::string& group_id, int64_t timeout_ms, GcsClient::GroupFn done) = 0;
};

class GrpcTransport final : public SubmitTransport {
 public:
  // Borrows everything; all must outlive it.
  // Generator items on every stream go to `items`.
  GrpcTransport(ClientQueue* queue, StubCache<proto::RayletService>* raylets,
                StubCache<proto::WorkerService>* workers, GcsClient* gcs, CallSink::ItemFn items)
      : queue_(queue), raylets_(raylets), workers_(workers), gcs_(gcs), items_(std::move(items)) {}
  std::shared_ptr<CallSink> OpenStream(const proto::Address& worker, const std::string& lease_id,
                                       CallSink::DoneFn done) override;
  void RequestLeases(const std::string& raylet, const proto::LeaseRequest& req, int count, LeaseFn each) override;
  void RunSoon(std::function<void()> fn) override { glint::RunSoon(queue_, std::move(fn)); }
  void ReturnLease(const std::string& raylet, const std::string& lease_id, bool disconnect) override;
  void WatchActor(const std::string& actor_id, int64_t version, int64_t timeout_ms,
                  GcsClient::ActorFn done) override {
    gcs_->WatchActor(actor_id, version, timeout_ms, std::move(done));
  }
  void WatchPlacementGroup(const std::string& group_id, int64_t timeout_ms, GcsClient::GroupFn done) override {
    gcs_->WatchPlacementGroup(group_id, timeout_ms, std::move(done));
  }

 private:
  ClientQueue* const queue_;
  StubCache<proto::RayletService>* const raylets_;
  StubCache<proto::WorkerService>* const workers_;
  GcsClient* const gcs_;
  const CallSink::ItemFn items_;
};

}  // namespace glint::internal
