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
  // Creates a pending entry; false if one exists already.
  bool Expect(const std::string& id);
  void Put(const std::string& id, proto::ObjectValue value);
  bool Contains(const std::string& id);
  // The value if ready now.
  std::optional<proto::ObjectValue> TryGet(const std::string& id);
  // Waits for the value until `deadline`; nullopt at the deadline.
  std::optional<proto::ObjectValue> Get(const std::string& id, absl::Time deadline);
  // Runs `cb` when ready (now, if it is). An unknown id is expected first.
  void OnReady(const std::string& id, Callback cb);
  // Waits until `num_ready` of `ids` are ready or `deadline`; ready flags.
  std::vector<bool> Wait(const std::vector<std::string>& ids, size_t num_ready, absl::Time deadline);
  // Nobody here needs the object any more: frees it now, or, if it is still
  // pending, right after it arrives and its callbacks ran.
  void Release(const std::string& id);

 private:
  struct Entry {
    bool ready = false;
    bool discard = false;  // released while pending
    int waiters = 0;       // threads in Get() on this entry
    proto::ObjectValue value;
    std::vector<Callback> callbacks;
  };
  absl::Mutex mu_;
  absl::node_hash_map<std::string, Entry> objects_ ABSL_GUARDED_BY(mu_);
};

}  // namespace glint::internal
