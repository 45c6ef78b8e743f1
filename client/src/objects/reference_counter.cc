#include "client/src/objects/reference_counter.h"

#include "common/logging.h"
#include "common/rpc.h"

namespace glint::internal {

ReferenceCounter::ReferenceCounter(proto::Address self, MemoryStore* store, OwnerClient* owners,
                                   FreedFn freed)
    : self_(std::move(self)), self_addr_(AddrString(self_)), store_(store), owners_(owners) {
  store_->SetOwnedHooks(
      [this](const std::string&, const proto::ObjectValue& v) {
        for (auto& r : v.contained()) AddLocalRef(r.object_id(), AddrString(r.owner()), /*register_borrow=*/false);
      },
      [this, freed = std::move(freed)](const std::string& id, const proto::ObjectValue& v) {
        if (freed) freed(id, v);
        for (auto& r : v.contained()) RemoveLocalRef(r.object_id(), AddrString(r.owner()));
      });
}

void ReferenceCounter::AddLocalRef(const std::string& id, const std::string& owner, bool register_borrow) {
  {
    absl::MutexLock lock(&mu_);
    if (++local_refs_[id] > 1 || !register_borrow || owner.empty() || owner == self_addr_) return;
  }
  // Registered before this copy is used, so the owner cannot free the object
  // while we hold it (whoever sent it to us holds it until then).
  Borrow(id, owner, true);
}

void ReferenceCounter::RemoveLocalRef(const std::string& id, const std::string& owner) {
  bool owned = owner == self_addr_;
  {
    absl::MutexLock lock(&mu_);
    auto it = local_refs_.find(id);
    if (it == local_refs_.end() || --it->second > 0) return;
    local_refs_.erase(it);
    // An owned object stays while borrowers hold it, or for good once it
    // escaped where nobody reports back (see MarkEscaped).
    if (owned && (escaped_.contains(id) || borrowers_.contains(id))) return;
  }
  if (!owned && !owner.empty()) Borrow(id, owner, false);
  store_->Release(id, owned);
}

void ReferenceCounter::Borrow(const std::string& id, const std::string& owner, bool add) {
  if (!add) {
    owners_->RemoveBorrower(owner, id);
    return;
  }
  // An unreachable owner is reported by Get (OwnerDiedError), not here.
  auto s = owners_->AddBorrower(owner, id);
  if (!s.ok()) VLOG(1) << "cannot register as a borrower of " << owner << ": " << s;
}

void ReferenceCounter::CheckBorrowers() {
  if (stopping_) return;
  absl::flat_hash_set<std::string> borrowers;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, holders] : borrowers_) borrowers.insert(holders.begin(), holders.end());
  }
  for (auto& b : borrowers) {
    owners_->GetObject(b, "", 2000, [this, b](const absl::Status& s, proto::GetObjectReply&) {
      std::vector<std::string> ids;
      {
        absl::MutexLock lock(&mu_);
        // Gone only when it refuses connections twice in a row (a slow
        // answer is not an absence).
        if (!absl::IsUnavailable(s) || stopping_) {
          suspects_.erase(b);
          return;
        }
        if (suspects_.insert(b).second) return;
        suspects_.erase(b);
        for (auto& [id, holders] : borrowers_) {
          if (holders.contains(b)) ids.push_back(id);
        }
      }
      LOG(INFO) << "borrower " << b << " is gone (" << s.message() << "); dropping its references";
      for (auto& id : ids) OnBorrow(id, b, false);
    });
  }
}

bool ReferenceCounter::OnBorrow(const std::string& id, const std::string& borrower, bool add) {
  if (!store_->Contains(id)) return false;
  bool free_now = false;
  {
    absl::MutexLock lock(&mu_);
    if (add) {
      auto& holders = borrowers_[id];
      if (holders.size() < kMaxBorrowers || holders.contains(borrower)) {
        holders.insert(borrower);
      } else {
        escaped_.insert(id);  // too many to follow: kept for good, never freed early
      }
      return true;
    }
    auto it = borrowers_.find(id);
    if (it == borrowers_.end()) return true;
    it->second.erase(borrower);
    if (!it->second.empty()) return true;
    borrowers_.erase(it);
    free_now = !local_refs_.contains(id) && !escaped_.contains(id);
  }
  if (free_now) store_->Release(id, true);
  return true;
}

void ReferenceCounter::MarkEscaped(const std::string& id, const std::string& owner) {
  if (owner != self_addr_) return;
  absl::MutexLock lock(&mu_);
  escaped_.insert(id);
}

void ReferenceCounter::DropIfUnreferenced(const std::string& id) {
  {
    absl::MutexLock lock(&mu_);
    if (local_refs_.contains(id)) return;
  }
  store_->Release(id);
}

void ReferenceCounter::HoldUntilDone(const std::string& return_id, const std::vector<RefData>& refs) {
  if (refs.empty()) return;
  for (auto& r : refs) AddLocalRef(r.id, r.owner);
  store_->OnReady(return_id, [this, refs](const proto::ObjectValue&) {
    for (auto& r : refs) RemoveLocalRef(r.id, r.owner);
  });
}

void ReferenceCounter::HandOverContained(const std::string& caller, proto::ObjectValue* result) {
  if (result->contained_size() == 0) return;
  std::vector<RefData> held;
  for (auto& r : result->contained()) held.push_back({r.object_id(), AddrString(r.owner())});
  result->clear_contained();
  bool ok = result->error().type() == proto::ERROR_NONE;
  absl::flat_hash_set<std::string> listed;
  for (auto& r : held) {
    if (!ok || !listed.insert(r.id).second) continue;
    if (r.owner == self_addr_) {
      OnBorrow(r.id, caller, true);  // on the caller's behalf, before it can read the result
      auto* c = result->add_contained();
      c->set_object_id(r.id);
      *c->mutable_owner() = self_;
    } else {
      AddLocalRef(r.id, r.owner, false);  // borrowed: kept for good (the caller registers itself)
    }
  }
  for (auto& r : held) RemoveLocalRef(r.id, r.owner);
}

void ReferenceCounter::TakeBackContained(const std::string& caller, const std::vector<RefData>& held,
                                         bool handed_over) {
  if (handed_over) {  // the hand-over's steps undone, each reference once as it took them
    absl::flat_hash_set<std::string> listed;
    for (auto& r : held) {
      if (!listed.insert(r.id).second) continue;
      if (r.owner == self_addr_) {
        OnBorrow(r.id, caller, false);
      } else {
        RemoveLocalRef(r.id, r.owner);
      }
    }
    return;
  }
  for (auto& r : held) RemoveLocalRef(r.id, r.owner);
}

void ListContained(proto::ObjectValue* value, const std::vector<RefData>& refs) {
  for (auto& r : refs) {
    auto* c = value->add_contained();
    c->set_object_id(r.id);
    auto owner = ParseAddress(r.owner);
    if (owner.ok()) *c->mutable_owner() = *owner;
  }
}

}  // namespace glint::internal
