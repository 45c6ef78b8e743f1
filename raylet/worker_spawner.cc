#include "raylet/worker_spawner.h"

#include <signal.h>
#include <sys/wait.h>

#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/ids.h"
#include "common/process.h"

namespace glint::raylet {

std::string DescribeExit(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    return absl::StrCat("killed by signal ", sig, " (", strsignal(sig), ")");
  }
  if (WIFEXITED(status)) return absl::StrCat("exit code ", WEXITSTATUS(status));
  return "unknown exit";
}

std::string ProcessSpawner::LogPath(const std::string& worker_id) const {
  return options_.log_dir.empty() ? "" : absl::StrCat(options_.log_dir, "/worker-", ShortHex(worker_id), ".log");
}

absl::StatusOr<pid_t> ProcessSpawner::Spawn(const std::string& worker_id, const proto::JobInfo& job) {
  const auto& o = options_;
  std::map<std::string, std::string> env = {
      {"GLINT_GCS_ADDRESS", o.gcs_address},
      {"GLINT_RAYLET_ADDRESS", o.raylet_address},
      {"GLINT_NODE_ID", IdHex(o.node_id)},
      {"GLINT_NODE_IP", o.node_ip},
      {"GLINT_WORKER_ID", IdHex(worker_id)},
      {"GLINT_JOB_ID", IdHex(job.job_id())},
      {"GLINT_NAMESPACE", job.ray_namespace()},
      {"GLINT_CODE_PATHS", absl::StrJoin(job.code().paths(), ":")},
      {"GLINT_LOG_DIR", o.log_dir},
  };
  // The environment of a process is readable by its own user only.
  if (!o.auth_token.empty()) env["GLINT_AUTH_TOKEN"] = o.auth_token;
  return SpawnProcess({o.worker_path}, env, LogPath(worker_id), /*new_group=*/false);
}

void ProcessSpawner::Kill(pid_t pid) {
  if (pid > 0) kill(pid, SIGKILL);
}

bool ProcessSpawner::Alive(pid_t pid) { return ProcessAlive(pid) && !IsZombie(pid); }

std::optional<std::string> ProcessSpawner::Reap(pid_t pid) {
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) return DescribeExit(status);
  if (r < 0 && errno == ECHILD) return "exit not seen (not a child of this raylet)";
  return std::nullopt;
}

}  // namespace glint::raylet
