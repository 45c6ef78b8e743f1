// TestCluster: real glint-gcs and glint-raylet processes on loopback (free
// ports) for integration tests, stopped however the test ends. Also helpers
// to wait on conditions with deadlines (never sleeps as synchronisation).
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <glint/api.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/auth.h"
#include "common/http_client.h"
#include "common/launcher.h"
#include "common/rpc.h"
#include "common/session.h"
#include "proto/raylet.grpc.pb.h"
#include "testing/shell.h"

namespace glint::testing {

class TestCluster {
 public:
  // A head node with `cpus` CPUs, `resources` (JSON), extra raylet flags and
  // TLS settings (none: loopback with local credentials).
  // `gcs_store`: the GCS's --store (empty: a SQLite file in the session).
  // `dashboard`: the head runs a dashboard too (on a free port).
  explicit TestCluster(double cpus, const std::string& resources = "",
                       std::vector<std::string> raylet_flags = {}, TlsFiles tls = {}, std::string gcs_store = "",
                       bool dashboard = false)
      : tls_(std::move(tls)), gcs_store_(std::move(gcs_store)), dashboard_(dashboard) {
    auto dir = NewSessionDir();
    if (!dir.ok()) throw std::runtime_error(std::string(dir.status().message()));
    session_ = *dir;
    token_ = NewAuthToken();
    daemons_ = StartNode("", cpus, resources, raylet_flags);
    gcs_address_ = daemons_[0].address;
  }
  ~TestCluster() {
    for (auto it = daemons_.rbegin(); it != daemons_.rend(); ++it) StopDaemon(it->pid, 3000);
  }
  // Adds a worker node; returns its raylet's address.
  std::string AddNode(double cpus, const std::string& resources = "", std::vector<std::string> raylet_flags = {}) {
    daemons_.push_back(StartNode(gcs_address_, cpus, resources, raylet_flags).back());
    return daemons_.back().address;
  }
  // Kills a node's raylet with SIGKILL (its workers follow it).
  void KillNode(const std::string& raylet_address) {
    for (auto it = daemons_.begin(); it != daemons_.end(); ++it) {
      if (it->address != raylet_address || it->name != "glint-raylet") continue;
      kill(it->pid, SIGKILL);
      StopDaemon(it->pid, 3000);  // reaps it
      daemons_.erase(it);
      return;
    }
  }
  // Kills the GCS with SIGKILL (the nodes and their workers stay).
  void KillGcs() {
    if (daemons_[0].pid == 0) return;
    kill(daemons_[0].pid, SIGKILL);
    StopDaemon(daemons_[0].pid, 3000);  // reaps it
    daemons_[0].pid = 0;
  }
  // Starts the GCS again on its port and store (killing it first if it runs).
  void RestartGcs() {
    KillGcs();
    NodeOptions o = Options("", 0, "", {});
    o.gcs_port = std::stoi(gcs_address_.substr(gcs_address_.rfind(':') + 1));
    auto d = glint::StartGcs(o);
    if (!d.ok()) throw std::runtime_error(std::string(d.status().message()));
    daemons_[0] = *d;
  }
  // Kills the dashboard with SIGKILL and starts a new one (on a free port),
  // as a head whose dashboard died would get it back.
  void RestartDashboard() {
    for (auto& d : daemons_) {
      if (d.name != "glint-dashboard") continue;
      kill(d.pid, SIGKILL);
      StopDaemon(d.pid, 3000);  // reaps it
      NodeOptions o = Options(gcs_address_, 0, "", {});
      o.dashboard_port = 0;
      auto started = glint::StartDashboard(o);
      if (!started.ok()) throw std::runtime_error(std::string(started.status().message()));
      d = *started;
      return;
    }
  }
  // The pid of the raylet at `raylet_address` (0: none of ours).
  pid_t raylet_pid(const std::string& raylet_address) const {
    for (auto& d : daemons_) {
      if (d.name == "glint-raylet" && d.address == raylet_address) return d.pid;
    }
    return 0;
  }
  const std::string& gcs_address() const { return gcs_address_; }
  // The cluster token (drivers on this machine also find it in the session).
  const std::string& auth_token() const { return token_; }
  const std::string& head_raylet_address() const { return daemons_[1].address; }
  // The dashboard's HOST:PORT ("" without one).
  std::string dashboard_address() const {
    for (auto& d : daemons_) {
      if (d.name == "glint-dashboard") return d.address;
    }
    return "";
  }
  pid_t gcs_pid() const { return daemons_[0].pid; }
  // The session directory (the daemons' and workers' logs are in logs/).
  const std::string& session_dir() const { return session_; }
  pid_t head_raylet_pid() const { return daemons_[1].pid; }

