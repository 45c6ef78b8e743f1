// The life of a daemon process (glint-gcs, glint-raylet) after its flags are
// read: start, report the port, serve until SIGTERM/SIGINT (or until the
// watched process is gone), stop gracefully.
#pragma once
#include <sys/types.h>

#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace glint {

// First thing in a daemon's main(): sets up logging as `name` and blocks
// the stop signals on this thread, so that every thread made after it (gRPC
// makes some as soon as anything of it is built) leaves them to RunDaemon.
// Turns on gRPC's health service for the servers it builds after.
void BeginDaemon(const char* name);

struct DaemonHooks {
  // Starts serving; the bound port.
  std::function<absl::StatusOr<int>()> start;
  // Stops gracefully (after a signal).
  std::function<void()> stop;
};

// After BeginDaemon: starts, writes the port to `port_file` (if any), exits
// when `watch_pid` (if > 0) is gone, waits for a stop signal and stops.
// Returns the process's exit code.
int RunDaemon(const char* name, const DaemonHooks& hooks, const std::string& port_file, pid_t watch_pid);

// RunDaemon for a server with Start() -> absl::Status, port() and Stop().
template <typename Server>
int RunServer(const char* name, Server& server, const std::string& port_file, pid_t watch_pid) {
  return RunDaemon(name,
                   {[&server]() -> absl::StatusOr<int> {
                      if (auto s = server.Start(); !s.ok()) return s;
                      return server.port();
                    },
                    [&server] { server.Stop(); }},
                   port_file, watch_pid);
}

}  // namespace glint
