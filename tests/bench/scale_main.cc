// glint_scale: how a cluster on one machine holds up as things grow —
// 100,000 tasks queued by one driver, 1,000 live actors on one node (and
// the private memory each costs), named-actor lookups among 10,000 names,
// and 20 raylets registering and staying healthy. It starts and stops its
// own cluster. `--short` is the small form the test suite runs
// (bench_scale_smoke); `--actors=N` sets the live actors; the full form's
// results go in RESULTS.md.
#include <glint/api.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/auth.h"
#include "common/launcher.h"
#include "common/rpc.h"
#include "common/session.h"
#include "proto/gcs.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

class Idle {
 public:
  static Idle* Create() { return new Idle(); }
  int Pid() { return getpid(); }
};

int Nop(int x) { return x; }

GLINT_REMOTE(Idle::Create, &Idle::Pid, Nop);

struct Sizes {
  int tasks = 100000;
  int actors = 1000;
  int named = 10000;
  int raylets = 20;
  int healthy_secs = 10;
  int lookups = 2000;
};

// A field of /proc/<pid>/<file> ("Private_Dirty:" ...), in KiB; 0 if absent.
int64_t ProcKib(pid_t pid, const std::string& file, const std::string& field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/" + file);
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field, 0) != 0) continue;
    std::istringstream in(line.substr(field.size()));
    int64_t kib = 0;
    in >> kib;
    return kib;
  }
  return 0;
}

struct Row {
  std::string figure;
  std::string value;
};
std::vector<Row> g_rows;

void Report(const std::string& figure, const char* fmt, double a, double b = 0, double c = 0) {
  char buf[256];
  snprintf(buf, sizeof(buf), fmt, a, b, c);
  g_rows.push_back({figure, buf});
  std::cerr << figure << ": " << buf << "\n";
}

// The nodes the GCS counts alive.
int AliveNodes(const std::string& gcs) {
  auto stub = glint::MakeStub<glint::proto::GcsService>(gcs);
  grpc::ClientContext ctx;
  glint::SetDeadlineMs(&ctx, 5000);
  glint::proto::GetAllNodesReply reply;
  if (!stub->GetAllNodes(&ctx, {}, &reply).ok()) return -1;
  int alive = 0;
  for (const auto& n : reply.nodes()) alive += n.alive();
  return alive;
}

void Tasks(const Sizes& n) {
  int64_t rss_before = ProcKib(getpid(), "status", "VmRSS:");
  auto start = Clock::now();
  std::vector<glint::ObjectRef<int>> refs;
  refs.reserve(n.tasks);
  for (int i = 0; i < n.tasks; ++i) refs.push_back(glint::Task(Nop).Remote(i));
  double submitted = Since(start);
  int64_t rss_queued = ProcKib(getpid(), "status", "VmRSS:");
  int64_t sum = 0;
  for (auto& r : refs) sum += r.Get(std::chrono::minutes(10));
  double done = Since(start);
  if (sum != int64_t{n.tasks} * (n.tasks - 1) / 2) throw glint::Error("the tasks' results do not add up");
  Report("tasks queued by one driver", "%.0f submitted in %.2f s, all done in %.2f s", n.tasks, submitted, done);
  Report("tasks: rate", "%.0f tasks/s submitted, %.0f tasks/s done", n.tasks / submitted, n.tasks / done);
  Report("tasks: driver memory while queued", "%.1f MiB more (%.2f KiB per queued task)",
         (rss_queued - rss_before) / 1024.0, static_cast<double>(rss_queued - rss_before) / n.tasks);
}

void Actors(const Sizes& n) {
  auto start = Clock::now();
  std::vector<glint::ActorHandle<Idle>> actors;
  for (int i = 0; i < n.actors; ++i) actors.push_back(glint::Actor(Idle::Create).Remote());
  std::vector<glint::ObjectRef<int>> pids;
  for (auto& a : actors) pids.push_back(a.Task(&Idle::Pid).Remote());
  std::vector<pid_t> live;
  for (auto& p : pids) live.push_back(p.Get(std::chrono::minutes(10)));
  double secs = Since(start);
  Report("live actors on one node", "%.0f created and called in %.1f s (%.0f actors/s)", n.actors, secs,
         n.actors / secs);
  int64_t priv = 0, pss = 0, rss = 0;
  for (pid_t pid : live) {
    priv += ProcKib(pid, "smaps_rollup", "Private_Clean:") + ProcKib(pid, "smaps_rollup", "Private_Dirty:");
    pss += ProcKib(pid, "smaps_rollup", "Pss:");
    rss += ProcKib(pid, "smaps_rollup", "Rss:");
  }
  double count = static_cast<double>(live.size());
  Report("actors: memory per idle actor", "private %.2f MiB, proportional %.2f MiB, resident %.2f MiB",
         priv / 1024.0 / count, pss / 1024.0 / count, rss / 1024.0 / count);
  start = Clock::now();
  for (auto& a : actors) glint::Kill(a);
  actors.clear();
  Report("actors: killed", "%.0f in %.1f s", count, Since(start));
}

