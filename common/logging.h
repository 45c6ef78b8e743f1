// The one logging header: everything logs through here, so the backend
// (glog today) can change in one place.
#pragma once
#include <glog/logging.h>

namespace glint {

// Sets up logging for a process; logs go to stderr (daemons are started with
// stderr redirected into the session's log directory). With `crash_handler`,
// a crash prints its stack there too (Glint's own processes; a user's driver
// only when it asks, see Config).
void InitLogging(const char* argv0, bool crash_handler);

}  // namespace glint
