// Entry points of a worker process (internal): glint-worker and a driver
// executable re-run in worker mode both end up here.
#pragma once
#include <string>

namespace glint::internal {

// Serves tasks for the raylet that started this process, then exits.
[[noreturn]] void RunWorkerProcess();
// Tells the raylet this worker cannot start (e.g. its code is missing), then exits.
[[noreturn]] void FailWorkerStartup(const std::string& why);

}  // namespace glint::internal
