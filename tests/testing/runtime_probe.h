// What a test may ask of the runtime inside its own process, beyond the
// public API (link glint_core, not libglint, to use it).
#pragma once
#include <cstdint>

namespace glint::testing {

// How many runtimes exist in this process: 0 before Init and after Shutdown.
int64_t LiveRuntimes();

}  // namespace glint::testing
