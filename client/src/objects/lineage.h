// Lineage: how to make an owned object again when its only copy is lost with
// its node (Ray's lineage reconstruction).
//
// Only values a task left in a node's store can be lost that way (small
// results travel inline and live in the owner's memory), so only those
// tasks are kept: the submitter records a task when its result arrives
// stored, and the entry goes when the object is freed. An entry keeps the
// task's by-reference arguments alive, so they can be rebuilt in turn when
// the task runs again and finds them lost too. A rebuild is one more
// attempt of the task and counts against its retries (SetMaxRetries);
// Put objects and actor call results cannot be rebuilt. What the entries
// hold is bounded (kMaxBytes of task specs); past that, new results are
// not kept and are lost for good with their node. Thread-safe.
#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "client/src/objects/memory_store.h"
#include "client/src/objects/reference_counter.h"
#include "proto/common.pb.h"

namespace glint::internal {

// Makes an owned object whose copy at `lost` cannot be read again: nullopt
// when it is being made (or was), else the error value saying why not.
using RebuildFn =
    std::function<std::optional<proto::ObjectValue>(const std::string& object_id, const proto::StoredObject& lost)>;

class Lineage {
 public:
  static constexpr size_t kMaxBytes = 256u << 20;
  using SubmitFn = std::function<void(proto::TaskSpec)>;
  // Borrows `store` and `refs`; `submit` runs a task again.
  Lineage(MemoryStore* store, ReferenceCounter* refs, SubmitFn submit)
      : store_(store), refs_(refs), submit_(std::move(submit)) {}

  // A normal task whose result arrived stored (before the result is put in
  // the store, so its arguments are still held).
  void Record(const proto::TaskSpec& task);
  // The object is freed: its task is not needed any more.
  void Forget(const std::string& object_id);
  // The owned object's copy at `lost` cannot be read: runs its task again
  // (nullopt: the object is being made again, or was already), or the error
  // value saying why it cannot be.
  std::optional<proto::ObjectValue> Rebuild(const std::string& object_id, const proto::StoredObject& lost);

 private:
  struct Entry {
    proto::TaskSpec task;
    size_t bytes = 0;
  };
  void Release(const Entry& e);

  MemoryStore* const store_;
  ReferenceCounter* const refs_;
  const SubmitFn submit_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> tasks_ ABSL_GUARDED_BY(mu_);  // by return object id
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool warned_full_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace glint::internal
