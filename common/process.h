// Process helpers: spawning children, checking liveness.
#pragma once
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace glint {

// Starts `argv[0]` with `argv`, extra environment `env` added to ours, stdout
// and stderr appended to `log_path` (or inherited when empty). The child gets
// its own process group when `new_group`; it runs in `cwd` (ours when empty).
// `fd3`, when set, is the child's file descriptor 3 (the others it does not
// inherit when they are close-on-exec, as Glint opens them).
absl::StatusOr<pid_t> SpawnProcess(const std::vector<std::string>& argv,
                                   const std::map<std::string, std::string>& env,
                                   const std::string& log_path, bool new_group, const std::string& cwd = "",
                                   int fd3 = -1);

bool ProcessAlive(pid_t pid);
// The directory holding the running executable.
std::string SelfExeDir();
std::string SelfExePath();

// True for a child that has exited but is not reaped yet.
bool IsZombie(pid_t pid);
// Writes `port` to `path` atomically (via a temporary file and rename).
void WritePortFile(const std::string& path, int port);
// Names the calling thread (as ps and /proc show it; 15 characters at most).
// Glint's own threads are named "glint-...".
void SetThreadName(const char* name);

}  // namespace glint
