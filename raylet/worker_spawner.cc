#include "raylet/worker_spawner.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/ids.h"
#include "common/session.h"
#include "common/logging.h"
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

std::string ProcessSpawner::LogPath(const std::string& worker_id, pid_t pid) const {
  if (options_.log_dir.empty()) return "";
  return absl::StrCat(options_.log_dir, "/", WorkerLogName(worker_id, pid));
}

absl::Status CheckCodePath(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot load the job's code: ", path, " does not exist on this node"));
  }
  bool library = absl::EndsWith(path, ".so") || absl::StrContains(path, ".so.");
  if (!S_ISREG(st.st_mode) || access(path.c_str(), library ? R_OK : X_OK) != 0) {
    return absl::PermissionDeniedError(absl::StrCat("cannot load the job's code: ", path, " is not a regular ",
                                                    library ? "readable library" : "executable file"));
  }
  return absl::OkStatus();
}

ProcessSpawner::ProcessSpawner(SpawnerOptions options) : options_(std::move(options)) {
  if (!options_.fork_workers) return;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    LOG(WARNING) << "cannot adopt forked workers (" << strerror(errno) << "): every worker starts from scratch";
    return;
  }
  forks_ = std::make_unique<ForkServers>(options_.worker_path, options_.log_dir);
}

absl::StatusOr<pid_t> ProcessSpawner::Spawn(const std::string& worker_id, const proto::JobInfo& job) {
  const auto& o = options_;
  for (const auto& path : job.code().paths()) {
    if (auto s = CheckCodePath(path); !s.ok()) return s;
  }
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
  env.merge(AuthEnvironment(o.auth));
  std::optional<pid_t> forked;
  if (forks_) forked = forks_->Fork(job.job_id(), env, IdHex(worker_id), LogPath(worker_id, 0));
  absl::StatusOr<pid_t> pid =
      forked ? *forked : SpawnProcess({o.worker_path}, env, LogPath(worker_id, 0), /*new_group=*/false);
  if (!pid.ok()) return pid;
  ++(forked ? forked_ : spawned_);
  {
    absl::MutexLock lock(&mu_);
    children_.insert(*pid);
  }
  if (o.log_dir.empty()) return pid;
  // The child writes through the file it opened, whatever its name now.
  std::string named = LogPath(worker_id, *pid);
  if (rename(LogPath(worker_id, 0).c_str(), named.c_str()) != 0) named = LogPath(worker_id, 0);
  if (o.monitor) o.monitor->Watch(worker_id, *pid, job, named);
  return pid;
}

void ProcessSpawner::Kill(pid_t pid) {
  if (pid > 0) kill(pid, SIGKILL);
}

bool ProcessSpawner::Alive(pid_t pid) { return ProcessAlive(pid) && !IsZombie(pid); }

void ProcessSpawner::JobEnded(const std::string& job_id) {
  if (forks_) forks_->EndJob(job_id);
}

std::optional<std::string> ProcessSpawner::Reap(pid_t pid) {
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r != pid && !(r < 0 && errno == ECHILD)) return std::nullopt;
  {
    absl::MutexLock lock(&mu_);
    children_.erase(pid);
  }
  return r == pid ? DescribeExit(status) : "exit not seen (not a child of this raylet)";
}

void ProcessSpawner::ReapOthers() {
  if (!forks_) return;
  forks_->ReapExited();
  // Orphans adopted as a subreaper: the first exited child that is not a
  // worker or a server (those are reaped by their owners, who want to
  // know how they ended), again while there is one. Bounded per round.
  for (int i = 0; i < 64; ++i) {
    siginfo_t info{};
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
    pid_t pid = info.si_pid;
    {
      absl::MutexLock lock(&mu_);
      if (children_.contains(pid)) return;
    }
    if (forks_->IsServer(pid)) return;
    waitpid(pid, nullptr, WNOHANG);
  }
}

}  // namespace glint::raylet
