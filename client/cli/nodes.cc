// glint start, glint restart-gcs, glint stop: the daemons of this machine.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/cli/cli.h"
#include "common/launcher.h"
#include "common/process.h"
#include "common/session.h"

namespace glint::cli {
namespace {

struct StartFlags {
  ClusterFlags cluster;
  bool head = false;
  int port = 6380;
  int dashboard_port = 8265;
  bool no_dashboard = false;
  std::string host = "127.0.0.1";
  double num_cpus = -1, num_gpus = -1;
  std::string resources;
  std::string object_store_memory, object_store_dir, object_spilling_dir, object_inline_threshold;
  bool no_object_spilling = false;
  std::string storage, storage_path;
  std::string auth = "token";
};

// A number of 0 or more (CLI11's own check prints the largest double).
CLI::Validator NonNegative() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        double d = 0;
        size_t used = 0;
        try {
          d = std::stod(v, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != v.size() || v.empty() || !(d >= 0)) return "'" + v + "' is not a number of 0 or more";
        return "";
      },
      "NUMBER >= 0");
}

// A worker node on the same machine as its head joins the head's session
// (`glint stop` finds its daemons there), in a directory of its own,
// <session>/node-XXXXXX, for its logs and spilled objects: in the head's,
// both raylets would list its files, and a job's workers on both nodes
// would share one fork server log.
absl::Status SessionFor(const StartFlags& f, NodeOptions* o) {
  std::string latest = LatestSession();
  if (!f.head && !latest.empty() && ReadFile(latest + "/gcs_address") == f.cluster.address) {
    o->session_dir = latest;
    std::string dir = latest + "/node-XXXXXX";
    if (!mkdtemp(dir.data())) {
      return absl::UnavailableError(absl::StrCat("cannot create a node directory in ", latest, ": ", strerror(errno)));
    }
    o->node_dir = dir;
    return absl::OkStatus();
  }
  auto dir = NewSessionDir();
  if (!dir.ok() || dir->empty()) {
    return absl::UnavailableError(absl::StrCat("cannot create a session directory under ", SessionRoot()));
  }
  o->session_dir = *dir;
  return absl::OkStatus();
}

int Start(const StartFlags& f) {
  NodeOptions o;
  o.host = f.host;
  o.gcs_address = f.head ? "" : f.cluster.address;
  o.gcs_port = f.port;
  o.dashboard_port = f.no_dashboard ? -1 : f.dashboard_port;
  o.num_cpus = f.num_cpus;
  o.num_gpus = f.num_gpus;
  o.resources_json = f.resources;
  for (auto& [flag, value] : {std::pair<const char*, const std::string&>{"object_store_memory", f.object_store_memory},
                              {"object_store_dir", f.object_store_dir},
                              {"object_spilling_dir", f.object_spilling_dir},
                              {"object_inline_threshold", f.object_inline_threshold}}) {
    if (!value.empty()) o.extra_raylet_flags.push_back(absl::StrCat("--", flag, "=", value));
  }
  if (f.no_object_spilling) o.extra_raylet_flags.push_back("--object_spilling=false");
  if (!f.storage_path.empty()) o.gcs_store = "sqlite:" + f.storage_path;
  if (!f.storage.empty()) o.gcs_store = f.storage;
  if (f.auth == "disabled") {
    o.auth_disabled = true;
    std::cerr << "glint start: WARNING: authentication is disabled; anyone who can reach this cluster can run "
                 "code on it\n";
  }
  AuthOptions auth = Auth(f.cluster, o.gcs_address);
  if (!o.auth_disabled) o.auth_token = auth.token;
  o.tls = auth.tls;
  if (auto s = SessionFor(f, &o); !s.ok()) {
    std::cerr << "glint start: " << s.message() << "\n";
    return kFailed;
  }
  auto daemons = StartNode(o);
  if (!daemons.ok()) {
    std::cerr << "glint start: " << daemons.status().message() << "\n";
    return kFailed;
  }
  if (f.head) MarkLatestSession(o.session_dir);  // only once its cluster is up
  std::ofstream pids(o.session_dir + "/pids", std::ios::app);
  for (auto& d : *daemons) pids << d.pid << " " << StartTime(d.pid) << " " << d.name << "\n";
  pids.close();
  std::string gcs = f.head ? daemons->front().address : o.gcs_address;
  for (auto& d : *daemons) std::cout << "started " << d.name << " (pid " << d.pid << ") on " << d.address << "\n";
  std::cout << (f.head ? "head node" : "worker node") << " is up; logs in "
            << (o.node_dir.empty() ? o.session_dir : o.node_dir) << "/logs\n";
  if (f.head) {
    std::cout << "connect drivers with GLINT_ADDRESS=" << gcs << " (or Config{.address = \"" << gcs
              << "\"});\nadd a node with: glint start --address " << gcs << "\n";
    if (!o.auth_disabled) {
      std::cout << "drivers on this machine find the cluster token themselves; elsewhere pass "
                   "--auth-token $(glint get-auth-token)\n";
    }
    for (auto& d : *daemons) {
      if (d.name == "glint-dashboard") {
        std::cout << "dashboard and jobs API on " << (o.tls.enabled() ? "https://" : "http://") << d.address
                  << " (with the cluster token); run a job with: glint job submit -- COMMAND\n";
      }
    }
  }
  return 0;
}

