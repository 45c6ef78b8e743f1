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
#include "client/src/objects/lineage.h"
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
  // Borrows `store`, `node_store` and `owners`, which must outlive it;
  // `rebuild` makes this process's own lost objects again.
  ObjectGetter(std::string self, MemoryStore* store, NodeStore* node_store, OwnerClient* owners,
               BlockedHook on_blocked, RebuildFn rebuild)
      : self_(std::move(self)),
        store_(store),
        node_store_(node_store),
        owners_(owners),
        on_blocked_(std::move(on_blocked)),
        rebuild_(std::move(rebuild)) {}

  // The value, or nullopt at the timeout (< 0: none). Errors come as values.
  std::optional<proto::ObjectValue> Get(const RefData& ref, int64_t timeout_ms);
  // Get, then the value's bytes read in place into `out` (a stored value on
  // another node copied here first). A stored copy lost with its node is
  // made again by the object's owner where its lineage allows (see
  // lineage.h), then read again. `known`: where the value is stored, as its
  // owner said (no Get first). The value (an error value, or `out` holds the
  // bytes), or nullopt at the timeout.
  std::optional<proto::ObjectValue> Read(const RefData& ref, int64_t timeout_ms, Bytes* out,
                                         const proto::StoredObject* known = nullptr);
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
  // The owner's answer about a borrowed object, into the store.
  void PutAnswer(const RefData& ref, const absl::Status& s, proto::GetObjectReply& reply);
  // The copy at `lost` cannot be read: has its owner make it again (this
  // process, or the owner asked), nullopt; else why it cannot be.
  std::optional<proto::ObjectValue> Recover(const RefData& ref, const proto::StoredObject& lost);

  const std::string self_;
  MemoryStore* const store_;
  NodeStore* const node_store_;
  OwnerClient* const owners_;
  const BlockedHook on_blocked_;
  const RebuildFn rebuild_;
};

}  // namespace glint::internal
