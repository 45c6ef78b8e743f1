// glint logs: the log files of a cluster's nodes (the daemons' and one per
// worker), listed or printed, from each node's LogService (on its raylet's
// port). A file is picked by name, or by the actor or worker that wrote it.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/cli/cli.h"
#include "common/ids.h"
#include "common/session.h"
#include "common/rpc.h"
#include "proto/logs.grpc.pb.h"

namespace glint::cli {
namespace {

using LogStub = proto::LogService::Stub;

struct LogFlags {
  ClusterFlags cluster;
  std::string file, node, actor, worker, job, ns;
  bool follow = false;
  int tail = 1000;
};

// One node's logs: its files, and how to read them.
struct NodeLogs {
  proto::NodeInfo node;
  std::shared_ptr<LogStub> stub;
  proto::ListLogsReply files;
};

// The alive nodes (only --node's, when given) with their log files.
std::vector<NodeLogs> ListNodes(Gcs& gcs, const LogFlags& f, bool* ok) {
  std::vector<NodeLogs> out;
  proto::GetAllNodesReply nodes;
  *ok = gcs.Call(&proto::GcsService::Stub::PrepareAsyncGetAllNodes, proto::GetAllNodesRequest(), &nodes);
  if (!*ok) return out;
  for (auto& n : nodes.nodes()) {
    if (!n.alive() || (!f.node.empty() && !MatchesId(n.node_id(), f.node))) continue;
    NodeLogs nl{n, MakeStub<proto::LogService>(AddrString(n.address())), {}};
    auto s = BlockingCall(gcs.client->queue(), nl.stub, &LogStub::PrepareAsyncListLogs, proto::ListLogsRequest(),
                          5000, &nl.files);
    if (!s.ok()) {
      std::cerr << "node " << ShortHex(n.node_id()) << " (" << AddrString(n.address())
                << "): cannot list its logs: " << s.message() << "\n";
      continue;
    }
    out.push_back(std::move(nl));
  }
  if (!f.node.empty() && out.empty()) {
    std::cerr << "no alive node whose id starts with '" << f.node << "' (glint list nodes)\n";
    *ok = false;
  }
  // The head first: where the cluster's own logs are.
  std::stable_sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.node.is_head() > b.node.is_head(); });
  return out;
}

int PrintList(const std::vector<NodeLogs>& nodes) {
  for (auto& n : nodes) {
    std::cout << "node " << ShortHex(n.node.node_id()) << " (" << AddrString(n.node.address()) << ")"
              << (n.node.is_head() ? ", head" : "") << ":\n";
    for (auto& file : n.files.files()) std::printf("  %-40s %10lld bytes\n", file.name().c_str(),
                                                   static_cast<long long>(file.size()));
  }
  return 0;
}

// The file written by the actor --actor names (an id prefix or its name).
bool FindActorLog(Gcs& gcs, const LogFlags& f, std::string* node_id, std::string* file) {
  proto::ListActorsRequest req;
  req.set_ray_namespace(f.ns);
  req.set_all(true);
  proto::ListActorsReply r;
  if (!gcs.Call(&proto::GcsService::Stub::PrepareAsyncListActors, req, &r)) return false;
  std::vector<proto::ActorInfo> found;
  for (auto& a : r.actors()) {
    if (a.name() == f.actor || MatchesId(a.actor_id(), f.actor)) found.push_back(a);
  }
  // A name can be taken again after its actor died: the live one wins.
  if (found.size() > 1) {
    std::vector<proto::ActorInfo> alive;
    for (auto& a : found) {
      if (a.state() != proto::DEAD) alive.push_back(a);
    }
    if (alive.size() == 1) found = alive;
  }
  if (found.size() != 1) {
    std::cerr << (found.empty() ? "no actor with the id or name '" : "several actors match '") << f.actor << "'"
              << (found.empty() ? " (glint list actors --all)" : "; give more of its id or --namespace") << "\n";
    return false;
  }
  auto& a = found[0];
  if (a.address().worker_id().empty() || a.pid() == 0) {
    std::cerr << "actor " << ShortHex(a.actor_id()) << " never ran in a worker (it is "
              << proto::ActorState_Name(a.state()) << ")\n";
    return false;
  }
  *node_id = a.address().node_id();
  *file = WorkerLogName(a.address().worker_id(), a.pid());
  return true;
}

// A file being printed: where in it the next read starts.
struct Source {
  const NodeLogs* node;
  std::string name;
  int64_t offset = -1;  // -1: not read yet (then its last --tail lines)
};

// Prints what `src` gained since the last read, headed by its name when
// `header`; how many bytes, or -1 (the reason on stderr) when it cannot be read.
int64_t PrintMore(Gcs& gcs, Source* src, const LogFlags& f, bool header) {
  proto::ReadLogRequest req;
  req.set_name(src->name);
  req.set_tail_lines(f.tail);
  req.set_max_bytes(4 << 20);
  int64_t printed = 0;
  for (;;) {
    req.set_offset(src->offset);
    proto::ReadLogReply r;
    auto s = BlockingCall(gcs.client->queue(), src->node->stub, &LogStub::PrepareAsyncReadLog, req, 10000, &r);
    if (!s.ok()) {
      std::cerr << "cannot read " << src->name << " on node " << ShortHex(src->node->node.node_id()) << ": "
                << s.message() << "\n";
      return -1;
    }
    if (header && printed == 0 && !r.data().empty()) {
      std::cout << "==> node " << ShortHex(src->node->node.node_id()) << ": " << src->name << " <==\n" << std::flush;
    }
    fwrite(r.data().data(), 1, r.data().size(), stdout);
    printed += static_cast<int64_t>(r.data().size());
    src->offset = r.offset() + static_cast<int64_t>(r.data().size());
    if (src->offset >= r.size()) return printed;  // read to its end (for now)
  }
}

