#include "testing/runtime_probe.h"

#include "client/src/runtime.h"

namespace glint::testing {

int64_t LiveRuntimes() { return internal::Runtime::Live(); }

}  // namespace glint::testing
