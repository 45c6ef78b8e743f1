#include "raylet/bundles.h"

#include "absl/strings/str_cat.h"
#include "common/bundle_resources.h"
#include "common/ids.h"
#include "common/limits.h"
#include "common/logging.h"

namespace glint::raylet {

std::string Bundles::Key(const std::string& group_id, int index) { return absl::StrCat(group_id, "/", index); }

absl::Status Bundles::Prepare(const std::string& group_id, int index, const ResourceSet& resources) {
  absl::MutexLock lock(&mu_);
  std::string key = Key(group_id, index);
  if (entries_.contains(key)) return absl::OkStatus();
  // The names a committed bundle adds go in every heartbeat, which the GCS
  // takes only within kMaxNodeResources names.
  size_t names = leases_->ResourceNames() + BundleResources(resources, IdHex(group_id), index).size();
  if (entries_.size() >= kMaxBundles || names > static_cast<size_t>(kMaxNodeResources)) {
    std::string why = absl::StrCat("the node holds ", entries_.size(), " bundles and would hold ", names,
                                   " resource names with this one, past its bound of ", kMaxBundles, " bundles and ",
                                   kMaxNodeResources, " names");
    if (absl::Now() - last_refusal_logged_ > absl::Seconds(10)) {
      last_refusal_logged_ = absl::Now();
      LOG(WARNING) << "placement group " << ShortHex(group_id) << " bundle " << index << " refused: " << why;
    }
    return absl::ResourceExhaustedError(why);
  }
  std::vector<std::string> gpu_ids;
  if (!leases_->Reserve(resources, &gpu_ids)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the node's free resources do not hold ", ToString(resources), " now"));
  }
  entries_[key] = Entry{resources, false, std::move(gpu_ids)};
  return absl::OkStatus();
}

absl::Status Bundles::Commit(const std::string& group_id, int index) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(Key(group_id, index));
  if (it == entries_.end()) return absl::NotFoundError("no such bundle is reserved on this node");
  if (it->second.committed) return absl::OkStatus();
  it->second.committed = true;
  leases_->AddBundleGpus(IdHex(group_id), index, it->second.gpu_ids, it->second.reserved);
  leases_->AddResources(BundleResources(it->second.reserved, IdHex(group_id), index));
  VLOG(1) << "placement group " << ShortHex(group_id) << " bundle " << index << " committed: "
          << ToString(it->second.reserved);
  return absl::OkStatus();
}

void Bundles::Return(const std::string& group_id, int index) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(Key(group_id, index));
  if (it == entries_.end()) return;
  if (it->second.committed) {
    leases_->RemoveResources(BundleResources(it->second.reserved, IdHex(group_id), index),
                             absl::StrCat("placement group ", ShortHex(group_id), " was removed"));
    leases_->RemoveBundleGpus(IdHex(group_id), index);
  }
  leases_->Unreserve(it->second.reserved, it->second.gpu_ids);
  entries_.erase(it);
}

}  // namespace glint::raylet
