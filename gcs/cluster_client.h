// ClusterClient: how the GCS talks to raylets and workers. An interface so
// the GCS managers can be unit-tested with a fake cluster.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"

#include "proto/raylet.pb.h"
#include "proto/worker.pb.h"

namespace glint {
class ClientQueue;
}

namespace glint::gcs {

class ClusterClient {
 public:
  using LeaseCallback = std::function<void(const absl::Status&, const proto::LeaseReply&)>;
  using PushCallback = std::function<void(const absl::Status&, const proto::PushTaskReply&)>;
  virtual ~ClusterClient() = default;
  // Makes the calls on `queue` (the GCS's one completion queue), whose
  // poller runs their callbacks. Before the first call; without it, the
  // calls go on a queue with a thread of its own.
  virtual void UseQueue(ClientQueue* /*queue*/) {}
  // All calls are asynchronous; callbacks run on an RPC thread. KillWorker
  // and NotifyJobFinished are one-way: their failures are logged.
  // A lease request has no deadline: a raylet busy starting workers answers
  // when it can. It ends unanswered only if the raylet goes away, or when
  // CancelLeases is told its node is dead.
  virtual void RequestLease(const proto::Address& raylet, const proto::LeaseRequest& req,
                            LeaseCallback cb) = 0;
  // Ends the lease requests in flight to `raylet` (its node is dead): their
  // callbacks get CANCELLED.
  virtual void CancelLeases(const proto::Address& raylet) = 0;
  virtual void PushTask(const proto::Address& worker, const proto::PushTaskRequest& req,
                        PushCallback cb) = 0;
  virtual void KillWorker(const proto::Address& raylet, const std::string& worker_id,
                          const std::string& reason) = 0;
  virtual void NotifyJobFinished(const proto::Address& raylet, const proto::JobInfo& job) = 0;
  // Placement group bundles, in two phases (raylet/bundles.h). `done` gets
  // whether the step succeeded (Prepare: the bundle is reserved there, and
  // committed too when the request asks it), or why not: the raylet's
  // refusal, or the call's failure.
  enum class BundleStep { kPrepare, kCommit, kReturn };
  virtual void Bundle(const proto::Address& raylet, BundleStep step, const proto::BundleRequest& req,
                      std::function<void(const absl::Status&)> done) = 0;
  // Whether a driver or worker still answers at `address` (within a second or two).
  virtual void Probe(const proto::Address& address, std::function<void(bool alive)> cb) = 0;
  // Cancels the calls in flight; their callbacks have run when it returns,
  // and no callback runs after it.
  virtual void Stop() {}
};

// The real one, over gRPC.
std::unique_ptr<ClusterClient> MakeGrpcClusterClient();

}  // namespace glint::gcs
