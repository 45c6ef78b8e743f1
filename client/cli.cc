// glint: the command-line tool.
//   glint start --head [--port P] [--host IP] [--num-cpus N] [--num-gpus N] [--resources JSON]
//               [--object-store-memory SIZE] [--object-spilling-dir DIR] [--no-object-spilling]
//               [--object-inline-threshold SIZE]
//   glint start --address HOST:PORT [same node options]
//   glint start --head ... [--storage sqlite:PATH|memory] [--storage-path PATH]
//   glint restart-gcs   (this machine's latest cluster, after its GCS died)
//   glint stop
//   glint status [--address HOST:PORT]
//   glint list actors|nodes|jobs|placement-groups [--namespace NS] [--all] [--address HOST:PORT]
//   glint kill-actor NAME [--namespace NS] [--address HOST:PORT]
//   glint get-auth-token [--address HOST:PORT]
// Every command takes --auth-token TOKEN or --auth-token-file FILE (else
// $GLINT_AUTH_TOKEN, else the token a session on this machine recorded);
// `glint start --head --auth=disabled` starts a cluster without one. With
// --tls-cert, --tls-key and --tls-ca (PEM files; --tls-mutual to require
// client certificates) every connection uses TLS.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <algorithm>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/async_call.h"
#include "common/auth.h"
#include "common/ids.h"
#include "common/launcher.h"
#include "common/session.h"
#include "common/process.h"
#include "common/resources.h"
#include "common/rpc.h"
#include "proto/gcs.grpc.pb.h"

namespace {

// The session that `glint start --head` made last.
std::string Latest() { return glint::SessionRoot() + "/session_latest"; }

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;  // "--num-cpus" and "--num_cpus" alike
  bool Has(const std::string& f) const { return flags.count(f) > 0; }
  std::string Get(const std::string& f, const std::string& def = "") const {
    auto it = flags.find(f);
    return it == flags.end() ? def : it->second;
  }
};

Args Parse(int argc, char** argv) {
  static const std::vector<std::string> kBool = {"head", "all", "help", "no_object_spilling", "tls_mutual"};
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) != 0) {
      a.positional.push_back(s);
      continue;
    }
    s = s.substr(2);
    for (auto& c : s) if (c == '-') c = '_';
    auto eq = s.find('=');
    if (eq != std::string::npos) {
      a.flags[s.substr(0, eq)] = s.substr(eq + 1);
    } else if (std::find(kBool.begin(), kBool.end(), s) != kBool.end() || i + 1 >= argc) {
      a.flags[s] = "true";
    } else {
      a.flags[s] = argv[++i];
    }
  }
  return a;
}

int Usage() {
  std::cerr << "usage:\n"
               "  glint start --head [--port 6380] [--host IP] [--num-cpus N] [--num-gpus N] "
               "[--resources JSON]\n"
               "      [--object-store-memory 2G] [--object-spilling-dir DIR] [--no-object-spilling]\n"
               "      [--object-inline-threshold 100K]\n"
               "      [--storage-path FILE (default: gcs.db in the session) | --storage sqlite:FILE|memory]\n"
               "  glint start --address HOST:PORT [--num-cpus N] [--num-gpus N] [--resources JSON]\n"
               "  glint restart-gcs   (start the GCS again on its port and store after it died)\n"
               "  glint stop\n"
               "  glint status [--address HOST:PORT]\n"
               "  glint list actors|nodes|jobs|placement-groups [--namespace NS] [--all] [--address HOST:PORT]\n"
               "  glint kill-actor NAME [--namespace NS] [--address HOST:PORT]\n"
               "  glint get-auth-token [--address HOST:PORT]\n"
               "every command: [--auth-token TOKEN | --auth-token-file FILE]; glint start --head: [--auth=disabled]\n"
               "every command, for a cluster with TLS: --tls-cert FILE --tls-key FILE --tls-ca FILE [--tls-mutual]\n"
               "      [--tls-server-name NAME]\n";
  return 2;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The process's start time (field 22 of /proc/PID/stat): tells a pid reused
// by another program from the one we started.
std::string StartTime(pid_t pid) {
  std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  auto close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && in >> field; ++i) {
  }
  return field;
}

