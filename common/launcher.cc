#include "common/launcher.h"

#include <dlfcn.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth.h"
#include "common/process.h"
#include "common/session.h"

namespace glint {
namespace {

bool IsExecutable(const std::string& p) { return !p.empty() && access(p.c_str(), X_OK) == 0; }

std::string Dir(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

// Why a daemon could not start, from its log: the last error it logged, or
// else the last line it printed that is not a log line ("" if neither).
std::string LastLoggedError(const std::string& log) {
  std::ifstream f(log);
  std::string line, error, printed;
  while (std::getline(f, line)) {
    bool glog = line.size() > 1 && std::string("IWEF").find(line[0]) != std::string::npos &&
                isdigit(static_cast<unsigned char>(line[1]));
    if (glog && (line[0] == 'E' || line[0] == 'F')) {
      auto end_of_prefix = line.find("] ");  // "E20261202 20:12:25.584803 19787 file.cc:45] "
      error = end_of_prefix == std::string::npos ? line : line.substr(end_of_prefix + 2);
    } else if (!glog && !line.empty()) {
      printed = line;
    }
  }
  return error.empty() ? printed : error;
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
      std::string why = LastLoggedError(log);
      return absl::UnavailableError(absl::StrCat("the daemon exited during start-up", why.empty() ? "" : ": ", why,
                                                 " (log: ", log, ")"));
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

namespace {

// The flags every daemon of the node takes (host, watch, authentication,
// TLS); records the node's authentication in the session on the way.
absl::StatusOr<std::vector<std::string>> CommonFlags(const NodeOptions& o) {
  std::vector<std::string> common;
  common.push_back(absl::StrCat("--host=", o.host));
  if (o.watch_pid > 0) common.push_back(absl::StrCat("--watch_pid=", o.watch_pid));
  AuthOptions auth;
  auth.tls = o.tls;
  if (o.auth_disabled) {
    common.push_back("--auth_disabled");
  } else {
    if (auto s = CheckAuthServable(o.host, o.tls.enabled()); !s.ok()) return s;
    auth.token = o.auth_token;
    if (auth.token.empty() && !o.gcs_address.empty()) {
      return absl::UnauthenticatedError(absl::StrCat("joining the cluster at ", o.gcs_address,
                                                     " needs its token (glint get-auth-token on the head node)"));
    }
    if (auth.token.empty()) auth.token = NewAuthToken();
  }
  if (o.tls.enabled()) {
    if (auto pem = LoadTls(o.tls); !pem.ok()) return pem.status();  // say so here, not in a daemon's log
  }
  auto token_file = RecordAuth(o.session_dir, auth);
  if (!token_file.ok()) return token_file.status();
  if (!token_file->empty()) common.push_back(absl::StrCat("--auth_token_file=", *token_file));
  for (auto& f : TlsFlags(o.tls)) common.push_back(f);
  return common;
}

// The GCS, its store recorded in the session (`glint restart-gcs` reads it).
absl::StatusOr<Daemon> SpawnGcs(const NodeOptions& o, std::vector<std::string> flags) {
  std::string store = o.gcs_store.empty() ? DefaultGcsStore(o.session_dir) : o.gcs_store;
  // A Redis server may hold several clusters: without a namespace of its
  // own, this one takes its session's name (a new cluster starts empty).
  constexpr absl::string_view kRedis = "redis://";
  if (absl::StartsWith(store, kRedis)) {
    auto at = store.rfind('@');
    if (store.find('/', at == std::string::npos ? kRedis.size() : at) == std::string::npos) {
      absl::StrAppend(&store, "/", std::filesystem::path(o.session_dir).filename().string());
    }
  }
  flags.push_back(absl::StrCat("--port=", o.gcs_port));
  flags.push_back(absl::StrCat("--store=", store));
  auto gcs = SpawnDaemon("glint-gcs", o.host, flags, o.session_dir, o.session_dir + "/logs/gcs.log");
  if (gcs.ok()) std::ofstream(o.session_dir + "/gcs_store") << store << "\n";
  return gcs;
}

// The head's dashboard, for the cluster whose GCS is at `gcs_address`.
absl::StatusOr<Daemon> SpawnDashboard(const NodeOptions& o, std::vector<std::string> flags,
                                      const std::string& gcs_address) {
  flags.push_back(absl::StrCat("--gcs_address=", gcs_address));
  flags.push_back(absl::StrCat("--session_dir=", o.session_dir));
  flags.push_back(absl::StrCat("--port=", std::max(o.dashboard_port, 0)));
  auto dashboard = SpawnDaemon("glint-dashboard", o.host, flags, o.session_dir, o.session_dir + "/logs/dashboard.log");
  if (!dashboard.ok()) {
    return absl::Status(dashboard.status().code(), absl::StrCat("the dashboard: ", dashboard.status().message()));
  }
  return dashboard;
}

}  // namespace

absl::StatusOr<Daemon> StartDashboard(const NodeOptions& o) {
  auto common = CommonFlags(o);
  if (!common.ok()) return common.status();
  return SpawnDashboard(o, std::move(*common), o.gcs_address);
}

std::string DefaultGcsStore(const std::string& session_dir) { return absl::StrCat("sqlite:", session_dir, "/gcs.db"); }

absl::StatusOr<Daemon> StartGcs(const NodeOptions& o) {
  auto common = CommonFlags(o);
  if (!common.ok()) return common.status();
  return SpawnGcs(o, std::move(*common));
}

absl::StatusOr<std::vector<Daemon>> StartNode(const NodeOptions& o) {
  std::vector<Daemon> started;
  const std::string logs = (o.node_dir.empty() ? o.session_dir : o.node_dir) + "/logs";
  if (!o.node_dir.empty() && mkdir(logs.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(absl::StrCat("cannot create the node's log directory ", logs, ": ", strerror(errno)));
  }
  auto common_flags = CommonFlags(o);
  if (!common_flags.ok()) return common_flags.status();
  const std::vector<std::string>& common = *common_flags;
  std::string gcs_address = o.gcs_address;
  if (gcs_address.empty()) {
    auto gcs = SpawnGcs(o, common);
    if (!gcs.ok()) return gcs.status();
    started.push_back(*gcs);
    gcs_address = gcs->address;
  }
  auto flags = common;
  flags.push_back(absl::StrCat("--gcs_address=", gcs_address));
  flags.push_back(absl::StrCat("--logs_dir=", logs));
  if (o.gcs_address.empty()) flags.push_back("--head");
  if (o.num_cpus >= 0) flags.push_back(absl::StrCat("--num_cpus=", o.num_cpus));
  if (o.num_gpus >= 0) flags.push_back(absl::StrCat("--num_gpus=", o.num_gpus));
  if (!o.resources_json.empty()) flags.push_back(absl::StrCat("--resources=", o.resources_json));
  flags.insert(flags.end(), o.extra_raylet_flags.begin(), o.extra_raylet_flags.end());
  static std::atomic<int> nodes{0};  // one process may start several nodes within a second
  auto raylet = SpawnDaemon("glint-raylet", o.host, flags, o.session_dir,
                            absl::StrCat(logs, "/raylet-", getpid(), "-", time(nullptr), "-", ++nodes, ".log"));
  if (!raylet.ok()) {
    for (auto& d : started) StopDaemon(d.pid, 1000);
    return raylet.status();
  }
  started.push_back(*raylet);
  if (o.gcs_address.empty() && o.dashboard_port >= 0) {
    auto dashboard = SpawnDashboard(o, common, gcs_address);
    if (!dashboard.ok()) {
      for (auto& d : started) StopDaemon(d.pid, 1000);
      return dashboard.status();
    }
    started.push_back(*dashboard);
  }
  RecordAddress(o.session_dir, gcs_address);
  return started;
}

std::string ObjectStoreDir(const std::string& parent, pid_t raylet_pid) {
  return absl::StrCat(parent, "/glint-objects-", raylet_pid);
}

void RemoveStaleObjectStores(const std::string& parent) {
  constexpr absl::string_view kPrefix = "glint-objects-";
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    std::string name = entry.path().filename();
    int pid = 0;
    if (!absl::StartsWith(name, kPrefix) || !absl::SimpleAtoi(name.substr(kPrefix.size()), &pid)) continue;
    if (pid > 0 && pid != getpid() && ProcessAlive(pid)) continue;
    std::filesystem::remove_all(entry.path(), ec);
  }
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
