// TestCluster: real glint-gcs and glint-raylet processes on loopback (free
// ports) for integration tests, stopped however the test ends. Also helpers
// to wait on conditions with deadlines (never sleeps as synchronisation).
#pragma once
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <glint/api.h>
#include <gtest/gtest.h>

#include "client/src/launcher.h"

namespace glint::testing {

class TestCluster {
 public:
  // A head node with `cpus` CPUs and `resources` (JSON).
  explicit TestCluster(double cpus, const std::string& resources = "") {
    auto dir = internal::NewSessionDir(false);
    if (!dir.ok()) throw std::runtime_error(std::string(dir.status().message()));
    session_ = *dir;
    daemons_ = StartNode("", cpus, resources);
    gcs_address_ = daemons_[0].address;
  }
  ~TestCluster() {
    for (auto it = daemons_.rbegin(); it != daemons_.rend(); ++it) internal::StopDaemon(it->pid, 3000);
  }
  // Adds a worker node; returns its raylet's address.
  std::string AddNode(double cpus, const std::string& resources = "") {
    daemons_.push_back(StartNode(gcs_address_, cpus, resources).back());
    return daemons_.back().address;
  }
  const std::string& gcs_address() const { return gcs_address_; }
  const std::string& head_raylet_address() const { return daemons_[1].address; }

 private:
  // Starts a raylet (and a GCS when `gcs` is empty); they exit with this process.
  std::vector<internal::Daemon> StartNode(const std::string& gcs, double cpus, const std::string& resources) {
    internal::NodeOptions o;
    o.gcs_address = gcs;
    o.gcs_port = 0;
    o.num_cpus = cpus;
    o.resources_json = resources;
    o.session_dir = session_;
    o.watch_pid = getpid();
    auto d = internal::StartNode(o);
    if (!d.ok()) throw std::runtime_error(std::string(d.status().message()));
    return *d;
  }
  std::string session_;
  std::string gcs_address_;
  std::vector<internal::Daemon> daemons_;
};

// A test suite with its own cluster, this process connected as its driver.
// Derived suites call StartSuite from their SetUpTestSuite.
class ClusterTest : public ::testing::Test {
 protected:
  static void StartSuite(double cpus, const std::string& resources = "", const std::string& ns = "") {
    cluster_ = new TestCluster(cpus, resources);
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
  static inline TestCluster* cluster_ = nullptr;
};

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

inline bool FileExists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return s;
}

inline void Touch(const std::string& path) { std::ofstream(path) << "x"; }

// A fresh temporary directory.
inline std::string TempDir() {
  char tmpl[] = "/tmp/glint-test.XXXXXX";
  return mkdtemp(tmpl);
}

}  // namespace glint::testing
