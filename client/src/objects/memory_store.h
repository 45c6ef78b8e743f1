// MemoryStore: this process's objects: the ones it owns (results of calls it
// made, its Puts) and cached copies of borrowed ones fetched from owners.
//
// Object lifecycle here: (Expect) PENDING --(Put)--> READY. Callbacks
// registered with OnReady run once, on the thread that makes it ready,
// without the lock held. Thread-safe.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/common.pb.h"

namespace glint::internal {

class MemoryStore {
 public:
  using Callback = std::function<void(const proto::ObjectValue&)>;
  // Creates a pending entry; false if one exists already. `owned`: this
  // process owns the object (see SetOwnedHooks).
  bool Expect(const std::string& id, bool owned = false);
  void Put(const std::string& id, proto::ObjectValue value, bool owned = false);
  bool Contains(const std::string& id);
  // The value if ready now.
  std::optional<proto::ObjectValue> TryGet(const std::string& id);
  // Whether the value is here (without copying it).
  bool Ready(const std::string& id);
  // Waits for the value until `deadline`; nullopt at the deadline.
  std::optional<proto::ObjectValue> Get(const std::string& id, absl::Time deadline);
  // Runs `cb` when ready (now, if it is). An unknown id is expected first.
  void OnReady(const std::string& id, Callback cb);
  // Waits until `num_ready` of `ids` are ready or `deadline`; ready flags.
  // With `to_pull`, a value stored on another node counts only once a copy is
  // here (MarkLocal): such values are listed in *to_pull, once each, and the
  // call returns early so the caller can start copying them.
  using PullList = std::vector<std::pair<std::string, proto::StoredObject>>;
  std::vector<bool> Wait(const std::vector<std::string>& ids, size_t num_ready, absl::Time deadline,
                         PullList* to_pull = nullptr);
  // Whether a value is on this node (set once, before use; default: yes).
  using LocalCheck = std::function<bool(const proto::ObjectValue&)>;
  void SetLocalCheck(LocalCheck f) { local_check_ = std::move(f); }
  // A copy of the stored value is on this node now (or could not be made).
  void MarkLocal(const std::string& id);
  // The value's copy in the store of node `lost_node` is lost: the entry is
  // pending again, for a new value (made again by its owner, or fetched
  // from it). True if this call made it so (an absent entry is made
  // pending); false if it is pending already or has a newer value.
  bool Reopen(const std::string& id, const std::string& lost_node);
  // Nobody here needs the object any more: frees it now, or, if it is still
  // pending, right after it arrives and its callbacks ran.
  void Release(const std::string& id, bool owned = false);
  // For owned objects (set once, before use): `arrived` runs when a value
  // holding references arrives, `freed` when a value is freed (to free its
  // copy in a node's store and let go of the references it holds).
  using ValueHook = std::function<void(const std::string& id, const proto::ObjectValue&)>;
  void SetOwnedHooks(ValueHook arrived, ValueHook freed) {
    arrived_ = std::move(arrived);
    freed_ = std::move(freed);
  }

 private:
  struct Entry {
    bool ready = false;
    bool discard = false;  // released while pending
    bool owned = false;    // ... by its owner
    bool local = true;     // the value, or a copy of it, is on this node
    bool pulling = false;  // a copy is being made
    int waiters = 0;       // threads in Get() on this entry
    proto::ObjectValue value;
    std::vector<Callback> callbacks;
  };
  // Erases a discarded entry once nobody reads it; returns an owned value
  // that needs the `freed` hook.
  std::optional<proto::ObjectValue> EraseIfDone(absl::node_hash_map<std::string, Entry>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Freed(const std::string& id, const std::optional<proto::ObjectValue>& v);
  ValueHook arrived_, freed_;
  LocalCheck local_check_;
  absl::Mutex mu_;
  absl::node_hash_map<std::string, Entry> objects_ ABSL_GUARDED_BY(mu_);
};

}  // namespace glint::internal
