// glint_fuzz: fuzzes every Glint service over real gRPC against a real
// cluster (a GCS and two raylets as processes, an actor's worker, and this
// driver itself), one service at a time, as an authenticated client would
// (the worst case: an unauthenticated one is refused before any handler).
// After each service it checks that the process still runs, still answers
// within a deadline, and did not grow past a bound; it prints a table per
// method and exits non-zero on a failure, leaving the latest inputs in
// fuzz-failure-<service>.txt.
//
//   glint_fuzz                      a short run (CI): 3,000 calls per service
//   glint_fuzz --calls=1000000      a long run (tests/fuzz/RESULTS.md)
//   glint_fuzz --only=raylet,gcs    only these (worker, driver, raylet, gcs)
//   glint_fuzz --seed=N --window=W --deadline_ms=D --verbose
#include <glint/api.h>
#include <google/protobuf/descriptor.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/process.h"
#include "common/rpc.h"
#include "fuzz/request_maker.h"
#include "fuzz/rpc_fuzzer.h"
#include "proto/gcs.grpc.pb.h"
#include "proto/raylet.grpc.pb.h"
#include "proto/worker.grpc.pb.h"
#include "testing/test_cluster.h"

namespace {

namespace pb = google::protobuf;

class Echo {
 public:
  static Echo* Create() { return new Echo(); }
  int Add(int a, int b) { return a + b; }
  std::string Say(std::string s) { return s; }
};

int Twice(int v) { return 2 * v; }

GLINT_REMOTE(Echo::Create, &Echo::Add, &Echo::Say, Twice);

bool g_verbose = false;  // --verbose: an example message of each status code

struct Target {
  std::string name;      // what the table calls it
  std::string address;
  pid_t pid;
  const pb::ServiceDescriptor* service;
  std::set<std::string> skip;
  // A call that must still work afterwards.
  std::function<grpc::Status()> probe;
  int64_t growth_limit;  // bytes of private memory the run may add
};

template <typename Stub, typename Req, typename Reply>
grpc::Status Probe(Stub* stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Reply*), Req req) {
  grpc::ClientContext ctx;
  glint::SetDeadlineMs(&ctx, 10000);
  Reply reply;
  return (stub->*method)(&ctx, req, &reply);
}

