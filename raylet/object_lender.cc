#include "raylet/object_lender.h"

#include <sys/stat.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/limits.h"
#include "raylet/same_host_copy.h"

namespace glint::raylet {

ObjectLender::ObjectLender(ObjectStore* store, bool enabled)
    : store_(store), enabled_(enabled), arena_path_(store->arena_path()) {
  struct stat st;
  if (stat(arena_path_.c_str(), &st) == 0) {
    arena_device_ = st.st_dev;
    arena_inode_ = st.st_ino;
  }
}

absl::Status ObjectLender::Lend(const proto::LendObjectRequest& req, int64_t now_ms, proto::LendObjectReply* reply) {
  if (!enabled_ || HostId().empty()) return absl::FailedPreconditionError("this node does not lend objects");
  if (auto s = CheckId("the object id", req.object_id()); !s.ok()) return s;
  if (auto s = CheckAddress("the requester", req.requester(), /*may_be_empty=*/false); !s.ok()) return s;
  if (req.lease_ms() <= 0 || req.lease_ms() > kMaxLeaseMs) {
    return absl::InvalidArgumentError(absl::StrCat("a loan's lease is 1 to ", kMaxLeaseMs, " ms"));
  }
  std::string client;
  {
    absl::MutexLock lock(&mu_);
    if (loans_.size() >= kMaxLoans) {
      return absl::ResourceExhaustedError(absl::StrCat(kMaxLoans, " objects are lent already"));
    }
    // Not an address, so no worker's pin can have this name.
    client = absl::StrCat("loan ", ++next_, " to ", req.requester());
  }
  ObjectLocation where;
  if (!store_->PinToLend(req.object_id(), client, req.requester(), &where)) return absl::OkStatus();
  {
    absl::MutexLock lock(&mu_);
    loans_[client] = {req.object_id(), now_ms + req.lease_ms()};
  }
  reply->set_found(true);
  reply->set_client(client);
  reply->set_host_id(HostId());
  reply->set_arena_path(arena_path_);
  reply->set_arena_device(arena_device_);
  reply->set_arena_inode(arena_inode_);
  reply->set_offset(where.offset);
  reply->set_size(where.size);
  return absl::OkStatus();
}

bool ObjectLender::GiveBack(const std::string& id, const std::string& client) {
  {
    absl::MutexLock lock(&mu_);
    auto it = loans_.find(client);
    if (it == loans_.end() || it->second.object_id != id) return false;
    loans_.erase(it);
  }
  store_->Unpin(id, client);
  return true;
}

void ObjectLender::Expire(int64_t now_ms) {
  std::vector<std::pair<std::string, std::string>> over;  // (object, client)
  {
    absl::MutexLock lock(&mu_);
    for (auto it = loans_.begin(); it != loans_.end();) {
      if (it->second.until_ms > now_ms) {
        ++it;
        continue;
      }
      over.emplace_back(it->second.object_id, it->first);
      loans_.erase(it++);
    }
  }
  for (auto& [id, client] : over) store_->Unpin(id, client);
}

size_t ObjectLender::Loans() {
  absl::MutexLock lock(&mu_);
  return loans_.size();
}

}  // namespace glint::raylet
