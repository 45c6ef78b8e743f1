// Entry points of a worker process (internal): glint-worker and a driver
// executable re-run in worker mode both end up here.
#pragma once
#include <string>

#include "client/src/runtime.h"
#include "glint/internal/export.h"

namespace glint::internal {

// Serves tasks for the raylet that started this process, then exits.
// (Exported for glint-worker.)
[[noreturn]] GLINT_EXPORT void RunWorkerProcess();
// Tells the raylet this worker cannot start (e.g. its code is missing), then exits.
[[noreturn]] GLINT_EXPORT void FailWorkerStartup(const std::string& why);
// Starts the worker's runtime and makes it the process's (api.cc); fails the
// worker's start-up on an error.
Runtime* StartWorkerRuntime(RuntimeOptions options);

}  // namespace glint::internal
