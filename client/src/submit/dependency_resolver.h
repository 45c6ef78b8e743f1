// DependencyResolver: a call's arguments on the caller's side.
//
// Packing (Pack): a by-value argument travels inline, or, when large, is put
// in the node's object store once and read there by the callee; a reference
// travels as a reference. The references among the arguments (and packed
// inside them) are listed for the caller to hold until the call is done.
// Resolving: an argument this process owns is sent as its value (inline or
// by location) once ready, so the callee never has to ask back; one owned
// elsewhere stays a reference the callee fetches from its owner. A task
// waits (without a thread) for its owned arguments (Resolve); an actor call,
// which must keep its place in line, takes the ready ones inline and sends
// the others by reference (InlineReady). A failed argument fails the call
// with the argument's error, as in Ray. Thread-safe.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "client/src/objects/memory_store.h"
#include "client/src/objects/reference_counter.h"
#include "glint/internal/runtime_api.h"
#include "proto/common.pb.h"

namespace glint::internal {

class DependencyResolver {
 public:
  // Puts a value of `size` bytes that `write` packs into the node's store;
  // returns its reference, with where it is stored in *where.
  using StoreFn = std::function<absl::StatusOr<RefData>(size_t size, const std::function<void(char*)>& write,
                                                        proto::StoredObject* where)>;
  // Borrows `store` and `refs`, which must outlive it. Values of at least
  // `inline_threshold` bytes go through `put_stored`.
  DependencyResolver(proto::Address self, MemoryStore* store, ReferenceCounter* refs, size_t inline_threshold,
                     StoreFn put_stored)
      : self_(std::move(self)),
        self_addr_(refs->self()),
        store_(store),
        refs_(refs),
        inline_threshold_(inline_threshold),
        put_stored_(std::move(put_stored)) {}

  // Adds `args` to `spec`; the references to hold until the call is done go
  // to `held`. A creation task's large arguments stay inline (it is replayed
  // on every restart, long after a stored copy would be freed).
  absl::Status Pack(std::vector<WireArg>& args, proto::TaskSpec& spec, std::vector<RefData>& held);
  // Waits for owned arguments that are not ready yet, inlines their values,
  // then calls `submit` (at once when nothing is pending). A failed argument
  // becomes the call's result instead.
  void Resolve(proto::TaskSpec spec, std::function<void(proto::TaskSpec)> submit);
  // Inlines owned arguments that are ready; the others go by reference
  // (kept for good with `pin_unready`, for a creation task's restarts).
  void InlineReady(proto::TaskSpec& spec, bool pin_unready);

 private:
  // An owned argument's ready value goes into the call: inline or by location.
  static void SetArgValue(proto::TaskArg* a, const proto::ObjectValue& v);
  bool IsOwnedRef(const proto::TaskArg& a) const;

  const proto::Address self_;
  const std::string self_addr_;
  MemoryStore* const store_;
  ReferenceCounter* const refs_;
  const size_t inline_threshold_;
  const StoreFn put_stored_;
};

}  // namespace glint::internal