std::string GcsAddress(const Args& a) {
  if (a.Has("address")) return a.Get("address");
  if (const char* e = getenv("GLINT_ADDRESS")) return e;
  return ReadFile(Latest() + "/gcs_address");
}

// How to talk to the cluster at `gcs`: the token from --auth-token,
// --auth-token-file, $GLINT_AUTH_TOKEN, or what a session on this machine
// recorded for that cluster ("" if none: the cluster must then run open);
// TLS from --tls-cert/--tls-key/--tls-ca, $GLINT_TLS_*, or the session.
glint::AuthOptions Auth(const Args& a, const std::string& gcs) {
  glint::AuthOptions auth;
  if (a.Has("auth_token")) auth.token = a.Get("auth_token");
  if (a.Has("auth_token_file")) {
    auto t = glint::ReadTokenFile(a.Get("auth_token_file"));
    if (!t.ok()) throw std::runtime_error(std::string(t.status().message()));
    auth.token = *t;
  }
  auth.tls = glint::TlsFiles{a.Get("tls_cert"), a.Get("tls_key"), a.Get("tls_ca"), a.Has("tls_mutual"),
                             a.Get("tls_server_name")};
  return glint::ResolveAuth(auth, gcs);
}

int Start(const Args& a) {
  glint::NodeOptions o;
  bool head = a.Has("head");
  if (!head && !a.Has("address")) {
    std::cerr << "glint start: give --head, or --address HOST:PORT of the head node\n";
    return 2;
  }
  o.host = a.Get("host", "127.0.0.1");
  o.gcs_address = head ? "" : a.Get("address");
  o.gcs_port = std::stoi(a.Get("port", "6380"));
  if (o.gcs_port < 0 || o.gcs_port > 65535) {
    std::cerr << "glint start: --port " << o.gcs_port << " is not a port (0 to 65535; 0 picks a free one)\n";
    return 2;
  }
  o.num_cpus = std::stod(a.Get("num_cpus", "-1"));
  o.num_gpus = std::stod(a.Get("num_gpus", "-1"));
  o.resources_json = a.Get("resources");
  for (const char* f : {"object_store_memory", "object_spilling_dir", "object_inline_threshold"}) {
    if (a.Has(f)) o.extra_raylet_flags.push_back(absl::StrCat("--", f, "=", a.Get(f)));
  }
  if (a.Has("no_object_spilling")) o.extra_raylet_flags.push_back("--object_spilling=false");
  if (a.Has("storage_path")) o.gcs_store = "sqlite:" + a.Get("storage_path");
  if (a.Has("storage")) o.gcs_store = a.Get("storage");
  if (a.Get("auth", "token") == "disabled") {
    o.auth_disabled = true;
    std::cerr << "glint start: WARNING: authentication is disabled; anyone who can reach this cluster can run "
                 "code on it\n";
  } else if (a.Get("auth", "token") != "token") {
    std::cerr << "glint start: --auth takes 'token' (the default) or 'disabled'\n";
    return 2;
  }
  glint::AuthOptions auth = Auth(a, o.gcs_address);
  if (!o.auth_disabled) o.auth_token = auth.token;
  o.tls = auth.tls;
  // A worker node on the same machine joins the head's session directory.
  std::string latest = ReadFile(Latest() + "/gcs_address");
  absl::StatusOr<std::string> dir;
  if (!head && latest == o.gcs_address) {
    char buf[4096];
    ssize_t n = readlink(Latest().c_str(), buf, sizeof(buf) - 1);
    dir = n > 0 ? std::string(buf, n) : glint::NewSessionDir().value_or("");
  } else {
    dir = glint::NewSessionDir();  // the latest only once its cluster is up
  }
  if (!dir.ok() || dir->empty()) {
    std::cerr << "glint start: cannot create a session directory\n";
    return 1;
  }
  o.session_dir = *dir;
  auto daemons = glint::StartNode(o);
  if (!daemons.ok()) {
    std::cerr << "glint start: " << daemons.status().message() << "\n";
    return 1;
  }
  if (head) glint::MarkLatestSession(o.session_dir);
  std::ofstream pids(o.session_dir + "/pids", std::ios::app);
  for (auto& d : *daemons) pids << d.pid << " " << StartTime(d.pid) << " " << d.name << "\n";
  pids.close();
  std::string gcs = head ? daemons->front().address : o.gcs_address;
  for (auto& d : *daemons) std::cout << "started " << d.name << " (pid " << d.pid << ") on " << d.address << "\n";
  std::cout << (head ? "head node" : "worker node") << " is up; logs in " << o.session_dir << "/logs\n";
  if (head) {
    std::cout << "connect drivers with GLINT_ADDRESS=" << gcs << " (or Config{.address = \"" << gcs
              << "\"});\nadd a node with: glint start --address " << gcs << "\n";
    if (!o.auth_disabled) {
      std::cout << "drivers on this machine find the cluster token themselves; elsewhere pass "
                   "--auth-token $(glint get-auth-token)\n";
    }
  }
  return 0;
}

