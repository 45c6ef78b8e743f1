// Bundles: this node's share of placement groups. The GCS reserves a group's
// bundles in two phases across nodes: Prepare takes a bundle's resources
// from the node's free pool (or refuses, when other work took them), Commit
// adds them back as the bundle's own named resources
// (common/bundle_resources.h) for work placed in the bundle, Return undoes
// either (the workers using a committed bundle are killed). Each call is
// idempotent, so a retried RPC changes nothing.
// Bundle lifecycle: (none) -Prepare-> PREPARED -Commit-> COMMITTED;
// PREPARED or COMMITTED -Return-> (none). Thread-safe.
#pragma once
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/resources.h"
#include "raylet/lease_manager.h"

namespace glint::raylet {

class Bundles {
 public:
  // Borrows `leases` (it must outlive this).
  explicit Bundles(LeaseManager* leases) : leases_(leases) {}
  // True if the bundle is reserved here now (or was already).
  absl::Status Prepare(const std::string& group_id, int index, const ResourceSet& resources);
  absl::Status Commit(const std::string& group_id, int index);
  void Return(const std::string& group_id, int index);

  // Bundles a node holds at most (each one costs a few map entries).
  static constexpr size_t kMaxBundles = 100000;

 private:
  struct Entry {
    ResourceSet reserved;
    bool committed = false;
    std::vector<std::string> gpu_ids;  // the node's GPUs it reserved
  };
  static std::string Key(const std::string& group_id, int index);
  LeaseManager* const leases_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  absl::Time last_refusal_logged_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace glint::raylet
