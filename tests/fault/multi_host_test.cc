// A cluster across three "hosts": a head and two nodes, each in a network
// namespace of its own with its own address, joined by veth pairs to a
// bridge in a fourth namespace (the switch), started with the glint CLI as a
// user starts them on separate machines (TLS on, as addresses that are not
// loopback need). Work and objects cross the veths; a node cut off at the
// switch (link down) is declared dead, its actor restarts on the other node,
// and when the link comes back the node drops its copy and joins again:
// never two live copies of one actor after the cut. From another host, a
// job goes to the head's dashboard and a node's metrics are read, over HTTPS.
// Needs root (ip netns) and openssl; skipped, saying why, without them.
// This program is also the driver (`multi_host_fault_test driver MODE ...`).
#include <glint/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/http_client.h"
#include "common/process.h"
#include "integration/test_functions.h"
#include "testing/certificates.h"
#include "testing/driver_process.h"
#include "testing/shell.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::Contains;
using glint::testing::RunCommand;
using glint::testing::WaitUntil;
using tf::Box;

std::string TaskRaylet() { return getenv("GLINT_RAYLET_ADDRESS"); }

std::vector<uint8_t> MakeBlob(int seed) {
  std::vector<uint8_t> v(8 << 20);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 13 + seed);
  return v;
}
uint64_t Checksum(std::vector<uint8_t> v) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : v) h = (h ^ b) * 1099511628211ull;
  return h;
}

GLINT_REMOTE(Box::Create, &Box::Raylet, &Box::Pid, TaskRaylet, MakeBlob, Checksum);

// Runs `cmd` with sh; its output, and whether it exited 0.
std::string Sh(const std::string& cmd, bool* ok = nullptr) {
  int status = 0;
  std::string out = RunCommand("(" + cmd + ") 2>&1", &status);
  if (ok) *ok = status == 0;
  return out;
}

// The namespaces, their addresses, the cluster started in them.
struct Hosts {
  std::string tag = std::to_string(getpid());
  std::string subnet = absl::StrCat("10.213.", getpid() % 200 + 20, ".");
  std::string sw = "glint-" + tag + "-sw";
  std::vector<std::string> names = {"h", "a", "b"};
  std::string Ns(const std::string& n) const { return "glint-" + tag + "-" + n; }
  std::string Ip(const std::string& n) const { return subnet + std::to_string(n == "h" ? 1 : n == "a" ? 2 : 3); }
  std::string session_root;  // GLINT_TMPDIR of every glint command and driver here
  std::string gcs;
  std::string tls_flags;
  std::vector<std::string> made;  // namespaces to delete

  // Runs the glint CLI in namespace `n`.
  std::string Glint(const std::string& n, const std::string& args, bool* ok = nullptr) const {
    return Sh(absl::StrCat("GLINT_TMPDIR=", session_root, " ip netns exec ", Ns(n), " ", GLINT_CLI_PATH, " ", args),
              ok);
  }
  // Takes the link of node `n` at the switch down or up.
  void Link(const std::string& n, bool up) const {
    bool ok = false;
    std::string out = Sh(absl::StrCat("ip -n ", sw, " link set v", n, up ? " up" : " down"), &ok);
    EXPECT_TRUE(ok) << out;
  }
  // Whether `glint list nodes`, seen from the head, shows the node at `ip` dead.
  bool ListedDead(const std::string& ip) const {
    std::string list = Glint("h", "list nodes --address " + gcs);
    for (auto& line : absl::StrSplit(list, '\n')) {
      if (Contains(std::string(line), ip + ":") && Contains(std::string(line), "DEAD")) return true;
    }
    return false;
  }
  // Whether the node at `ip` is listed alive (a line with its address, not DEAD).
  bool ListedAlive(const std::string& ip) const {
    std::string list = Glint("h", "list nodes --address " + gcs);
    for (auto& line : absl::StrSplit(list, '\n')) {
      std::string l(line);
      if (Contains(l, ip + ":") && Contains(l, "ALIVE")) return true;
    }
    return false;
  }
};

class MultiHostTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) {
      why_not_ = "network namespaces need root (ip netns)";
      return;
    }
    certs_ = glint::testing::MakeTestCertificates(&why_not_);
    if (!certs_) return;
    hosts_ = new Hosts;
    Hosts& h = *hosts_;
    bool ok = false;
    std::string out = Sh("ip netns add " + h.sw, &ok);
    if (!ok) {
      why_not_ = "cannot make a network namespace here: " + out;
      return;
    }
    h.made.push_back(h.sw);
    std::vector<std::string> setup = {"ip -n " + h.sw + " link add br0 type bridge",
                                      "ip -n " + h.sw + " link set br0 up"};
    for (auto& n : h.names) {
      std::string ns = h.Ns(n);
      out = Sh("ip netns add " + ns, &ok);
      ASSERT_TRUE(ok) << out;
      h.made.push_back(ns);
      for (auto& c : {absl::StrCat("ip -n ", ns, " link add eth0 type veth peer name v", n, " netns ", h.sw),
                      absl::StrCat("ip -n ", ns, " addr add ", h.Ip(n), "/24 dev eth0"),
                      absl::StrCat("ip -n ", ns, " link set eth0 up"), absl::StrCat("ip -n ", ns, " link set lo up"),
                      absl::StrCat("ip -n ", h.sw, " link set v", n, " master br0"),
                      absl::StrCat("ip -n ", h.sw, " link set v", n, " up")}) {
        setup.push_back(c);
      }
    }
    for (auto& c : setup) {
      out = Sh(c, &ok);
      ASSERT_TRUE(ok) << c << ": " << out;
    }
    h.session_root = glint::testing::TempDir();
    h.tls_flags = absl::StrCat("--tls-cert ", certs_->cluster.cert, " --tls-key ", certs_->cluster.key, " --tls-ca ",
                               certs_->cluster.ca, " --tls-server-name localhost");
    out = h.Glint("h", absl::StrCat("start --head --port 0 --num-cpus 1 --host ", h.Ip("h"), " ", h.tls_flags), &ok);
    ASSERT_TRUE(ok) << out;
    auto at = out.find("GLINT_ADDRESS=");
    ASSERT_NE(at, std::string::npos) << out;
    h.gcs = out.substr(at + 14, out.find_first_of(" \n", at + 14) - at - 14);
    for (auto& [n, res] : {std::pair<std::string, std::string>{"a", R"({"a": 1, "ab": 1})"},
                           std::pair<std::string, std::string>{"b", R"({"b": 1, "ab": 1})"}}) {
      out = h.Glint(n, absl::StrCat("start --address ", h.gcs, " --num-cpus 2 --host ", h.Ip(n), " --resources '",
                                    res, "' ", h.tls_flags),
                    &ok);
      ASSERT_TRUE(ok) << out;
    }
  }
  static void TearDownTestSuite() {
    if (!hosts_) return;
    if (!hosts_->session_root.empty()) hosts_->Glint("h", "stop");
    for (auto& ns : hosts_->made) Sh("ip netns del " + ns);
    delete hosts_;
    hosts_ = nullptr;
  }
  void SetUp() override {
    if (!why_not_.empty()) GTEST_SKIP() << why_not_;
  }
  // A driver in the head's namespace.
  glint::testing::Driver Driver(const std::vector<std::string>& args) {
    std::vector<std::string> all = {hosts_->Ip("h")};
    all.insert(all.end(), args.begin(), args.end());
    return glint::testing::StartDriver(hosts_->gcs, all, {{"GLINT_TMPDIR", hosts_->session_root}}, "",
                                       {"ip", "netns", "exec", hosts_->Ns("h")});
  }
  static std::string Trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  static inline std::string why_not_;
  static inline std::optional<glint::testing::TestCertificates> certs_;
  static inline Hosts* hosts_ = nullptr;
};

TEST_F(MultiHostTest, WorkAndObjectsCrossTheLinksBetweenHosts) {
  Hosts& h = *hosts_;
  for (auto& n : h.names) EXPECT_TRUE(h.ListedAlive(h.Ip(n))) << Sh("cat " + h.session_root + "/*/logs/*.log");
  auto d = Driver({"spread"});
  // Each task ran on the node that has its resource; the value made on a
  // crossed to b (b's raylet pulled it over the veths) and back to the driver.
  EXPECT_EQ(Trim(d.Line()), "ON " + h.Ip("a") + " " + h.Ip("b"));
  EXPECT_EQ(Trim(d.Line()), "SUMS MATCH");
  EXPECT_EQ(d.Wait(), 0);
}

