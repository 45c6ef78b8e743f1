#include "common/logging.h"

#include <google/protobuf/stubs/logging.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace glint {
namespace {

// Protobuf logs each request it cannot parse (a string field with bytes
// that are not UTF-8, say): a client could fill a daemon's log, one line
// per request. The first few, then one in 10,000, with the count.
void RateLimitedProtobufLog(google::protobuf::LogLevel, const char* file, int line,
                            const std::string& message) {
  static std::atomic<int64_t> count{0};
  int64_t n = ++count;
  if (n <= 10 || n % 10000 == 0) {
    LOG(WARNING) << "protobuf (" << file << ":" << line << ", message " << n << " so far): " << message;
  }
}

}  // namespace

void InitLogging(const char* argv0, bool crash_handler) {
  static std::once_flag once;
  std::call_once(once, [argv0] {
    FLAGS_logtostderr = true;
    if (!google::IsGoogleLoggingInitialized()) google::InitGoogleLogging(argv0);
    google::protobuf::SetLogHandler(&RateLimitedProtobufLog);
  });
  static std::once_flag handler;
  // A crash or abort prints its stack to stderr (the process's log).
  if (crash_handler) std::call_once(handler, [] { google::InstallFailureSignalHandler(); });
}

}  // namespace glint