// A recorded daemon is still the process we started (not gone, not a reused pid).
bool StillRuns(pid_t pid, const std::string& start) { return ProcessAlive(pid) && StartTime(pid) == start; }

// Starts the GCS of this machine's latest cluster again, on its port and
// store, after it died: the nodes re-register and everything carries on.
int RestartGcs(const ClusterFlags& flags) {
  std::string session = LatestSession();
  std::string address = session.empty() ? "" : ReadFile(session + "/gcs_address");
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "glint restart-gcs: no cluster started with 'glint start --head' on this machine\n";
    return kFailed;
  }
  std::istringstream pids(ReadFile(session + "/pids"));
  pid_t pid;
  std::string start, name;
  while (pids >> pid >> start >> name) {
    if (name == "glint-gcs" && StillRuns(pid, start)) {
      std::cerr << "glint restart-gcs: the GCS (pid " << pid << ") is running; nothing to do\n";
      return kFailed;
    }
  }
  NodeOptions o;
  o.host = address.substr(0, colon);
  o.gcs_port = std::stoi(address.substr(colon + 1));
  o.session_dir = session;
  o.gcs_store = ReadFile(session + "/gcs_store");
  AuthOptions auth = Auth(flags, address);
  o.auth_token = auth.token;
  o.auth_disabled = auth.token.empty();
  o.tls = auth.tls;
  auto gcs = StartGcs(o);
  if (!gcs.ok()) {
    std::cerr << "glint restart-gcs: " << gcs.status().message() << "\n";
    return kFailed;
  }
  std::ofstream(session + "/pids", std::ios::app) << gcs->pid << " " << StartTime(gcs->pid) << " " << gcs->name << "\n";
  std::cout << "started glint-gcs (pid " << gcs->pid << ") on " << gcs->address << " with the store "
            << (o.gcs_store.empty() ? DefaultGcsStore(session) : o.gcs_store) << "\n";
  return 0;
}

// Stops what every `glint start` on this machine started (each session
// records its daemons in <session>/pids), like `ray stop`: a second head, or
// a worker node of a cluster whose head is elsewhere, has a session of its own.
int Stop() {
  struct Proc {
    pid_t pid;
    std::string start, name;
  };
  std::vector<Proc> procs;
  std::vector<std::string> lists;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(SessionRoot(), ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("session_", 0) != 0 || e.is_symlink(ec)) continue;  // session_latest is one of them
    std::string list = ReadFile(e.path().string() + "/pids");
    if (list.empty()) continue;
    lists.push_back(e.path().string() + "/pids");
    std::istringstream in(list);
    Proc p;
    while (in >> p.pid >> p.start >> p.name) procs.push_back(p);
  }
  if (lists.empty()) {
    std::cout << "no Glint processes started with 'glint start' are recorded\n";
    return 0;
  }
  // The dashboard first (it stops its jobs and records so in the GCS), then
  // the raylets (they take their workers with them), the GCS last.
  auto rank = [](const Proc& p) { return p.name == "glint-dashboard" ? 0 : p.name == "glint-gcs" ? 2 : 1; };
  std::stable_sort(procs.begin(), procs.end(), [&](const Proc& x, const Proc& y) { return rank(x) < rank(y); });
  int stopped = 0;
  for (auto& pr : procs) {
    if (!StillRuns(pr.pid, pr.start)) continue;
    StopDaemon(pr.pid, 5000);
    std::cout << "stopped " << pr.name << " (pid " << pr.pid << ")\n";
    ++stopped;
  }
  for (auto& l : lists) unlink(l.c_str());
  // A raylet killed (kill -9, OOM) left its object store behind.
  RemoveStaleObjectStores("/dev/shm");
  if (stopped == 0) std::cout << "nothing was running\n";
  return 0;
}

}  // namespace