// As from a user's machine: with the cluster's token and CA only, a job is
// submitted to the head's dashboard and a node's metrics are read, over
// HTTPS on the head's and the node's addresses (a cluster with TLS serves
// its HTTP ports with its certificates, not only on loopback).
TEST_F(MultiHostTest, FromAnotherHostJobsAndMetricsGoOverHttps) {
  Hosts& h = *hosts_;
  bool ok = false;
  std::string token = Trim(h.Glint("h", "get-auth-token --address " + h.gcs, &ok));
  ASSERT_TRUE(ok) << token;
  const std::string as_user = absl::StrCat(" --address ", h.gcs, " --auth-token ", token, " --tls-ca ",
                                           certs_->cluster.ca, " --tls-server-name localhost");
  std::string out = h.Glint("a", "job submit" + as_user + " -- echo hello-from-a", &ok);
  EXPECT_TRUE(ok) << out << Sh("cat " + h.session_root + "/*/logs/dashboard.log");
  EXPECT_PRED2(Contains, out, "hello-from-a");
  auto nodes = nlohmann::json::parse(h.Glint("a", "list nodes --json" + as_user), nullptr, false);
  std::string metrics;
  for (auto& n : nodes.is_array() ? nodes : nlohmann::json::array()) {
    std::string m = n.value("metrics_address", "");
    if (m.rfind(h.Ip("b") + ":", 0) == 0) metrics = m;
  }
  ASSERT_FALSE(metrics.empty()) << nodes.dump();
  auto get = [&](const std::string& env) {
    return Sh(absl::StrCat("ip netns exec ", h.Ns("a"), " env GLINT_AUTH_TOKEN=", token, " ", env, " ",
                           glint::SelfExePath(), " get ", metrics, " /metrics"));
  };
  out = get(absl::StrCat("GLINT_TLS_CA=", certs_->cluster.ca, " GLINT_TLS_SERVER_NAME=localhost"));
  EXPECT_PRED2(Contains, out, "HTTP 200");
  EXPECT_PRED2(Contains, out, "glint_node_pending_tasks{");
  // Plain HTTP is told to use HTTPS, and gets nothing else.
  out = get("");
  EXPECT_PRED2(Contains, out, "HTTP 400");
  EXPECT_PRED2(Contains, out, "HTTPS only");
  EXPECT_FALSE(Contains(out, "glint_node_")) << out;
}

TEST_F(MultiHostTest, ANodeCutOffIsDeclaredDeadAndComesBackWithoutItsOldActor) {
  Hosts& h = *hosts_;
  std::string go = glint::testing::TempDir() + "/go";
  auto d = Driver({"cut", go});
  std::string line = Trim(d.Line());
  char where[64] = {0};
  int old_pid = 0;
  ASSERT_EQ(sscanf(line.c_str(), "ON %63s %d", where, &old_pid), 2) << line;
  std::string cut = where == h.Ip("a") ? "a" : "b";
  ASSERT_EQ(where, h.Ip(cut)) << line;
  auto t0 = std::chrono::steady_clock::now();
  h.Link(cut, false);
  EXPECT_TRUE(WaitUntil([&] { return h.ListedDead(h.Ip(cut)); }, std::chrono::seconds(30)))
      << "the node cut off is declared dead";
  auto dead = std::chrono::steady_clock::now();
  line = Trim(d.Line());
  int new_pid = 0;
  char moved[64] = {0};
  ASSERT_EQ(sscanf(line.c_str(), "MOVED %63s %d", moved, &new_pid), 2) << line;
  EXPECT_NE(std::string(moved), h.Ip(cut)) << "the actor answers from the other node";
  auto moved_at = std::chrono::steady_clock::now();
  EXPECT_TRUE(glint::ProcessAlive(old_pid)) << "cut off, the node still runs its copy";
  auto up = std::chrono::steady_clock::now();
  h.Link(cut, true);
  EXPECT_TRUE(WaitUntil([&] { return !glint::ProcessAlive(old_pid); }, std::chrono::seconds(30)))
      << "back, the node drops its copy of the actor";
  auto dropped = std::chrono::steady_clock::now();
  EXPECT_TRUE(WaitUntil([&] { return h.ListedAlive(h.Ip(cut)); }, std::chrono::seconds(30))) << "and joins again";
  auto joined = std::chrono::steady_clock::now();
  glint::testing::Touch(go);
  EXPECT_EQ(Trim(d.Line()), "STILL " + std::to_string(new_pid)) << "one copy, the restarted one";
  EXPECT_EQ(d.Wait(), 0);
  auto ms = [&](auto t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t - t0).count(); };
  std::cout << "[figures] after the link went down: listed dead at " << ms(dead) << " ms, the actor answered "
            << "from the other node by " << ms(moved_at) << " ms; brought up at " << ms(up)
            << " ms: the old copy gone by " << ms(dropped) << " ms, the node listed alive by " << ms(joined) << " ms"
            << std::endl;
}

}  // namespace