// Prints the files (each headed by its node and name with `headers`), then
// with --follow what they gain, until interrupted.
int PrintFiles(Gcs& gcs, std::vector<Source> sources, const LogFlags& f, bool headers) {
  const Source* last = nullptr;  // whose lines came out last
  for (;;) {
    for (auto& src : sources) {
      int64_t printed = PrintMore(gcs, &src, f, headers && last != &src);
      if (printed < 0) return kFailed;
      if (printed > 0) last = &src;
    }
    if (!f.follow) return 0;
    fflush(stdout);
    absl::SleepFor(absl::Milliseconds(250));  // following files: the next look
  }
}

// The log files of the workers that ran job `job_id`'s calls: those its
// tasks in the GCS's table name, and those working for it now.
std::vector<Source> JobFiles(Gcs& gcs, const std::string& job_id, const std::vector<NodeLogs>& nodes, bool* ok) {
  std::set<std::string> prefixes;  // "worker-<short id>-"
  proto::ListTasksReply tasks;
  *ok = CollectTasks(gcs, 10000, job_id, &tasks);
  for (auto& t : tasks.tasks()) {
    if (!t.worker_id().empty()) prefixes.insert(WorkerLogPrefix(t.worker_id()));
  }
  proto::ListWorkersReply workers;
  *ok = CollectWorkers(gcs, 0, &workers) && *ok;
  for (auto& w : workers.workers()) {
    if (w.job_id() == job_id) prefixes.insert(WorkerLogPrefix(w.worker_id()));
  }
  std::vector<Source> out;
  for (auto& n : nodes) {
    for (auto& entry : n.files.files()) {
      auto it = prefixes.upper_bound(entry.name());
      if (it != prefixes.begin() && absl::StartsWith(entry.name(), *std::prev(it))) out.push_back({&n, entry.name()});
    }
  }
  return out;
}

int Logs(const LogFlags& f) {
  auto gcs = Connect(f.cluster);
  if (!gcs) return kFailed;
  if (f.tail < 0) {
    std::cerr << "--tail takes a number of lines, 0 or more\n";
    return kUsage;
  }
  LogFlags flags = f;
  std::string file = f.file;
  if (!f.actor.empty()) {
    std::string node_id;
    if (!FindActorLog(*gcs, f, &node_id, &file)) return kFailed;
    flags.node = IdHex(node_id);
  }
  std::string job_id;
  if (!f.job.empty() && !FindJob(*gcs, f.job, &job_id)) return kFailed;
  bool ok = true;
  auto nodes = ListNodes(*gcs, flags, &ok);
  if (!ok) return kFailed;
  if (!job_id.empty()) {
    auto files = JobFiles(*gcs, job_id, nodes, &ok);
    if (files.empty()) {
      std::cerr << "no worker log of job " << ShortHex(job_id) << " on "
                << (flags.node.empty() ? "any alive node" : "node " + flags.node.substr(0, 8))
                << (ok ? "" : " that answered") << " (its calls' workers are named by 'glint list tasks')\n";
      return kFailed;
    }
    return PrintFiles(*gcs, std::move(files), f, /*headers=*/true);
  }
  if (file.empty() && f.worker.empty()) return PrintList(nodes);
  for (auto& n : nodes) {
    for (auto& entry : n.files.files()) {
      bool match = f.worker.empty() ? entry.name() == file
                                    : absl::StartsWith(entry.name(), "worker-" + absl::AsciiStrToLower(f.worker.substr(0, 8)));
      if (match) return PrintFiles(*gcs, {Source{&n, entry.name()}}, f, /*headers=*/false);
    }
  }
  std::cerr << "no log " << (f.worker.empty() ? "'" + file + "'" : "of a worker whose id starts with '" + f.worker + "'")
            << " on " << (flags.node.empty() ? "any alive node" : "node " + flags.node.substr(0, 8))
            << " (glint logs lists them)\n";
  return kFailed;
}

}  // namespace

void AddLogCommands(CLI::App* app, int* exit_code) {
  auto f = std::make_shared<LogFlags>();
  auto* logs = app->add_subcommand(
      "logs", "list the nodes' log files, or print one: by name, or those an actor, worker or job's calls wrote");
  logs->add_option("file", f->file, "a file 'glint logs' lists (on the head, or --node)");
  AddClusterFlags(logs, &f->cluster,
                  "the cluster's GCS, HOST:PORT (default: $GLINT_ADDRESS, else this machine's latest)");
  logs->add_option("--node", f->node, "only this node (an id prefix, as glint list nodes shows)");
  auto* actor = logs->add_option("--actor", f->actor, "the log of this actor (its id prefix or its name)");
  logs->add_option("--namespace", f->ns, "--actor: the actor's namespace");
  auto* worker = logs->add_option("--worker", f->worker, "the log of this worker (its id prefix)");
  auto* job = logs->add_option("--job", f->job, "the logs of the workers that ran this job's calls (its id prefix)");
  actor->excludes(worker);
  job->excludes(actor);
  job->excludes(worker);
  logs->add_flag("--follow,-f", f->follow, "keep printing what the file gains (until interrupted)");
  logs->add_option("--tail", f->tail, "print the last N lines first (default 1000; 0: none)");
  logs->callback([f, exit_code] { *exit_code = Logs(*f); });
}

}  // namespace glint::cli
