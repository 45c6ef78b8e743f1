// The one logging header: everything logs through here, so the backend
// (glog today) can change in one place.
#pragma once
#include <glog/logging.h>

namespace glint {

// Sets up logging for a process; logs go to stderr (daemons are started with
// stderr redirected into the session's log directory).
void InitLogging(const char* argv0);

}  // namespace glint
