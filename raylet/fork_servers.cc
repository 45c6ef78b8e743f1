#include "raylet/fork_servers.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/fork_server_protocol.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/process.h"
#include "common/rpc.h"
#include "raylet/worker_spawner.h"

namespace glint::raylet {
namespace {

constexpr size_t kMaxEnded = 10000;
// A fork takes about a millisecond; a server this slow is stuck.
constexpr int kReplyTimeoutMs = 5000;

// One datagram from `fd` within `timeout_ms` (0: only if one is there):
// nullopt on none, "" on the other end closed.
std::optional<std::string> Receive(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  int r;
  while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  if (r <= 0) return std::nullopt;
  char buf[kForkMessageMax];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) < 0 && errno == EINTR) {
  }
  if (n < 0) return std::string();
  return std::string(buf, n);
}

}  // namespace

std::optional<pid_t> ForkServers::Fork(const std::string& job_id, const std::map<std::string, std::string>& env,
                                       const std::string& worker_id_hex, const std::string& log_path) {
  absl::MutexLock lock(&mu_);
  auto it = servers_.find(job_id);
  if (it == servers_.end()) {
    if (!ended_.contains(job_id)) Start(job_id, env);
    return std::nullopt;
  }
  Server& s = it->second;
  if (s.state == State::kStarting) CheckStarted(job_id, s);
  if (s.state != State::kReady) return std::nullopt;
  std::string request = EncodeForkRequest({worker_id_hex, log_path});
  if (send(s.sock, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
    Fail(job_id, s, absl::StrCat("it cannot be reached: ", strerror(errno)));
    return std::nullopt;
  }
  auto reply = Receive(s.sock, kReplyTimeoutMs);
  if (!reply || reply->empty()) {
    Fail(job_id, s, reply ? "it exited" : "it did not answer in time");
    return std::nullopt;
  }
  pid_t pid = 0;
  if (absl::StartsWith(*reply, "pid ") && absl::SimpleAtoi(absl::string_view(*reply).substr(4), &pid) && pid > 0) {
    return pid;
  }
  // The server works, this one fork did not (a log file it could not open,
  // say): this worker starts from scratch, the next is forked again.
  LOG(WARNING) << "job " << ShortHex(job_id) << "'s fork server could not fork a worker: " << *reply;
  return std::nullopt;
}

bool ForkServers::StartingSoon(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = servers_.find(job_id);
  if (it == servers_.end() || it->second.state != State::kStarting) return false;
  CheckStarted(job_id, it->second);
  return it->second.state == State::kStarting && NowMs() - it->second.started_ms < kReadySoonMs;
}

void ForkServers::Start(const std::string& job_id, const std::map<std::string, std::string>& env) {
  Server& s = servers_[job_id];
  s.started_ms = NowMs();
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    Fail(job_id, s, absl::StrCat("socketpair: ", strerror(errno)));
    return;
  }
  auto server_env = env;
  server_env.erase("GLINT_WORKER_ID");
  server_env.insert_or_assign(kForkServerFdEnv, std::to_string(3));  // (SpawnProcess fd3)
  if (!getenv("LD_BIND_NOW") && !env.count("LD_BIND_NOW")) {
    server_env.insert_or_assign("LD_BIND_NOW", std::to_string(1));
    server_env.insert_or_assign(kForkServerBindNowEnv, std::to_string(1));
  }
  std::string log = log_dir_.empty() ? "" : absl::StrCat(log_dir_, "/fork-server-", IdHex(job_id), ".log");
  auto pid = SpawnProcess({worker_path_}, server_env, log, /*new_group=*/false, "", /*fd3=*/pair[1]);
  close(pair[1]);
  s.sock = pair[0];
  if (!pid.ok()) {
    Fail(job_id, s, std::string(pid.status().message()));
    return;
  }
  s.pid = *pid;
}

void ForkServers::CheckStarted(const std::string& job_id, Server& s) {
  auto first = Receive(s.sock, 0);
  if (!first) return;  // still starting
  if (*first == kForkServerReady) {
    s.state = State::kReady;
    return;
  }
  Fail(job_id, s, first->empty() ? "it exited while starting" : *first);
}

void ForkServers::Fail(const std::string& job_id, Server& s, const std::string& why) {
  if (s.state == State::kFailed) return;
  LOG(WARNING) << "job " << ShortHex(job_id) << "'s fork server on this node stopped (" << why
               << "): its workers here start from scratch";
  s.state = State::kFailed;
  Close(s);
  if (s.pid > 0) kill(s.pid, SIGKILL);  // reaped by ReapExited
}

void ForkServers::Close(Server& s) {
  if (s.sock >= 0) close(s.sock);  // a server that still runs exits on this
  s.sock = -1;
}

void ForkServers::EndJob(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  for (auto it = servers_.begin(); it != servers_.end();) {
    if (!job_id.empty() && it->first != job_id) {
      ++it;
      continue;
    }
    Close(it->second);
    if (it->second.pid > 0) {
      kill(it->second.pid, SIGKILL);
      killed_.insert(it->second.pid);
    }
    servers_.erase(it++);
  }
  if (job_id.empty()) {
    // Every server: the raylet is stopping. They die at once (SIGKILL); a
    // raylet inside a test leaves no zombie behind.
    for (int i = 0; i < 100 && ReapKilled() > 0; ++i) usleep(10000);
    return;
  }
  if (ended_.size() >= kMaxEnded) ended_.clear();
  ended_.insert(job_id);
}

size_t ForkServers::ReapKilled() {
  for (auto it = killed_.begin(); it != killed_.end();) {
    pid_t r = waitpid(*it, nullptr, WNOHANG);
    if (r == *it || (r < 0 && errno == ECHILD)) {
      killed_.erase(it++);
    } else {
      ++it;
    }
  }
  return killed_.size();
}

void ForkServers::ReapExited() {
  absl::MutexLock lock(&mu_);
  ReapKilled();
  for (auto& [job_id, s] : servers_) {
    if (s.pid <= 0) continue;
    int status = 0;
    const pid_t pid = s.pid;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r != pid && !(r < 0 && errno == ECHILD)) continue;
    s.pid = 0;  // gone: nothing to kill
    if (s.state == State::kReady) {
      Fail(job_id, s, absl::StrCat("it exited: ", r == pid ? DescribeExit(status) : "not seen"));
    } else if (s.state == State::kStarting) {
      // What it said before it went (its first word) says more than its exit.
      CheckStarted(job_id, s);
      if (s.state == State::kStarting) Fail(job_id, s, "it exited while starting");
    }
  }
}

bool ForkServers::IsServer(pid_t pid) {
  absl::MutexLock lock(&mu_);
  if (killed_.contains(pid)) return true;
  for (auto& [job_id, s] : servers_) {
    if (s.pid == pid) return true;
  }
  return false;
}

}  // namespace glint::raylet