void AddNodeCommands(CLI::App* app, int* exit_code) {
  auto f = std::make_shared<StartFlags>();
  auto* start = app->add_subcommand("start", "start a head node (--head) or a node that joins one (--address)");
  auto* head = start->add_flag("--head", f->head, "start a head node: the GCS and a raylet");
  AddClusterFlags(start, &f->cluster, "the head node's GCS, HOST:PORT, to join as a worker node");
  start->get_option("--address")->excludes(head);
  start->add_option("--port", f->port, "the GCS's port (head; 0 picks a free one)")->capture_default_str()->check(CLI::Range(0, 65535));
  start->add_option("--dashboard-port", f->dashboard_port,
                                      "head: the dashboard's port, its HTTP endpoint and jobs API (0 picks a free one)")
                        ->capture_default_str()
                        ->check(CLI::Range(0, 65535))
                        ->envname("GLINT_DASHBOARD_PORT");
  start->add_flag("--no-dashboard", f->no_dashboard, "head: start no dashboard (and so run no jobs)");
  start->add_option("--host", f->host, "this node's address, as the other nodes reach it")->capture_default_str();
  start->add_option("--num-cpus", f->num_cpus, "CPUs this node offers (default: all)")->check(NonNegative());
  start->add_option("--num-gpus", f->num_gpus, "GPUs this node offers (default: those it has)")->check(NonNegative());
  start->add_option("--resources", f->resources, R"(custom resources as JSON, e.g. '{"special": 2}')");
  start->add_option("--object-store-memory", f->object_store_memory,
                    "the node's object store, e.g. 4G (default: 30% of RAM)");
  start->add_option("--object-store-dir", f->object_store_dir,
                    "where the object store lives, a tmpfs (default: /dev/shm; one mounted with huge=always "
                    "gives it 2 MiB pages)")
      ->check(CLI::ExistingDirectory);
  auto* spill_dir = start->add_option("--object-spilling-dir", f->object_spilling_dir,
                                      "where full stores spill objects (default: the session directory)");
  start->add_flag("--no-object-spilling", f->no_object_spilling, "never spill to disk")->excludes(spill_dir);
  start->add_option("--object-inline-threshold", f->object_inline_threshold,
                    "values at least this large go to the store, e.g. 100K");
  auto* path = start->add_option("--storage-path", f->storage_path,
                                 "head: the GCS's SQLite file (default: gcs.db in the session)");
  start->add_option("--storage", f->storage, "head: the GCS's store: sqlite:FILE, memory, or redis://[:PW@]HOST:PORT[/NS]")
      ->excludes(path);
  start->add_option("--auth", f->auth, "token, or disabled (a cluster anyone who reaches it can use)")
      ->capture_default_str()
      ->check(CLI::IsMember({"token", "disabled"}));
  start->callback([f, exit_code] {
    if (!f->head && f->cluster.address.empty()) {
      throw CLI::ValidationError("glint start", "give --head, or --address HOST:PORT of the head node");
    }
    *exit_code = Start(*f);
  });

  auto restart_flags = std::make_shared<ClusterFlags>();
  auto* restart = app->add_subcommand("restart-gcs",
                                      "start the GCS of this machine's latest cluster again, on its port and store, "
                                      "after it died");
  AddClusterFlags(restart, restart_flags.get(), "(not used: the latest cluster on this machine is the one)");
  restart->callback([restart_flags, exit_code] { *exit_code = RestartGcs(*restart_flags); });

  auto* stop = app->add_subcommand("stop", "stop what every 'glint start' on this machine started");
  stop->callback([exit_code] { *exit_code = Stop(); });
}

}  // namespace glint::cli