std::string LatestSession() {
  char buf[4096];
  ssize_t n = readlink(Latest().c_str(), buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, n) : std::string();
}

// A recorded daemon is still the process we started (not gone, not a reused pid).
bool StillRuns(pid_t pid, const std::string& start) { return glint::ProcessAlive(pid) && StartTime(pid) == start; }

// Starts the GCS of this machine's latest cluster again, on its port and
// store, after it died: the nodes re-register and everything carries on.
int RestartGcs(const Args& a) {
  std::string session = LatestSession();
  std::string address = session.empty() ? "" : ReadFile(session + "/gcs_address");
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "glint restart-gcs: no cluster started with 'glint start --head' on this machine\n";
    return 1;
  }
  std::istringstream pids(ReadFile(session + "/pids"));
  pid_t pid;
  std::string start, name;
  while (pids >> pid >> start >> name) {
    if (name == "glint-gcs" && StillRuns(pid, start)) {
      std::cerr << "glint restart-gcs: the GCS (pid " << pid << ") is running; nothing to do\n";
      return 1;
    }
  }
  glint::NodeOptions o;
  o.host = address.substr(0, colon);
  o.gcs_port = std::stoi(address.substr(colon + 1));
  o.session_dir = session;
  o.gcs_store = ReadFile(session + "/gcs_store");
  glint::AuthOptions auth = Auth(a, address);
  o.auth_token = auth.token;
  o.auth_disabled = auth.token.empty();
  o.tls = auth.tls;
  auto gcs = glint::StartGcs(o);
  if (!gcs.ok()) {
    std::cerr << "glint restart-gcs: " << gcs.status().message() << "\n";
    return 1;
  }
  std::ofstream(session + "/pids", std::ios::app) << gcs->pid << " " << StartTime(gcs->pid) << " " << gcs->name << "\n";
  std::cout << "started glint-gcs (pid " << gcs->pid << ") on " << gcs->address << " with the store "
            << (o.gcs_store.empty() ? glint::DefaultGcsStore(session) : o.gcs_store) << "\n";
  return 0;
}

// Stops what every `glint start` on this machine started (each session
// records its daemons in <session>/pids), like `ray stop`: a second head, or
// a worker node of a cluster whose head is elsewhere, has a session of its own.
int Stop() {
  struct Proc { pid_t pid; std::string start, name; };
  std::vector<Proc> procs;
  std::vector<std::string> lists;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(glint::SessionRoot(), ec)) {
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
  // Raylets first (they take their workers with them), the GCS last.
  std::stable_sort(procs.begin(), procs.end(), [](const Proc& x, const Proc& y) {
    return x.name != "glint-gcs" && y.name == "glint-gcs";
  });
  int stopped = 0;
  for (auto& pr : procs) {
    if (!StillRuns(pr.pid, pr.start)) continue;
    glint::StopDaemon(pr.pid, 5000);
    std::cout << "stopped " << pr.name << " (pid " << pr.pid << ")\n";
    ++stopped;
  }
  for (auto& l : lists) unlink(l.c_str());
  // A raylet killed (kill -9, OOM) left its object store behind.
  glint::RemoveStaleObjectStores("/dev/shm");
  if (stopped == 0) std::cout << "nothing was running\n";
  return 0;
}

const char* StateName(glint::proto::ActorState s) {
  switch (s) {
    case glint::proto::DEPENDENCIES_UNREADY: return "DEPENDENCIES_UNREADY";
    case glint::proto::PENDING_CREATION: return "PENDING_CREATION";
    case glint::proto::ALIVE: return "ALIVE";
    case glint::proto::RESTARTING: return "RESTARTING";
    case glint::proto::DEAD: return "DEAD";
    default: return "?";
  }
}