 private:
  // Starts a raylet (and a GCS when `gcs` is empty); they exit with this process.
  std::vector<Daemon> StartNode(const std::string& gcs, double cpus, const std::string& resources,
                                         const std::vector<std::string>& raylet_flags) {
    auto d = glint::StartNode(Options(gcs, cpus, resources, raylet_flags));
    if (!d.ok()) throw std::runtime_error(std::string(d.status().message()));
    return *d;
  }
  NodeOptions Options(const std::string& gcs, double cpus, const std::string& resources,
                      const std::vector<std::string>& raylet_flags) {
    NodeOptions o;
    o.extra_raylet_flags = raylet_flags;
    o.gcs_address = gcs;
    o.gcs_port = 0;
    o.num_cpus = cpus;
    o.resources_json = resources;
    o.session_dir = session_;
    o.watch_pid = getpid();
    o.auth_token = token_;
    o.tls = tls_;
    o.gcs_store = gcs_store_;
    if (gcs.empty() && dashboard_) o.dashboard_port = 0;
    return o;
  }
  const TlsFiles tls_;
  const std::string gcs_store_;
  const bool dashboard_;
  std::string session_;
  std::string token_;
  std::string gcs_address_;
  std::vector<Daemon> daemons_;
};

// A test suite with its own cluster, this process connected as its driver.
// Derived suites call StartSuite from their SetUpTestSuite.
class ClusterTest : public ::testing::Test {
 protected:
  static void StartSuite(double cpus, const std::string& resources = "", const std::string& ns = "",
                         std::vector<std::string> raylet_flags = {}, TlsFiles tls = {}, bool dashboard = false) {
    cluster_ = new TestCluster(cpus, resources, std::move(raylet_flags), std::move(tls), "", dashboard);
    glint::Config c;
    c.address = cluster_->gcs_address();
    c.namespace_ = ns;
    glint::Init(c);
  }
  static void TearDownTestSuite() {
    glint::Shutdown();
    delete cluster_;
    cluster_ = nullptr;
  }
#ifdef GLINT_CLI_PATH
  // Runs the glint CLI with `args` against this suite's cluster: its output
  // (stdout and stderr) and exit status.
  static std::pair<std::string, int> Cli(const std::string& args) {
    int status = 0;
    std::string out =
        RunCommand(std::string(GLINT_CLI_PATH) + " " + args + " --address " + cluster_->gcs_address() + " 2>&1", &status);
    return {out, WEXITSTATUS(status)};
  }
  // The same with --json, parsed (null when it is not JSON); it must exit 0.
  static nlohmann::json CliJson(const std::string& args) {
    auto [out, status] = Cli(args + " --json");
    EXPECT_EQ(status, 0) << args << ": " << out;
    return nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  }
  // The value of the head raylet's first /metrics line that starts with
  // `series` (e.g. "glint_node_lease_calls_total{") and holds `with` (a
  // label, say); -1 if it has none.
  static double HeadMetric(const std::string& series, const std::string& with = "") {
    std::string address;
    for (const auto& n : CliJson("list nodes")) {
      if (n.value("is_head", false)) address = n.value("metrics_address", "");
    }
    glint::HttpCallOptions o;
    o.token = cluster_->auth_token();
    auto r = glint::HttpCall(address, "GET", "/metrics", "", o);
    if (!r.ok()) return -1;
    std::istringstream in(r->body);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(series, 0) == 0 && line.find(with) != std::string::npos) {
        return std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
      }
    }
    return -1;
  }
#endif
  static inline TestCluster* cluster_ = nullptr;
};

#ifdef GLINT_CLI_PATH
// Runs the glint CLI with `args`; its stdout and stderr.
inline std::string RunCli(const std::string& args) {
  int status = 0;
  return RunCommand(std::string(GLINT_CLI_PATH) + " " + args + " 2>&1", &status);
}
#endif

// A node's object store, as its raylet reports it.
inline proto::ObjectStoreInfo StoreInfo(const std::string& raylet) {
  auto stub = MakeStub<proto::RayletService>(raylet);
  grpc::ClientContext ctx;
  SetDeadlineMs(&ctx, 5000);
  proto::GetStoreInfoReply reply;
  EXPECT_TRUE(stub->GetStoreInfo(&ctx, {}, &reply).ok()) << raylet;
  return reply.info();
}

// Polls `pred` every 10 ms until it holds or `timeout` passes.
inline bool WaitUntil(const std::function<bool()>& pred,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// The message of the glint::Error that `f` throws ("no error" if none).
inline std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const glint::Error& e) {
    return e.what();
  }
  return "no error";
}

// For EXPECT_PRED2(Contains, text, part): the text is shown when it fails.
inline bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

inline bool FileExists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// What `path` holds ("" if it cannot be opened; what was read before an
// error). Read with read(2): a /proc file of a process that exits meanwhile
// fails with ESRCH, which a stream buffer throws from its iterator.
inline std::string ReadFile(const std::string& path) {
  std::string s;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return s;
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) s.append(buf, static_cast<size_t>(n));
  close(fd);
  return s;
}

inline void Touch(const std::string& path) { std::ofstream(path) << "x"; }

// A process's resident memory in bytes (0 if it is gone).
// Resident memory of `pid` as /proc/PID/status gives it: `field` "VmRSS:"
// (all), "RssAnon:" (private; an object store's shared pages not counted).
inline int64_t RssOf(pid_t pid, const std::string& field = "VmRSS:") {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  int64_t kb = 0;
  while (f >> key) {
    if (key == field && f >> kb) return kb << 10;
    f.ignore(1 << 20, '\n');
  }
  return 0;
}

// The highest resident memory a process reaches while this lives (sampled
// every few milliseconds).
class PeakRss {
 public:
  explicit PeakRss(pid_t pid) : pid_(pid), thread_([this] {
    while (!stop_) {
      int64_t now = RssOf(pid_);
      if (now > peak_) peak_ = now;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }) {}
  ~PeakRss() { Stop(); }
  int64_t Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return peak_;
  }

 private:
  pid_t pid_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> peak_{0};
  std::thread thread_;
};

}  // namespace glint::testing
