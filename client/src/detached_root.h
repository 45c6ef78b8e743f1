// The detached actor the work this process runs descends from
// (TaskSpec.root_detached_actor), handed on to the work it makes: such work
// outlives its job, as its root does (docs/design-notes.md, "Work a detached
// actor makes outlives its job").
#pragma once
#include <string>

#include "proto/common.pb.h"

namespace glint {

// The root of what the process runs from now on: a task's (a task worker
// runs one at a time), or the actor's for good (its creation task's).
void UseRootOf(const proto::TaskSpec& spec);
// Empty in a driver, and for work that descends from one.
std::string CurrentRoot();
// Marks `spec`, made here, with the current root; an actor created detached
// is the root of what it makes itself.
void MarkRoot(proto::TaskSpec* spec, bool detached_actor);

}  // namespace glint
