// StoredResult: a sync call's large result packed straight into the node's
// object store, not into a string that is then copied there.
//
// While a call runs on a thread, its StoredResult waits there. The result's
// packing (PackResult in glint/internal/registry.h) measures the value first
// and offers it through StoreCallResult: a value big enough for the store is
// packed into its place in the arena, once; anything smaller is packed into
// the reply as before. After the call, MoveInto puts what was stored (where
// it is, or the store's error) into the call's result.
//
// Only sync calls (tasks, sync and threaded actors' methods) have one: an
// async actor's calls run in pieces on its loop, and their results take the
// string path.
#pragma once
#include <cstddef>
#include <functional>
#include <optional>

#include "proto/common.pb.h"

namespace glint::internal {

class StoredResult {
 public:
  // Stores a value of `size` bytes that `write` packs, or says (nullopt)
  // that a value of that size goes inline.
  using Store = std::function<std::optional<proto::ObjectValue>(size_t size, const std::function<void(char*)>& write)>;
  // While alive, the first result offered on this thread goes to `store`.
  explicit StoredResult(Store store);
  ~StoredResult();
  StoredResult(const StoredResult&) = delete;
  StoredResult& operator=(const StoredResult&) = delete;

  // The stored value (or the store's error) becomes `result`, which keeps
  // the references it lists; false if nothing was stored.
  bool MoveInto(proto::ObjectValue* result);

  // For StoreCallResult: offers a result to this thread's StoredResult.
  static bool Offer(size_t size, const std::function<void(char*)>& write);

 private:
  Store store_;
  std::optional<proto::ObjectValue> stored_;
  StoredResult* outer_;
};

}  // namespace glint::internal