struct Gcs {
  std::unique_ptr<glint::proto::GcsService::Stub> stub;
  std::string address;
  std::unique_ptr<glint::ClientQueueThread> client = std::make_unique<glint::ClientQueueThread>();
  template <typename Req, typename Reply, typename M>
  bool Call(M method, const Req& req, Reply* reply) {
    auto s = glint::BlockingCall(client->queue(), stub.get(), method, req, 5000, reply);
    if (!s.ok()) std::cerr << "cannot reach the GCS at " << address << ": " << s.message() << "\n";
    return s.ok();
  }
};

std::optional<Gcs> Connect(const Args& a) {
  std::string address = GcsAddress(a);
  if (address.empty()) {
    std::cerr << "no cluster address: start one with 'glint start --head' or pass --address\n";
    return std::nullopt;
  }
  if (auto s = glint::SetClusterAuth(Auth(a, address)); !s.ok()) {
    std::cerr << s.message() << "\n";
    return std::nullopt;
  }
  return Gcs{glint::MakeStub<glint::proto::GcsService>(address), address};
}

int GetAuthToken(const Args& a) {
  std::string address = GcsAddress(a);
  std::string token = Auth(a, address).token;
  if (token.empty()) {
    std::cerr << "glint get-auth-token: no token recorded for the cluster at " << (address.empty() ? "?" : address)
              << " on this machine (was it started with --auth=disabled, or on another host?)\n";
    return 1;
  }
  std::cout << token << "\n";
  return 0;
}

// A stable order for listings: `key` ascending.
template <typename T, typename K>
std::vector<T> Sorted(const google::protobuf::RepeatedPtrField<T>& items, K key) {
  std::vector<T> v(items.begin(), items.end());
  std::stable_sort(v.begin(), v.end(), [&](const T& a, const T& b) { return key(a) < key(b); });
  return v;
}

std::string Mib(int64_t bytes) { return absl::StrCat(bytes / (1 << 20), " MiB"); }

void PrintNodes(const glint::proto::GetAllNodesReply& nodes) {
  std::cout << "NODE      ADDRESS               STATE  HEAD  WORKERS  RESOURCES (available / total)\n";
  for (auto& n : Sorted(nodes.nodes(), [](const glint::proto::NodeInfo& x) {
         return std::make_pair(!x.is_head(), glint::AddrString(x.address()));
       })) {
    std::printf("%-9s %-21s %-6s %-5s %-8lld %s / %s\n", glint::ShortHex(n.node_id()).c_str(),
                glint::AddrString(n.address()).c_str(), n.alive() ? "ALIVE" : "DEAD",
                n.is_head() ? "yes" : "", static_cast<long long>(n.num_workers()),
                glint::ToString(glint::FromProto(n.available_resources())).c_str(),
                glint::ToString(glint::FromProto(n.total_resources())).c_str());
  }
  std::cout << "\nNODE      OBJECT STORE (used / capacity)   OBJECTS  SPILLED TO DISK\n";
  for (auto& n : Sorted(nodes.nodes(), [](const glint::proto::NodeInfo& x) {
         return std::make_pair(!x.is_head(), glint::AddrString(x.address()));
       })) {
    if (!n.alive()) continue;
    const auto& s = n.object_store();
    std::string use = absl::StrCat(Mib(s.used()), " / ", Mib(s.capacity()));
    std::printf("%-9s %-32s %-8lld %s in %lld objects\n", glint::ShortHex(n.node_id()).c_str(), use.c_str(),
                static_cast<long long>(s.num_objects()), Mib(s.spilled_bytes()).c_str(),
                static_cast<long long>(s.num_spilled()));
  }
}

