// ReferenceCounter: who holds which object, so an owner frees a value only
// once nobody can read it any more (see docs/design-notes.md, "Ownership").
//
// It counts this process's ObjectRef copies per object. A copy of an object
// owned elsewhere makes this process a borrower: the first one registers with
// the owner, the last one dropped tells it. For objects this process owns it
// keeps the borrowers that registered, and frees a value (in the memory store,
// whose hooks free its stored copy and the references packed into it) when
// its own copies and all borrowers are gone, unless the reference escaped
// where nobody reports back (kept for good). A borrower that stops answering
// twice in a row has let go (CheckBorrowers, every second).
// Thread-safe; it calls other processes only through OwnerClient.
#pragma once
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "client/src/objects/memory_store.h"
#include "client/src/objects/owner_client.h"
#include "glint/internal/runtime_api.h"
#include "proto/common.pb.h"

namespace glint::internal {

class ReferenceCounter {
 public:
  // Runs for each owned value freed: frees its stored copy, or ends the
  // actor whose handles it stands for (ActorScopes).
  using FreedFn = std::function<void(const std::string& id, const proto::ObjectValue& v)>;
  // `self` is this process's address (owners are named by theirs). Borrows
  // `store` and `owners`, which must outlive it, and sets the store's hooks:
  // an owned value holds the references packed into it while it lives.
  ReferenceCounter(proto::Address self, MemoryStore* store, OwnerClient* owners, FreedFn freed);

  // A copy of the reference appeared here. With `register_borrow` false the
  // owner already counts this process (or another copy here does).
  void AddLocalRef(const std::string& id, const std::string& owner, bool register_borrow = true);
  void RemoveLocalRef(const std::string& id, const std::string& owner);
  // The reference left for a process that will not report back: an owned
  // object is then kept for good.
  void MarkEscaped(const std::string& id, const std::string& owner);
  // The borrowers followed per object: past them the object is kept for
  // good, as one whose reference escaped.
  static constexpr size_t kMaxBorrowers = 10000;
  // The owner's side of borrowing; false if this process has no such object.
  bool OnBorrow(const std::string& id, const std::string& borrower, bool add);
  // Drops a fetched copy that no ObjectRef here holds.
  void DropIfUnreferenced(const std::string& id);
  // Keeps `refs` alive until the call whose result is `return_id` is done.
  void HoldUntilDone(const std::string& return_id, const std::vector<RefData>& refs);
  // A worker's result on its way to `caller`: the caller becomes the
  // borrower of the references packed into it that this process owns (they
  // stay listed for it), borrowed ones are kept here for good, and the holds
  // taken while the result was made are dropped.
  void HandOverContained(const std::string& caller, proto::ObjectValue* result);
  // A result that never reached `caller` (a generator item it dropped while
  // the item was on its way): `held` are the references packed into it.
  // Once handed over, the caller stops borrowing the ones this process owns
  // and the borrowed ones are no longer kept; before, the holds go.
  void TakeBackContained(const std::string& caller, const std::vector<RefData>& held, bool handed_over);
  // Borrowers that no longer answer have let go of everything.
  void CheckBorrowers();
  // No more borrower checks (answers still in flight change nothing).
  void Stop() { stopping_ = true; }

  const std::string& self() const { return self_addr_; }

 private:
  // Tells an owner this process borrows (or no longer borrows) an object.
  void Borrow(const std::string& id, const std::string& owner, bool add);

  const proto::Address self_;
  const std::string self_addr_;
  MemoryStore* const store_;
  OwnerClient* const owners_;
  std::atomic<bool> stopping_{false};
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> local_refs_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> escaped_ ABSL_GUARDED_BY(mu_);
  // Owned objects: the processes that told us they hold references.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> borrowers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> suspects_ ABSL_GUARDED_BY(mu_);  // borrowers that did not answer once
};

// Lists references packed into a value (ObjectValue::contained).
void ListContained(proto::ObjectValue* value, const std::vector<RefData>& refs);

}  // namespace glint::internal
