// OwnerClient: what this process asks of other processes about objects:
// the owner of a borrowed object (its value, "I borrow it", "I let go"), and
// whether a borrower is still there. An interface so the reference counter
// and the object getter can be unit-tested with a fake; GrpcOwnerClient is
// the real one. Callbacks run on the client queue's thread, never inline.
#pragma once
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "common/async_call.h"
#include "proto/worker.grpc.pb.h"

namespace glint::internal {

class OwnerClient {
 public:
  using ObjectFn = std::function<void(const absl::Status&, proto::GetObjectReply&)>;
  virtual ~OwnerClient() = default;
  // Registers this process as a borrower of `id` with its owner (blocking).
  virtual absl::Status AddBorrower(const std::string& owner, const std::string& id) = 0;
  // Tells the owner this process no longer borrows `id` (one-way).
  virtual void RemoveBorrower(const std::string& owner, const std::string& id) = 0;
  // Asks `owner` for object `id`'s value (waiting until it is ready there);
  // an empty id asks nothing, and any answer means the process is there.
  virtual void GetObject(const std::string& owner, const std::string& id, int64_t deadline_ms, ObjectFn done) = 0;
  // The copy of `id` at `lost` cannot be read: asks `owner` to make the
  // object again and for its new value (or why it cannot be made).
  virtual void RecoverObject(const std::string& owner, const std::string& id, const proto::StoredObject& lost,
                             ObjectFn done) = 0;
};

class GrpcOwnerClient final : public OwnerClient {
 public:
  // `self` names this process to owners. Borrows `queue` and `workers`.
  GrpcOwnerClient(std::string self, ClientQueue* queue, StubCache<proto::WorkerService>* workers)
      : self_(std::move(self)), queue_(queue), workers_(workers) {}
  absl::Status AddBorrower(const std::string& owner, const std::string& id) override;
  void RemoveBorrower(const std::string& owner, const std::string& id) override;
  void GetObject(const std::string& owner, const std::string& id, int64_t deadline_ms, ObjectFn done) override;
  void RecoverObject(const std::string& owner, const std::string& id, const proto::StoredObject& lost,
                     ObjectFn done) override;

 private:
  const std::string self_;
  ClientQueue* const queue_;
  StubCache<proto::WorkerService>* const workers_;
};

}  // namespace glint::internal