void PrintActors(const glint::proto::ListActorsReply& actors) {
  std::cout << "ACTOR     CLASS            NAME             NAMESPACE        STATE     NODE      PID     "
               "RESTARTS  LIFETIME\n";
  for (auto& a : Sorted(actors.actors(), [](const glint::proto::ActorInfo& x) {
         return std::make_tuple(x.ray_namespace(), x.name(), x.actor_id());
       })) {
    std::printf("%-9s %-16s %-16s %-16s %-9s %-9s %-7d %-9d %s\n", glint::ShortHex(a.actor_id()).c_str(),
                a.class_name().c_str(), a.name().empty() ? "-" : a.name().c_str(),
                a.ray_namespace().c_str(), StateName(a.state()),
                a.address().node_id().empty() ? "-" : glint::ShortHex(a.address().node_id()).c_str(),
                a.pid(), a.num_restarts(), a.lifetime() == glint::proto::DETACHED ? "detached" : "non-detached");
    if (a.state() == glint::proto::DEAD && !a.death_cause().empty()) {
      std::cout << "          death cause: " << a.death_cause() << "\n";
    } else if (a.state() == glint::proto::RESTARTING && !a.death_cause().empty()) {
      std::cout << "          restarting: " << a.death_cause() << "\n";
    }
  }
}

void PrintJobs(const glint::proto::GetAllJobsReply& jobs) {
  std::cout << "JOB       STATE     DRIVER PID  NAMESPACE\n";
  for (auto& j : Sorted(jobs.jobs(), [](const glint::proto::JobInfo& x) { return x.start_time_ms(); })) {
    std::printf("%-9s %-9s %-11d %s\n", glint::ShortHex(j.job_id()).c_str(),
                j.finished() ? "FINISHED" : "RUNNING", j.driver_pid(), j.ray_namespace().c_str());
  }
}

const char* GroupStateName(glint::proto::PlacementGroupState s) {
  switch (s) {
    case glint::proto::PG_PENDING: return "PENDING";
    case glint::proto::PG_CREATED: return "CREATED";
    case glint::proto::PG_REMOVED: return "REMOVED";
    case glint::proto::PG_RESCHEDULING: return "RESCHEDULING";
    default: return "?";
  }
}

const char* StrategyName(glint::proto::PlacementStrategy s) {
  switch (s) {
    case glint::proto::PACK: return "PACK";
    case glint::proto::SPREAD: return "SPREAD";
    case glint::proto::STRICT_PACK: return "STRICT_PACK";
    case glint::proto::STRICT_SPREAD: return "STRICT_SPREAD";
    default: return "?";
  }
}

void PrintPlacementGroups(const glint::proto::ListPlacementGroupsReply& groups) {
  std::cout << "GROUP     NAME             NAMESPACE        STATE         STRATEGY       BUNDLES\n";
  for (auto& g : Sorted(groups.groups(), [](const glint::proto::PlacementGroupInfo& x) {
         return std::make_tuple(x.ray_namespace(), x.name(), x.group_id());
       })) {
    std::printf("%-9s %-16s %-16s %-13s %-14s %d\n", glint::ShortHex(g.group_id()).c_str(),
                g.name().empty() ? "-" : g.name().c_str(), g.ray_namespace().c_str(), GroupStateName(g.state()),
                StrategyName(g.strategy()), g.bundles_size());
    for (int i = 0; i < g.bundles_size(); ++i) {
      auto& b = g.bundles(i);
      std::cout << "          bundle " << i << ": " << glint::ToString(glint::FromProto(b.resources()))
                << (b.node_id().empty() ? "" : " on node " + glint::ShortHex(b.node_id())) << "\n";
    }
    if (g.state() != glint::proto::PG_CREATED && !g.pending_reason().empty()) {
      std::cout << "          pending: " << g.pending_reason() << "\n";
    }
  }
}

int Status(const Args& a) {
  auto gcs = Connect(a);
  if (!gcs) return 1;
  glint::proto::GetAllNodesReply nodes;
  glint::proto::ListActorsReply actors;
  glint::proto::GetAllJobsReply jobs;
  glint::proto::ListPlacementGroupsReply groups;
  glint::proto::ListActorsRequest lr;
  if (!gcs->Call(&glint::proto::GcsService::Stub::PrepareAsyncGetAllNodes, glint::proto::GetAllNodesRequest(), &nodes) ||
      !gcs->Call(&glint::proto::GcsService::Stub::PrepareAsyncListActors, lr, &actors) ||
      !gcs->Call(&glint::proto::GcsService::Stub::PrepareAsyncGetAllJobs, glint::proto::GetAllJobsRequest(), &jobs) ||
      !gcs->Call(&glint::proto::GcsService::Stub::PrepareAsyncListPlacementGroups,
                 glint::proto::ListPlacementGroupsRequest(), &groups)) {
    return 1;
  }
  std::cout << "cluster at " << gcs->address << "\n\n";
  PrintNodes(nodes);
  std::cout << "\n";
  PrintActors(actors);
  if (groups.groups_size() > 0) {
    std::cout << "\n";
    PrintPlacementGroups(groups);
  }
  std::cout << "\n";
  PrintJobs(jobs);
  return 0;
}

