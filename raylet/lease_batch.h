// LeaseBatch: serves RequestWorkerLeases from the raylet's completion
// queue: one call asks for `count` leases of one shape at once (a driver
// with tasks queued). Each is put to the LeaseManager on its own, exactly
// as a single request is, and its answer (granted, spilled back, refused)
// goes out on the call's stream as soon as it is decided, in that order;
// the call ends when all are answered. A grant that cannot reach the caller
// (it went away, the stream broke, the call was cut short) goes back to the
// pool at once: no worker stays leased to nobody. Thread-safe: answers come
// from any thread.
#pragma once
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "common/queue_poller.h"
#include "proto/raylet.grpc.pb.h"
#include "raylet/lease_manager.h"

namespace glint::raylet {

class LeaseBatch final : public CqTag {
 public:
  struct Answers;  // shared with the lease manager's callbacks; outlives the call
  // The generated RequestRequestWorkerLeases, bound to a service and queue.
  using RequestFn = std::function<void(grpc::ServerContext*, proto::LeaseRequest*,
                                       grpc::ServerAsyncWriter<proto::LeaseReply>*, CqTag*)>;
  // Runs on the polling thread when a call comes: a refusal (not OK) ends
  // the call at once with that status; otherwise it must, then or later,
  // call exactly one of Start and Refuse on `answers` (maybe after the call
  // is over: the caller went away while its job was looked up).
  using Arrive = std::function<absl::Status(const proto::LeaseRequest& req, const std::shared_ptr<Answers>& answers)>;
  // Serves the method's calls; `leases` must outlive every answer (the
  // raylet's LeaseManager answers all it was asked before it goes).
  static void Serve(RequestFn request, LeaseManager* leases, Arrive arrive);
  // Puts `count` copies of `req` to the lease manager.
  static void Start(const std::shared_ptr<Answers>& a, const proto::LeaseRequest& req);
  // Answers all `count` with `refusal` (the job has finished, ...).
  static void Refuse(const std::shared_ptr<Answers>& a, const proto::LeaseReply& refusal);

 private:
  struct Method;
  static void Listen(std::shared_ptr<const Method> m);
  explicit LeaseBatch(std::shared_ptr<const Method> m);
  // A call came (or the server shut down first).
  void Proceed(bool ok) override;
  void OnWriteDone(bool ok);
  void OnFinishDone(bool ok);
  // The call is over: finished, cancelled or cut off.
  void OnDone(bool ok);
  // An answer decided: written out, or given back if it cannot be.
  static void Answer(const std::shared_ptr<Answers>& a, proto::LeaseReply reply);
  // By the owner of the writing: writes the next queued answer, ends the
  // call when all are written, or lets go when there is nothing to do.
  void WriteNextOrFinish();

  std::shared_ptr<const Method> method_;
  grpc::ServerContext ctx_;
  proto::LeaseRequest req_;
  grpc::ServerAsyncWriter<proto::LeaseReply> writer_{&ctx_};
  std::shared_ptr<Answers> answers_;
  proto::LeaseReply out_;  // the answer being written
  MemberTag<LeaseBatch> write_tag_{this, &LeaseBatch::OnWriteDone};
  MemberTag<LeaseBatch> finish_tag_{this, &LeaseBatch::OnFinishDone};
  MemberTag<LeaseBatch> done_tag_{this, &LeaseBatch::OnDone};
};

}  // namespace glint::raylet
