#include "common/logging.h"

#include <mutex>

namespace glint {

void InitLogging(const char* argv0, bool crash_handler) {
  static std::once_flag once;
  std::call_once(once, [argv0] {
    FLAGS_logtostderr = true;
    if (!google::IsGoogleLoggingInitialized()) google::InitGoogleLogging(argv0);
  });
  static std::once_flag handler;
  // A crash or abort prints its stack to stderr (the process's log).
  if (crash_handler) std::call_once(handler, [] { google::InstallFailureSignalHandler(); });
}

}  // namespace glint
