#include "raylet/bundles.h"

#include "absl/strings/str_cat.h"
#include "common/bundle_resources.h"
#include "common/ids.h"
#include "common/logging.h"

namespace glint::raylet {

std::string Bundles::Key(const std::string& group_id, int index) { return absl::StrCat(group_id, "/", index); }

bool Bundles::Prepare(const std::string& group_id, int index, const ResourceSet& resources) {
  absl::MutexLock lock(&mu_);
  std::string key = Key(group_id, index);
  if (entries_.contains(key)) return true;
  std::vector<std::string> gpu_ids;
  if (entries_.size() >= kMaxBundles || !leases_->Reserve(resources, &gpu_ids)) return false;
  entries_[key] = Entry{resources, false, std::move(gpu_ids)};
  return true;
}

absl::Status Bundles::Commit(const std::string& group_id, int index) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(Key(group_id, index));
  if (it == entries_.end()) return absl::NotFoundError("no such bundle is reserved on this node");
  if (it->second.committed) return absl::OkStatus();
  it->second.committed = true;
  leases_->AddBundleGpus(IdHex(group_id), index, it->second.gpu_ids, it->second.reserved);
  leases_->AddResources(BundleResources(it->second.reserved, IdHex(group_id), index));
  LOG(INFO) << "placement group " << ShortHex(group_id) << " bundle " << index << " committed: "
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
