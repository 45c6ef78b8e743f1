// ObjectGetter: Get, Wait and OnReady on object references, owned or
// borrowed, inline or stored. A borrowed object is fetched from its owner
// into the memory store the first time it is asked for; a stored value on
// another node is copied to this node before it counts as ready where the
// caller asks for that (fetch_local). Thread-safe.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/src/objects/memory_store.h"
#include "client/src/objects/node_store.h"
#include "client/src/objects/owner_client.h"
#include "glint/internal/runtime_api.h"

namespace glint::internal {

class ObjectGetter {
 public:
  // Called around a blocking Get (true, then false) that has waited
  // kBlockedAfter already: a task lends its CPU back to the node meanwhile.
  using BlockedHook = std::function<void(bool blocked)>;
  static constexpr absl::Duration kBlockedAfter = absl::Milliseconds(2);
  // Borrows `store`, `node_store` and `owners`, which must outlive it.
  ObjectGetter(std::string self, MemoryStore* store, NodeStore* node_store, OwnerClient* owners,
               BlockedHook on_blocked)
      : self_(std::move(self)),
        store_(store),
        node_store_(node_store),
        owners_(owners),
        on_blocked_(std::move(on_blocked)) {}

  // The value, or nullopt at the timeout (< 0: none). Errors come as values.
  std::optional<proto::ObjectValue> Get(const RefData& ref, int64_t timeout_ms);
  // ready[i] for each ref, once `num_returns` are ready or at the timeout.
  std::vector<bool> Wait(const std::vector<RefData>& refs, int num_returns, int64_t timeout_ms, bool fetch_local);
  // Runs `fn` once the object is ready here (a stored value from another
  // node copied here first).
  void OnReady(const RefData& ref, std::function<void()> fn);
  bool IsReady(const RefData& ref) { return store_->Ready(ref.id); }
  // The value if it is here now (errors come as values).
  std::optional<proto::ObjectValue> TryGet(const RefData& ref) { return store_->TryGet(ref.id); }

 private:
  // Starts fetching a borrowed object from its owner into the store.
  void Fetch(const RefData& ref);

  const std::string self_;
  MemoryStore* const store_;
  NodeStore* const node_store_;
  OwnerClient* const owners_;
  const BlockedHook on_blocked_;
};

}  // namespace glint::internal
