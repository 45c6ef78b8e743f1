// GcsClient: this process's calls to the GCS: the job (register, keep alive,
// finish, read), the nodes, and actors (create, look up, kill, follow their
// state). Blocking calls wait on the client queue (BlockingCall); while the
// GCS does not answer (it is restarting) they try again, for up to the
// reconnect timeout, and then fail UNAVAILABLE saying so. Nothing here
// throws. Thread-safe.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/async_call.h"
#include "proto/gcs.grpc.pb.h"

namespace glint::internal {

class GcsClient {
 public:
  // Borrows `queue` (it must outlive this). `reconnect_timeout_ms`: how long
  // a blocking call waits for a GCS that does not answer.
  GcsClient(ClientQueue* queue, std::string address, int64_t reconnect_timeout_ms = 60000);
  const std::string& address() const { return address_; }

  // The job as registered (with its id and namespace).
  absl::StatusOr<proto::JobInfo> RegisterJob(const proto::JobInfo& job);
  absl::StatusOr<proto::JobInfo> GetJob(const std::string& job_id);
  absl::Status FinishJob(const std::string& job_id);
  // Holds a call open for the driver's life: when this process dies, the GCS
  // sees it drop and ends the job. Call again (e.g. every tick) to reopen it
  // after it ended (a reset stream, a restarted GCS); a no-op while open.
  void KeepJobAlive(const std::string& job_id);
  absl::StatusOr<std::vector<proto::NodeInfo>> GetAllNodes();
  // The same without waiting: `done` runs on the client queue's thread.
  using NodesFn = std::function<void(const absl::Status&, proto::GetAllNodesReply&)>;
  void GetAllNodesAsync(NodesFn done);

  absl::StatusOr<proto::ActorInfo> CreateActor(proto::CreateActorRequest req);
  // nullopt when no actor has that name in that namespace.
  absl::StatusOr<std::optional<proto::ActorInfo>> GetNamedActor(const std::string& name, const std::string& ns);
  absl::Status KillActor(const std::string& actor_id, bool no_restart, const std::string& reason = "");
  // The same without waiting (a failure is logged): for threads that must not block.
  void KillActorAsync(const std::string& actor_id, const std::string& reason);
  // Placement groups (see gcs/placement_group_manager.h).
  absl::StatusOr<proto::PlacementGroupInfo> CreatePlacementGroup(const proto::PlacementGroupInfo& group);
  // nullopt when there is no such group; with `wait_ms` > 0 (by id), answers
  // once it is placed or removed, or after wait_ms.
  absl::StatusOr<std::optional<proto::PlacementGroupInfo>> GetPlacementGroup(proto::GetPlacementGroupRequest req);
  absl::Status RemovePlacementGroup(const std::string& group_id);
  // Answers once the actor's record is newer than `version` (or after
  // `timeout_ms` with the current one); `done` runs on the client queue.
  using ActorFn = std::function<void(const absl::Status&, proto::GetActorReply&)>;
  void WatchActor(const std::string& actor_id, int64_t version, int64_t timeout_ms, ActorFn done);
  // Answers once the group is placed or gone (reply.found() false), or
  // after `timeout_ms` with its state then; `done` runs on the client queue.
  using GroupFn = std::function<void(const absl::Status&, proto::GetPlacementGroupReply&)>;
  void WatchPlacementGroup(const std::string& group_id, int64_t timeout_ms, GroupFn done);

  // No more keep-alives (the one open is cancelled with the queue).
  void Stop();

  // Runs `attempt` (one blocking call to the GCS) again while the GCS does
  // not answer, as every blocking call here does; for other GCS services.
  absl::Status Retrying(const std::function<absl::Status()>& attempt);
  ClientQueue* queue() const { return queue_; }

 private:
  // BlockingCall, tried again while the GCS is unreachable (see above).
  template <typename Req, typename Reply, typename Method>
  absl::Status Call(Method method, const Req& req, int64_t timeout_ms, Reply* reply);

  ClientQueue* const queue_;
  const std::string address_;
  const int64_t reconnect_timeout_ms_;
  // Whether the last blocking call found the GCS unreachable (said once per outage).
  std::atomic<bool> unreachable_{false};
  std::unique_ptr<proto::GcsService::Stub> stub_;
  absl::Mutex keepalive_mu_;
  bool keepalive_open_ ABSL_GUARDED_BY(keepalive_mu_) = false;
  // Reopening a dropped keep-alive backs off while the GCS is away.
  int64_t keepalive_opened_ms_ ABSL_GUARDED_BY(keepalive_mu_) = 0;
  int64_t keepalive_retry_ms_ ABSL_GUARDED_BY(keepalive_mu_) = 0;
  int64_t keepalive_backoff_ms_ ABSL_GUARDED_BY(keepalive_mu_) = 0;
  bool stopped_ ABSL_GUARDED_BY(keepalive_mu_) = false;
};

}  // namespace glint::internal
