#include "common/launcher.h"

#include <dlfcn.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth.h"
#include "common/process.h"

namespace glint {
namespace {

bool IsExecutable(const std::string& p) { return !p.empty() && access(p.c_str(), X_OK) == 0; }

std::string Dir(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

// Reads a port written by a daemon's --port_file, waiting up to `ms`.
absl::StatusOr<int> WaitPortFile(const std::string& path, pid_t pid, int ms, const std::string& log) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream f(path);
    int port = 0;
    if (f >> port && port > 0) return port;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid || !ProcessAlive(pid)) {
      return absl::UnavailableError(absl::StrCat("the daemon exited during start-up; see ", log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("the daemon did not become ready; see ", log));
}

// Starts daemon `name` (found with FindBinary) with `flags` and a
// --port_file, logging to `log`, and waits until it reports its port.
absl::StatusOr<Daemon> SpawnDaemon(const std::string& name, const std::string& host,
                                   std::vector<std::string> flags, const std::string& session_dir,
                                   const std::string& log) {
  std::string path = FindBinary(name);
  if (path.empty()) return absl::NotFoundError(absl::StrCat("cannot find the ", name, " program (set GLINT_BIN_DIR)"));
  static std::atomic<int> started{0};
  std::string port_file = absl::StrCat(session_dir, "/", name, ".port.", getpid(), ".", ++started);
  unlink(port_file.c_str());
  flags.insert(flags.begin(), path);
  flags.push_back(absl::StrCat("--port_file=", port_file));
  auto pid = SpawnProcess(flags, {}, log, /*new_group=*/true);
  if (!pid.ok()) return pid.status();
  auto port = WaitPortFile(port_file, *pid, 15000, log);
  unlink(port_file.c_str());
  if (!port.ok()) {
    StopDaemon(*pid, 1000);
    return port.status();
  }
  return Daemon{name, *pid, absl::StrCat(host, ":", *port)};
}

}  // namespace

std::string FindBinary(const std::string& name) {
  if (const char* d = getenv("GLINT_BIN_DIR"); d && IsExecutable(absl::StrCat(d, "/", name))) {
    return absl::StrCat(d, "/", name);
  }
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&FindBinary), &info) && info.dli_fname) {
    std::string p = absl::StrCat(Dir(info.dli_fname), "/../bin/", name);
    if (IsExecutable(p)) return p;
  }
  std::string beside = absl::StrCat(SelfExeDir(), "/", name);
  if (IsExecutable(beside)) return beside;
  if (const char* path = getenv("PATH")) {
    for (auto dir : absl::StrSplit(path, ':')) {
      std::string p = absl::StrCat(dir, "/", name);
      if (IsExecutable(p)) return p;
    }
  }
  return {};
}

std::string SessionRoot() {
  const char* e = getenv("GLINT_TMPDIR");
  return e && *e ? e : "/tmp/glint";
}

absl::StatusOr<std::string> NewSessionDir(bool latest) {
  const std::string root = SessionRoot();
  mkdir(root.c_str(), 0755);
  char stamp[64];
  std::time_t t = std::time(nullptr);
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d_%H-%M-%S", std::localtime(&t));
  std::string dir = absl::StrCat(root, "/session_", stamp, "_", getpid());
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat("cannot create ", dir));
  }
  mkdir((dir + "/logs").c_str(), 0755);
  if (latest) {
    std::string tmp = root + "/session_latest.tmp";
    unlink(tmp.c_str());
    if (symlink(dir.c_str(), tmp.c_str()) == 0) rename(tmp.c_str(), (root + "/session_latest").c_str());
  }
  return dir;
}

absl::StatusOr<std::vector<Daemon>> StartNode(const NodeOptions& o) {
  std::vector<Daemon> started;
  const std::string logs = o.session_dir + "/logs";
  std::vector<std::string> common;
  common.push_back(absl::StrCat("--host=", o.host));
  if (o.watch_pid > 0) common.push_back(absl::StrCat("--watch_pid=", o.watch_pid));
  if (o.auth_disabled) {
    common.push_back("--auth_disabled");
  } else {
    if (auto s = CheckAuthServable(o.host); !s.ok()) return s;
    std::string token = o.auth_token;
    if (token.empty() && !o.gcs_address.empty()) {
      return absl::UnauthenticatedError(absl::StrCat("joining the cluster at ", o.gcs_address,
                                                     " needs its token (glint get-auth-token on the head node)"));
    }
    if (token.empty()) token = NewAuthToken();
    std::string file = o.session_dir + "/auth_token";
    if (auto w = WriteTokenFile(file, token); !w.ok()) return w;
    common.push_back(absl::StrCat("--auth_token_file=", file));
  }
  std::string gcs_address = o.gcs_address;
  if (gcs_address.empty()) {
    auto flags = common;
    flags.push_back(absl::StrCat("--port=", o.gcs_port));
    auto gcs = SpawnDaemon("glint-gcs", o.host, flags, o.session_dir, logs + "/gcs.log");
    if (!gcs.ok()) return gcs.status();
    started.push_back(*gcs);
    gcs_address = gcs->address;
  }
  auto flags = common;
  flags.push_back(absl::StrCat("--gcs_address=", gcs_address));
  flags.push_back(absl::StrCat("--logs_dir=", logs));
  if (o.gcs_address.empty()) flags.push_back("--head");
  if (o.num_cpus >= 0) flags.push_back(absl::StrCat("--num_cpus=", o.num_cpus));
  if (o.num_gpus > 0) flags.push_back(absl::StrCat("--num_gpus=", o.num_gpus));
  if (!o.resources_json.empty()) flags.push_back(absl::StrCat("--resources=", o.resources_json));
  flags.insert(flags.end(), o.extra_raylet_flags.begin(), o.extra_raylet_flags.end());
  auto raylet = SpawnDaemon("glint-raylet", o.host, flags, o.session_dir,
                            absl::StrCat(logs, "/raylet-", getpid(), "-", time(nullptr), ".log"));
  if (!raylet.ok()) {
    for (auto& d : started) StopDaemon(d.pid, 1000);
    return raylet.status();
  }
  started.push_back(*raylet);
  std::ofstream(o.session_dir + "/gcs_address") << gcs_address << "\n";
  return started;
}

std::string LocalClusterToken(const std::string& gcs_address) {
  std::vector<std::filesystem::directory_entry> sessions;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(SessionRoot(), ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("session_", 0) == 0 && !e.is_symlink(ec)) sessions.push_back(e);
  }
  // Newest first: a port may have served an older cluster too.
  std::sort(sessions.begin(), sessions.end(), [](const auto& a, const auto& b) {
    std::error_code e1, e2;
    return a.last_write_time(e1) > b.last_write_time(e2);
  });
  for (auto& e : sessions) {
    std::ifstream f(e.path().string() + "/gcs_address");
    std::string address;
    if (!(f >> address) || address != gcs_address) continue;
    auto token = ReadTokenFile(e.path().string() + "/auth_token");
    if (token.ok()) return *token;
  }
  return {};
}

void StopDaemon(pid_t pid, int grace_ms) {
  if (pid <= 0 || kill(pid, SIGTERM) != 0) return;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, nullptr, WNOHANG) == pid || !ProcessAlive(pid)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

}  // namespace glint
