// ActorScopes: a non-detached actor lives while a handle to it exists in any
// process. Its handles are references to one small object that the actor's
// creator owns, named by the actor id, so they are counted exactly as
// ObjectRefs are (ReferenceCounter: copies here, borrowers elsewhere, handles
// packed into values and arguments, each call holding its handle until it is
// done). When that object is freed, no handle is left and no call is in
// flight: the actor is killed with the cause "out of scope", which frees its
// process, resources and name (see docs/design-notes.md, "Actor lifetimes").
//
// Detached actors get no such object: their handles count nothing.
// Thread-safe; Freed may run on any thread and never blocks.
#pragma once
#include <functional>
#include <string>

#include "client/src/objects/memory_store.h"
#include "glint/internal/runtime_api.h"
#include "proto/common.pb.h"

namespace glint::internal {

class ActorScopes {
 public:
  // What the death of an actor out of scope records.
  static constexpr const char* kOutOfScope = "out of scope: every handle to the actor was dropped";
  // Asks the GCS to kill the actor (without waiting for the answer).
  using KillFn = std::function<void(const std::string& actor_id, const std::string& reason)>;
  // Borrows `store` (it must outlive this).
  ActorScopes(MemoryStore* store, std::string self, KillFn kill)
      : store_(store), self_(std::move(self)), kill_(std::move(kill)) {}

  // A new actor made here: its handles' reference, owned by this process.
  RefData Adopt(const std::string& actor_id);
  // The handles' reference of an actor looked up from its record: the
  // creator owns it, or nobody for a detached actor.
  static RefData HandleOf(const proto::ActorInfo& actor);
  // The memory store's `freed` hook for owned values: kills the actor whose
  // handles' object `v` is.
  void Freed(const proto::ObjectValue& v);

 private:
  MemoryStore* const store_;
  const std::string self_;
  const KillFn kill_;
};

}  // namespace glint::internal