std::string CodeName(grpc::StatusCode c) {
  static const char* kNames[] = {"OK",          "CANCELLED",  "UNKNOWN",          "INVALID_ARGUMENT",
                                 "DEADLINE",    "NOT_FOUND",  "ALREADY_EXISTS",   "PERMISSION_DENIED",
                                 "EXHAUSTED",   "PRECONDITION", "ABORTED",        "OUT_OF_RANGE",
                                 "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE",      "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  int i = static_cast<int>(c);
  return i >= 0 && i < 17 ? kNames[i] : std::to_string(i);
}

void PrintStats(const Target& t, const glint::fuzz::RunStats& s, int64_t grew, int64_t resident_grew) {
  std::printf("\n%s at %s: %" PRId64 " inputs in %.1f s (%.0f/s), private memory %+.1f MiB (resident %+.1f MiB)\n",
              t.name.c_str(), t.address.c_str(), s.inputs, s.seconds, s.inputs / std::max(s.seconds, 1e-9),
              grew / 1048576.0, resident_grew / 1048576.0);
  for (auto& [name, m] : s.methods) {
    std::ostringstream codes;
    for (auto& [code, n] : m.codes) codes << " " << CodeName(code) << "=" << n;
    std::printf("  %-22s %8" PRId64 " %s\n", name.c_str(), m.calls, codes.str().c_str());
    if (g_verbose) {
      for (auto& [code, text] : m.example) std::printf("      %s: %s\n", CodeName(code).c_str(), text.substr(0, 160).c_str());
    }
  }
}

void SaveRecent(const Target& t, const glint::fuzz::RunStats& s) {
  std::ofstream f("fuzz-failure-" + t.name + ".txt");
  for (auto& [method, bytes] : s.recent) f << method << " " << absl::BytesToHexString(bytes) << "\n";
  std::printf("  the latest %zu inputs are in fuzz-failure-%s.txt\n", s.recent.size(), t.name.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (getenv("GLINT_WORKER_MODE")) glint::Init();  // a worker of this program's job: never returns
  int64_t calls = 3000;
  uint64_t seed = 1;
  glint::fuzz::RunOptions run;
  std::set<std::string> only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      std::string prefix = std::string(flag) + "=";
      return a.rfind(prefix, 0) == 0 ? argv[i] + prefix.size() : nullptr;
    };
    if (auto v = value("--calls")) calls = std::stoll(v);
    else if (auto v = value("--seed")) seed = std::stoull(v);
    else if (auto v = value("--window")) run.window = std::stoi(v);
    else if (auto v = value("--deadline_ms")) run.deadline_ms = std::stoi(v);
    else if (a == "--verbose") g_verbose = true;
    else if (auto v = value("--only")) {
      for (auto part : absl::StrSplit(v, ',', absl::SkipEmpty())) only.insert(std::string(part));
    }
    else {
      std::cerr << "glint_fuzz: unknown argument " << a
                << " (--calls=N --only=worker,driver,raylet,logs,state,tasks,gcs --seed=N --window=N --deadline_ms=N --verbose)\n";
      return 2;
    }
  }
  run.calls = calls;
  // Requests put any bytes in string fields; protobuf would log each one.
  google::protobuf::SetLogHandler(nullptr);

  glint::testing::TestCluster cluster(2);
  std::string node2 = cluster.AddNode(1, R"({"two": 1})");
  glint::Config config;
  config.address = cluster.gcs_address();
  glint::Init(config);
  auto echo = glint::Actor(Echo::Create).Remote();
  if (echo.Task(&Echo::Add).Remote(1, 2).Get() != 3) return 1;
  auto value = glint::Put(std::string("a stored value"));

  // What is real in this cluster, for the requests to use now and then.
  auto gcs = glint::MakeStub<glint::proto::GcsService>(cluster.gcs_address());
  glint::proto::GetAllNodesReply nodes;
  glint::proto::GetAllJobsReply jobs;
  glint::proto::GetActorRequest gar;
  gar.set_actor_id(echo.ID());
  glint::proto::GetActorReply actor;
  {
    grpc::ClientContext c1, c2, c3;
    if (!gcs->GetAllNodes(&c1, {}, &nodes).ok() || !gcs->GetAllJobs(&c2, {}, &jobs).ok() ||
        !gcs->GetActor(&c3, gar, &actor).ok()) {
      std::cerr << "glint_fuzz: cannot read the cluster\n";
      return 1;
    }
  }
  std::string driver;
  glint::fuzz::RequestMaker maker(seed);
  for (auto& n : nodes.nodes()) maker.AddKnown(n.node_id());
  for (auto& j : jobs.jobs()) {
    maker.AddKnown(j.job_id());
    if (j.driver_pid() == getpid() && !j.finished()) driver = glint::AddrString(j.driver());
  }
  for (const char* name : {"Echo::Create", "&Echo::Add", "&Echo::Say", "Twice", "127.0.0.1"}) maker.AddKnown(name);
  for (auto& a : {cluster.gcs_address(), cluster.head_raylet_address(), node2, driver}) maker.AddKnown(a);
  maker.AddKnown(echo.ID());
  maker.AddKnown(value.ID());
  const std::string worker = glint::AddrString(actor.actor().address());
  const pid_t worker_pid = actor.actor().pid();

  auto raylet = glint::MakeStub<glint::proto::RayletService>(cluster.head_raylet_address());
  auto worker_stub = glint::MakeStub<glint::proto::WorkerService>(worker);
  auto driver_stub = glint::MakeStub<glint::proto::WorkerService>(driver);
  glint::proto::GetObjectRequest unknown_object;
  unknown_object.set_object_id(std::string(28, 'z'));
  const auto* pool = pb::DescriptorPool::generated_pool();
  using GcsStub = glint::proto::GcsService::Stub;
  using RayletStub = glint::proto::RayletService::Stub;
  using WorkerStub = glint::proto::WorkerService::Stub;
  // The worker and this driver first: the GCS's turn may kill the actor.
  // Exit is left out: it ends the worker (or driver) by design.
  std::vector<Target> targets = {
      {"worker", worker, worker_pid, pool->FindServiceByName("glint.proto.WorkerService"), {"Exit"},
       [&] { return Probe(worker_stub.get(), &WorkerStub::GetObject, unknown_object); }, 256 << 20},
      {"driver", driver, getpid(), pool->FindServiceByName("glint.proto.WorkerService"), {"Exit"},
       [&] { return Probe(driver_stub.get(), &WorkerStub::GetObject, unknown_object); }, 256 << 20},
      {"raylet", cluster.head_raylet_address(), cluster.head_raylet_pid(),
       pool->FindServiceByName("glint.proto.RayletService"), {},
       [&] { return Probe(raylet.get(), &RayletStub::GetStoreInfo, glint::proto::GetStoreInfoRequest()); },
       256 << 20},
      {"logs", cluster.head_raylet_address(), cluster.head_raylet_pid(),
       pool->FindServiceByName("glint.proto.LogService"), {},
       [&] { return Probe(raylet.get(), &RayletStub::GetStoreInfo, glint::proto::GetStoreInfoRequest()); },
       256 << 20},
      {"state", cluster.head_raylet_address(), cluster.head_raylet_pid(),
       pool->FindServiceByName("glint.proto.NodeStateService"), {},
       [&] { return Probe(raylet.get(), &RayletStub::GetStoreInfo, glint::proto::GetStoreInfoRequest()); },
       256 << 20},
      {"tasks", cluster.gcs_address(), cluster.gcs_pid(), pool->FindServiceByName("glint.proto.TaskEventService"), {},
       [&] { return Probe(gcs.get(), &GcsStub::GetAllNodes, glint::proto::GetAllNodesRequest()); }, 256 << 20},
      {"gcs", cluster.gcs_address(), cluster.gcs_pid(), pool->FindServiceByName("glint.proto.GcsService"), {},
       [&] { return Probe(gcs.get(), &GcsStub::GetAllNodes, glint::proto::GetAllNodesRequest()); }, 256 << 20},
  };

  bool failed = false;
  std::vector<std::string> reasons;  // repeated at the end, where a log's tail shows them
  for (auto& t : targets) {
    if (!only.empty() && !only.count(t.name)) continue;
    std::printf("fuzzing the %s at %s ...\n", t.name.c_str(), t.address.c_str());
    std::fflush(stdout);
    // Private memory: the shared pages of a node's object store (bounded by
    // its capacity) count in VmRSS as the raylet touches them.
    int64_t before = glint::testing::RssOf(t.pid, "RssAnon:");
    int64_t resident_before = glint::testing::RssOf(t.pid);
    const std::string logs = cluster.session_dir() + "/logs";
    int64_t logs_before = glint::testing::DirBytes(logs);
    run.skip = t.skip;
    auto stats = glint::fuzz::FuzzService(t.address, t.service, &maker, run);
    bool alive = glint::ProcessAlive(t.pid) && !glint::IsZombie(t.pid);
    grpc::Status probe = alive ? t.probe() : grpc::Status(grpc::StatusCode::UNAVAILABLE, "the process is gone");
    int64_t grew = glint::testing::RssOf(t.pid, "RssAnon:") - before;
    PrintStats(t, stats, grew, glint::testing::RssOf(t.pid) - resident_before);
    bool ok = true;
    // A line per bad request would let a client fill the disk.
    int64_t logged = glint::testing::DirBytes(logs) - logs_before, log_limit = (1 << 20) + 64 * stats.inputs;
    std::printf("  the cluster's logs grew by %.1f KiB\n", logged / 1024.0);
    auto fail = [&](const std::string& why) {
      std::printf("  FAILED: %s\n", why.c_str());
      reasons.push_back(t.name + ": " + why);
      ok = false;
    };
    if (logged > log_limit) {
      fail(absl::StrFormat("the logs grew by %.1f KiB (limit %.0f KiB)", logged / 1024.0, log_limit / 1024.0));
    }
    if (!probe.ok()) fail(absl::StrCat(t.name, " no longer answers: ", probe.error_message()));
#ifndef GLINT_SANITIZER
    if (grew > t.growth_limit) {
      fail(absl::StrFormat("%s grew by %.1f MiB (limit %.0f MiB)", t.name, grew / 1048576.0,
                           t.growth_limit / 1048576.0));
    }
#endif
    if (!ok) {
      SaveRecent(t, stats);
      failed = true;
    }
    std::fflush(stdout);
  }
  std::printf("\n%s: %" PRId64 " calls per service, seed %" PRIu64 ", window %d, deadline %d ms\n",
              failed ? "FAILED" : "passed", calls, seed, run.window, run.deadline_ms);
  for (auto& r : reasons) std::printf("  %s\n", r.c_str());
  glint::Shutdown();
  return failed ? 1 : 0;
}