// Lookup latency, in microseconds: mean and 99th percentile over `lookups`
// random names among `names`.
std::pair<double, double> Lookups(const std::vector<std::string>& names, int lookups) {
  std::mt19937 rng(7);
  std::vector<double> us;
  for (int i = 0; i < lookups; ++i) {
    const auto& name = names[rng() % names.size()];
    auto t = Clock::now();
    if (!glint::GetActor<Idle>(name)) throw glint::Error("named actor " + name + " not found");
    us.push_back(Since(t) * 1e6);
  }
  std::sort(us.begin(), us.end());
  double mean = 0;
  for (double u : us) mean += u;
  return {mean / us.size(), us[us.size() * 99 / 100]};
}

// Named actors that ask for the head's one "slot", which the first holds:
// the others wait, unplaced, with their names registered in the GCS, so
// the name table grows to `n.named` without as many processes (which this
// machine's memory could not hold; see "memory per idle actor").
void Named(const Sizes& n) {
  std::vector<std::string> names = {"named-0"};
  std::vector<glint::ActorHandle<Idle>> made;
  made.push_back(glint::Actor(Idle::Create).SetName(names[0]).SetResources({{"slot", 1}}).Remote());
  made[0].Task(&Idle::Pid).Remote().Get(std::chrono::minutes(1));
  auto [one_mean, one_p99] = Lookups(names, n.lookups);
  auto start = Clock::now();
  for (int i = 1; i < n.named; ++i) {
    names.push_back("named-" + std::to_string(i));
    made.push_back(glint::Actor(Idle::Create).SetName(names.back()).SetResources({{"slot", 1}}).Remote());
  }
  double registered = Since(start);
  auto [many_mean, many_p99] = Lookups(names, n.lookups);
  Report("named actors: registered", "%.0f in %.1f s (%.0f/s)", n.named, registered, n.named / registered);
  Report("named lookup latency, 1 name", "mean %.0f us, p99 %.0f us", one_mean, one_p99);
  Report("named lookup latency, all names", "mean %.0f us, p99 %.0f us (%.0f names)", many_mean, many_p99, n.named);
  for (auto& a : made) glint::Kill(a);
}

void Raylets(const Sizes& n, glint::NodeOptions o, std::vector<glint::Daemon>* own) {
  const std::string gcs = o.gcs_address;
  o.num_cpus = 1;
  o.resources_json.clear();
  auto start = Clock::now();
  std::vector<pid_t> raylets;
  for (int i = 1; i < n.raylets; ++i) {
    auto d = glint::StartNode(o);
    if (!d.ok()) throw glint::Error("raylet " + std::to_string(i) + ": " + std::string(d.status().message()));
    own->push_back(d->back());
    raylets.push_back(d->back().pid);
  }
  while (AliveNodes(gcs) < n.raylets && Since(start) < 120) usleep(20000);
  double up = Since(start);
  if (AliveNodes(gcs) < n.raylets) throw glint::Error("not every raylet registered within 120 s");
  Report("raylets on one machine", "%.0f registered in %.1f s (started one after another)", n.raylets, up);
  // Healthy: still alive, every one, after a while of heartbeats.
  auto held = Clock::now();
  int lowest = n.raylets;
  while (Since(held) < n.healthy_secs) {
    lowest = std::min(lowest, AliveNodes(gcs));
    usleep(200000);
  }
  if (lowest < n.raylets) {
    throw glint::Error("only " + std::to_string(lowest) + " of " + std::to_string(n.raylets) +
                       " raylets were alive at one check");
  }
  int64_t rss = 0;
  for (pid_t p : raylets) rss += ProcKib(p, "status", "VmRSS:");
  Report("raylets: alive throughout", "%.0f of %.0f alive at every check over %.0f s", lowest, n.raylets,
         n.healthy_secs);
  Report("raylets: memory", "%.1f MiB resident per raylet", rss / 1024.0 / raylets.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (getenv("GLINT_WORKER_MODE")) glint::Init();
  Sizes n;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--short") n = {2000, 10, 200, 3, 1, 200};
    if (arg.rfind("--actors=", 0) == 0) n.actors = std::stoi(arg.substr(9));  // live actors at once
  }
  auto dir = glint::NewSessionDir();
  if (!dir.ok()) {
    std::cerr << dir.status() << "\n";
    return 1;
  }
  glint::NodeOptions o;
  o.gcs_port = 0;
  o.num_cpus = 2;
  o.resources_json = R"({"slot": 1})";
  o.session_dir = *dir;
  o.watch_pid = getpid();
  o.auth_token = glint::NewAuthToken();
  auto head = glint::StartNode(o);
  if (!head.ok()) {
    std::cerr << head.status() << "\n";
    return 1;
  }
  std::vector<glint::Daemon> own = *head;
  o.gcs_address = own[0].address;
  glint::Config config;
  config.address = o.gcs_address;
  int rc = 0;
  try {
    glint::Init(config);
    Tasks(n);
    Actors(n);
    Named(n);
    Raylets(n, o, &own);
  } catch (const std::exception& e) {
    std::cerr << "glint_scale: " << e.what() << "\n";
    rc = 1;
  }
  glint::Shutdown();
  for (auto it = own.rbegin(); it != own.rend(); ++it) glint::StopDaemon(it->pid, 3000);
  printf("\n%-40s %s\n", "figure", "value");
  for (const auto& r : g_rows) printf("%-40s %s\n", r.figure.c_str(), r.value.c_str());
  return rc;
}
