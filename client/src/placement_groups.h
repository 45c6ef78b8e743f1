// PlacementGroups: this process's calls about placement groups (create,
// find, wait, remove; the GCS places them, gcs/placement_group_manager.h),
// and Place, the one rule for work placed in one: its resources are renamed
// to the bundle's own (common/bundle_resources.h), after a check that they
// fit the bundle. Thread-safe (the GCS client is).
#pragma once
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "client/src/gcs_client.h"
#include "glint/internal/runtime_api.h"
#include "glint/placement_group.h"
#include "proto/common.pb.h"

namespace glint::internal {

class PlacementGroups {
 public:
  // Borrows `gcs`; `job` is the job groups are made for (its namespace is the default).
  PlacementGroups(GcsClient* gcs, proto::JobInfo job) : gcs_(gcs), job_(std::move(job)) {}
  // The new group's id.
  absl::StatusOr<std::string> Create(const PlacementGroupOptions& options);
  absl::StatusOr<std::optional<proto::PlacementGroupInfo>> Find(const std::string& name, const std::string& ns);
  // True once the group is placed; false at the timeout or if it is gone.
  absl::StatusOr<bool> Wait(const std::string& group_id, int64_t timeout_ms);
  absl::Status Remove(const std::string& group_id);

 private:
  GcsClient* const gcs_;
  const proto::JobInfo job_;
};

// Rewrites `resources` for work placed per `p` (nothing to do without a
// group); a call whose caller captures child tasks goes to the caller's
// group when `p` names none. With capture, `*capture` gets the group, for
// the call's spec to carry on (else it stays empty). Returns the group the
// work runs in (empty: none).
absl::StatusOr<std::string> Place(const Placement& p, std::map<std::string, double>* resources,
                                  proto::PlacementGroupInfo* capture);
// In a worker, before a task or an actor's constructor runs: the group its
// spec captures child tasks into (none: the calls it makes go anywhere).
void CaptureChildTasks(const proto::TaskSpec& spec);

}  // namespace glint::internal