int List(const Args& a) {
  if (a.positional.size() < 2) return Usage();
  auto gcs = Connect(a);
  if (!gcs) return 1;
  const std::string& what = a.positional[1];
  if (what == "nodes") {
    glint::proto::GetAllNodesReply r;
    if (!gcs->Call(&glint::proto::GcsService::Stub::PrepareAsyncGetAllNodes, glint::proto::GetAllNodesRequest(), &r)) return 1;
    PrintNodes(r);
  } else if (what == "actors") {
    glint::proto::ListActorsRequest req;
    req.set_ray_namespace(a.Get("namespace"));
    req.set_all(a.Has("all"));
    glint::proto::ListActorsReply r;
    if (!gcs->Call(&glint::proto::GcsService::Stub::PrepareAsyncListActors, req, &r)) return 1;
    PrintActors(r);
  } else if (what == "jobs") {
    glint::proto::GetAllJobsReply r;
    if (!gcs->Call(&glint::proto::GcsService::Stub::PrepareAsyncGetAllJobs, glint::proto::GetAllJobsRequest(), &r)) return 1;
    PrintJobs(r);
  } else if (what == "placement-groups") {
    glint::proto::ListPlacementGroupsReply r;
    if (!gcs->Call(&glint::proto::GcsService::Stub::PrepareAsyncListPlacementGroups,
                   glint::proto::ListPlacementGroupsRequest(), &r)) {
      return 1;
    }
    PrintPlacementGroups(r);
  } else {
    return Usage();
  }
  return 0;
}

int KillActor(const Args& a) {
  if (a.positional.size() < 2) return Usage();
  auto gcs = Connect(a);
  if (!gcs) return 1;
  const std::string& name = a.positional[1];
  glint::proto::ListActorsRequest req;
  req.set_ray_namespace(a.Get("namespace"));  // empty: every namespace
  glint::proto::ListActorsReply r;
  if (!gcs->Call(&glint::proto::GcsService::Stub::PrepareAsyncListActors, req, &r)) return 1;
  std::vector<glint::proto::ActorInfo> found;
  for (auto& actor : r.actors()) {
    if (actor.name() == name) found.push_back(actor);
  }
  if (found.empty()) {
    std::cerr << "no alive actor named '" << name << "'"
              << (a.Has("namespace") ? " in namespace '" + a.Get("namespace") + "'" : "") << "\n";
    return 1;
  }
  if (found.size() > 1) {
    std::cerr << "several actors are named '" << name << "'; pick one with --namespace\n";
    return 1;
  }
  glint::proto::KillActorRequest kr;
  kr.set_actor_id(found[0].actor_id());
  kr.set_no_restart(true);
  kr.set_reason("killed with 'glint kill-actor'");
  glint::proto::KillActorReply kreply;
  if (!gcs->Call(&glint::proto::GcsService::Stub::PrepareAsyncKillActor, kr, &kreply)) return 1;
  std::cout << "killed actor '" << name << "' in namespace '" << found[0].ray_namespace() << "'\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  if (a.positional.empty() || a.Has("help")) return Usage();
  const std::string& cmd = a.positional[0];
  try {
    if (cmd == "start") return Start(a);
    if (cmd == "stop") return Stop();
    if (cmd == "restart-gcs") return RestartGcs(a);
    if (cmd == "status") return Status(a);
    if (cmd == "list") return List(a);
    if (cmd == "kill-actor") return KillActor(a);
    if (cmd == "get-auth-token") return GetAuthToken(a);
  } catch (const std::exception& e) {  // e.g. a non-numeric --num-cpus
    std::cerr << "glint " << cmd << ": " << e.what() << "\n";
    return 2;
  }
  return Usage();
}
