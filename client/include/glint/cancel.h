// Cancelling calls, as Ray's ray.cancel does.
//
//   auto ref = glint::Task(Work).Remote();
//   glint::Cancel(ref);                              // ref.Get() throws TaskCancelledError
//   glint::Cancel(ref, {.force = true});             // a running task's worker is killed
//   glint::Cancel(gen);                              // a generator: gen.Next() throws TaskCancelledError
//   if (glint::IsCancelled()) return;                // inside the running call
//
// A call that has not started never runs. A running task or sync/threaded
// actor method is not interrupted: IsCancelled() turns true inside it. A
// running async method is cancelled at the co_await it waits at (or its
// next one): that co_await throws TaskCancelledError inside it, so its
// destructors run. A generator stops at its next co_yield. With
// `recursive` (the default), the calls the cancelled call made are
// cancelled too. `force` kills a running task's worker process; on an actor
// call it is refused (glint::Kill ends an actor). Cancelled tasks are not
// retried. Cancelling a finished call does nothing; only the process that
// made the call can cancel it.
#pragma once
#include "glint/internal/export.h"
#include "glint/internal/runtime_api.h"
#include "glint/object_ref.h"
#include "glint/object_ref_generator.h"

namespace glint {

struct CancelOptions {
  bool force = false;
  bool recursive = true;
};

template <typename T>
void Cancel(const ObjectRef<T>& ref, CancelOptions options = {}) {
  internal::CancelCall(ref.Data(), options.force, options.recursive);
}

template <typename T>
void Cancel(const ObjectRefGenerator<T>& gen, CancelOptions options = {}) {
  internal::CancelCall(gen.Data(), options.force, options.recursive);
}

// Inside a running task or actor method: whether its caller cancelled it.
GLINT_EXPORT bool IsCancelled();

}  // namespace glint
