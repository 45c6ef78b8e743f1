// LeaseBatch: serves one RequestWorkerLeases call, `count` leases of one
// shape asked at once (a driver with tasks queued). Each is put to the
// LeaseManager on its own, exactly as a single request is, and its answer
// (granted, spilled back, refused) goes out on the call's stream as soon as
// it is decided, in that order; the call ends when all are answered. A
// grant that cannot reach the caller (it went away, the stream broke, the
// call was cut short) goes back to the pool at once: no worker stays leased
// to nobody. Thread-safe: answers come from any thread.
#pragma once
#include <grpcpp/grpcpp.h>

#include <memory>

#include "proto/raylet.pb.h"
#include "raylet/lease_manager.h"

namespace glint::raylet {

class LeaseBatch final : public grpc::ServerWriteReactor<proto::LeaseReply> {
 public:
  struct Answers;  // shared with the lease manager's callbacks; outlives the call
  // A call for `count` leases; `leases` must outlive every answer (the
  // raylet's LeaseManager answers all it was asked before it goes). Then
  // exactly one of Start and Refuse, on answers(), maybe after the call is
  // over (the caller went away while its job was looked up).
  explicit LeaseBatch(LeaseManager* leases, int count);
  std::shared_ptr<Answers> answers() const { return answers_; }
  // Puts `count` copies of `req` to the lease manager.
  static void Start(const std::shared_ptr<Answers>& a, const proto::LeaseRequest& req);
  // Answers all `count` with `refusal` (the job has finished, ...).
  static void Refuse(const std::shared_ptr<Answers>& a, const proto::LeaseReply& refusal);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // An answer decided: written out, or given back if it cannot be.
  static void Answer(const std::shared_ptr<Answers>& a, proto::LeaseReply reply);
  // Writes the next queued answer, or ends the call when there is no more to write.
  void WriteNextOrFinish();

  std::shared_ptr<Answers> answers_;
  proto::LeaseReply out_;  // the answer being written
};

}  // namespace glint::raylet