// Driver modes (in the head's namespace; first argument: this host's address):
//   spread       "ON <a's ip> <b's ip>" (where tasks needing "a" and "b" ran),
//                then "SUMS MATCH" if a value made on a and read on b and
//                here has the same sum everywhere
//   cut FILE     an actor on a or b (restarts and retries forever): "ON <ip>
//                <pid>"; calls it until another node answers: "MOVED <ip>
//                <pid>"; once FILE exists, "STILL <pid>"
static std::string Ip(const std::string& raylet) { return raylet.substr(0, raylet.rfind(':')); }

static int RunDriver(const std::string& ip, const std::string& mode, const std::string& arg) {
  glint::Config c;
  c.node_ip = ip;
  glint::Init(c);
  constexpr auto kWait = std::chrono::seconds(60);
  if (mode == "spread") {
    auto on_a = glint::Task(TaskRaylet).SetResources({{"a", 1}}).Remote();
    auto on_b = glint::Task(TaskRaylet).SetResources({{"b", 1}}).Remote();
    std::cout << "ON " << Ip(on_a.Get(kWait)) << " " << Ip(on_b.Get(kWait)) << std::endl;
    auto blob = glint::Task(MakeBlob).SetResources({{"a", 1}}).Remote(3);
    uint64_t on_b_sum = glint::Task(Checksum).SetResources({{"b", 1}}).Remote(blob).Get(kWait);
    uint64_t here = Checksum(blob.Get(kWait));
    std::cout << (on_b_sum == here && here == Checksum(MakeBlob(3)) ? "SUMS MATCH" : "SUMS DIFFER") << std::endl;
  } else if (mode == "cut") {
    auto box = glint::Actor(Box::Create).SetResources({{"ab", 1}}).SetMaxRestarts(-1).SetMaxTaskRetries(-1).Remote(0);
    std::string first = Ip(box.Task(&Box::Raylet).Remote().Get(kWait));
    std::cout << "ON " << first << " " << box.Task(&Box::Pid).Remote().Get(kWait) << std::endl;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    std::string now = first;
    while (now == first && std::chrono::steady_clock::now() < deadline) {
      try {
        now = Ip(box.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(5)));
      } catch (const glint::GetTimeoutError&) {  // the call waits for the restart; ask again
      }
    }
    std::cout << "MOVED " << now << " " << box.Task(&Box::Pid).Remote().Get(kWait) << std::endl;
    tf::WaitForFile(arg);
    std::cout << "STILL " << box.Task(&Box::Pid).Remote().Get(kWait) << std::endl;
  }
  glint::Shutdown();
  return 0;
}

// `get ADDRESS TARGET`: a GET as a client on this host makes it, with the
// token in GLINT_AUTH_TOKEN and GLINT_TLS_* (none: plain HTTP); prints
// "HTTP <status>" and the body, or "ERROR <why>".
static int HttpGet(const std::string& address, const std::string& target) {
  glint::HttpCallOptions o;
  const char* token = std::getenv("GLINT_AUTH_TOKEN");
  o.token = token ? token : "";
  o.tls = glint::TlsFromEnvironment();
  auto r = glint::HttpCall(address, "GET", target, "", o);
  if (!r.ok()) {
    std::cout << "ERROR " << r.status().message() << std::endl;
    return 1;
  }
  std::cout << "HTTP " << r->status << "\n" << r->body << std::flush;
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "get") return HttpGet(argv[2], argv[3]);
  if (std::getenv("GLINT_WORKER_MODE")) glint::Init();
  if (argc >= 4 && std::string(argv[1]) == "driver") return RunDriver(argv[2], argv[3], argc > 4 ? argv[4] : "");
  glint::testing::SetDriverProgram(glint::SelfExePath());
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
