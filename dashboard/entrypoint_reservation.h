// EntrypointReservations: the CPUs a job's entrypoint asks for
// (`glint job submit --entrypoint-num-cpus N`), held on the head node while
// the entrypoint runs, so the cluster's tasks and actors do not take them
// (as Ray reserves them for its job supervisor). Each is a placement group
// of one bundle {CPU: N} pinned to the head (target_node_id), detached and
// owned by no driver, named by the submission id in namespace "_glint_jobs":
// the job waits PENDING until the GCS has placed it, and the supervisor
// removes it when the entrypoint ends. One a dashboard that died left
// behind is removed by the next (ReleaseLeftovers).
#pragma once
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/async_call.h"
#include "proto/gcs.grpc.pb.h"

namespace glint::dashboard {

class EntrypointReservations {
 public:
  static constexpr char kNamespace[] = "_glint_jobs";

  explicit EntrypointReservations(const std::string& gcs_address);

  // Asks the GCS to reserve `cpus` CPUs on the head for job `submission_id`;
  // the group's id. InvalidArgument when the head could never hold them
  // (or there is no head node), Unavailable when the GCS cannot be reached.
  absl::StatusOr<std::string> Reserve(const std::string& submission_id, double cpus);

  struct State {
    bool placed = false;  // the CPUs are held: the entrypoint may start
    bool gone = false;    // removed (by someone else) or unknown to the GCS
    std::string waiting_for;  // while neither: why it is not placed yet
  };
  absl::StatusOr<State> Check(const std::string& group_id);
  // Returns the CPUs; false when the GCS could not be told (try again).
  bool Release(const std::string& group_id);
  // Removes every reservation in kNamespace (at start: nothing runs yet).
  void ReleaseLeftovers();

 private:
  std::unique_ptr<proto::GcsService::Stub> gcs_;
  ClientQueueThread client_;
};

}  // namespace glint::dashboard
