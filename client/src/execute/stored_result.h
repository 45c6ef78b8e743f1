// StoredResult: a call's large result packed straight into the node's
// object store, not into a string that is then copied there.
//
// Each call that may return a large value has one. The result's packing
// (PackOrOffer in glint/internal/registry.h) measures the value first and
// offers it: a value big enough for the store is packed into its place in
// the arena, once; anything smaller is packed into the reply as before.
// After the call, MoveInto puts what was stored (where it is, or the
// store's error) into the call's result.
//
// A sync call (a task, a sync or threaded actor's method) is packed where
// it returns, on its thread: its StoredResult waits there (OnThisThread)
// for StoreCallResult. An async actor's call finishes in the last piece of
// its coroutine on the actor's loop, among other calls' pieces: its offer
// is handed to the coroutine's start (AsyncMethodInvoker), so it cannot
// reach another call's StoredResult.
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
  explicit StoredResult(Store store) : store_(std::move(store)) {}
  StoredResult(const StoredResult&) = delete;
  StoredResult& operator=(const StoredResult&) = delete;

  // Offers the call's result: true if it went to the store (the first one
  // the store takes; any later one is not the call's result).
  bool Take(size_t size, const std::function<void(char*)>& write);
  // The stored value (or the store's error) becomes `result`, which keeps
  // the references it lists; false if nothing was stored.
  bool MoveInto(proto::ObjectValue* result);

  // While alive, results offered on this thread (StoreCallResult) go to `to`.
  class OnThisThread {
   public:
    explicit OnThisThread(StoredResult* to);
    ~OnThisThread();
    OnThisThread(const OnThisThread&) = delete;
    OnThisThread& operator=(const OnThisThread&) = delete;

   private:
    StoredResult* outer_;
  };
  // For StoreCallResult: offers a result to this thread's StoredResult.
  static bool Offer(size_t size, const std::function<void(char*)>& write);

 private:
  Store store_;
  std::optional<proto::ObjectValue> stored_;
};

}  // namespace glint::internal
