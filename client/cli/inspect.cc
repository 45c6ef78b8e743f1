// glint status, glint list, glint kill-actor, glint get-auth-token: what a
// cluster's GCS knows, as tables or (--json) as JSON from protobuf's printer.
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "client/cli/cli.h"
#include "common/async_call.h"
#include "common/ids.h"
#include "common/resources.h"
#include "common/rpc.h"
#include "proto/gcs.grpc.pb.h"

namespace glint::cli {
namespace {

using Stub = proto::GcsService::Stub;

// A stable order for listings: `key` ascending.
template <typename T, typename K>
std::vector<T> Sorted(const google::protobuf::RepeatedPtrField<T>& items, K key) {
  std::vector<T> v(items.begin(), items.end());
  std::stable_sort(v.begin(), v.end(), [&](const T& a, const T& b) { return key(a) < key(b); });
  return v;
}

std::string Mib(int64_t bytes) { return absl::StrCat(bytes / (1 << 20), " MiB"); }

void PrintNodes(const proto::GetAllNodesReply& nodes) {
  auto order = [](const proto::NodeInfo& x) { return std::make_pair(!x.is_head(), AddrString(x.address())); };
  std::cout << "NODE      ADDRESS               STATE  HEAD  WORKERS  RESOURCES (available / total)\n";
  for (auto& n : Sorted(nodes.nodes(), order)) {
    std::printf("%-9s %-21s %-6s %-5s %-8lld %s / %s\n", ShortHex(n.node_id()).c_str(), AddrString(n.address()).c_str(),
                n.alive() ? "ALIVE" : "DEAD", n.is_head() ? "yes" : "", static_cast<long long>(n.num_workers()),
                ToString(FromProto(n.available_resources())).c_str(), ToString(FromProto(n.total_resources())).c_str());
  }
  std::cout << "\nNODE      OBJECT STORE (used / capacity)   PAGES  OBJECTS  SPILLED TO DISK\n";
  for (auto& n : Sorted(nodes.nodes(), order)) {
    if (!n.alive()) continue;
    const auto& s = n.object_store();
    std::string use = absl::StrCat(Mib(s.used()), " / ", Mib(s.capacity()));
    std::printf("%-9s %-32s %-6s %-8lld %s in %lld objects\n", ShortHex(n.node_id()).c_str(), use.c_str(),
                s.huge_pages() ? "2 MiB" : "4 KiB", static_cast<long long>(s.num_objects()),
                Mib(s.spilled_bytes()).c_str(), static_cast<long long>(s.num_spilled()));
  }
  std::cout << "\nNODE      METRICS (Prometheus text; send the cluster token as a bearer header)\n";
  for (auto& n : Sorted(nodes.nodes(), order)) {
    if (!n.alive()) continue;
    std::printf("%-9s %s\n", ShortHex(n.node_id()).c_str(),
                n.metrics_address().empty()
                    ? "none"
                    : absl::StrCat(TlsEnabled() ? "https://" : "http://", n.metrics_address(), "/metrics").c_str());
  }
  bool any = false;
  for (auto& n : Sorted(nodes.nodes(), order)) {
    if (!n.alive()) continue;
    for (auto& d : n.pending()) {
      if (!any) std::cout << "\nPENDING (waiting for resources)\nNODE      SHAPE            TASKS  ACTORS  WAITING  WHY\n";
      any = true;
      std::printf("%-9s %-16s %-6d %-7d %-8s %s\n", ShortHex(n.node_id()).c_str(),
                  ToString(FromProto(d.shape())).c_str(), d.tasks(), d.actors(),
                  absl::StrCat(d.waiting_ms() / 1000, " s").c_str(), d.held_by().c_str());
    }
  }
}

void PrintActors(const proto::ListActorsReply& actors) {
  std::cout << "ACTOR     CLASS            NAME             NAMESPACE        STATE     NODE      PID     "
               "RESTARTS  LIFETIME\n";
  for (auto& a : Sorted(actors.actors(), [](const proto::ActorInfo& x) {
         return std::make_tuple(x.ray_namespace(), x.name(), x.actor_id());
       })) {
    std::printf("%-9s %-16s %-16s %-16s %-9s %-9s %-7d %-9d %s\n", ShortHex(a.actor_id()).c_str(),
                a.class_name().c_str(), a.name().empty() ? "-" : a.name().c_str(), a.ray_namespace().c_str(),
                proto::ActorState_Name(a.state()).c_str(),
                a.address().node_id().empty() ? "-" : ShortHex(a.address().node_id()).c_str(), a.pid(),
                a.num_restarts(), a.lifetime() == proto::DETACHED ? "detached" : "non-detached");
    if (a.state() == proto::DEAD && !a.death_cause().empty()) {
      std::cout << "          death cause: " << a.death_cause() << "\n";
    } else if (a.state() == proto::RESTARTING && !a.death_cause().empty()) {
      std::cout << "          restarting: " << a.death_cause() << "\n";
    }
  }
}

void PrintJobs(const proto::GetAllJobsReply& jobs) {
  std::cout << "JOB       STATE     DRIVER PID  NAMESPACE\n";
  for (auto& j : Sorted(jobs.jobs(), [](const proto::JobInfo& x) { return x.start_time_ms(); })) {
    std::printf("%-9s %-9s %-11d %s\n", ShortHex(j.job_id()).c_str(), j.finished() ? "FINISHED" : "RUNNING",
                j.driver_pid(), j.ray_namespace().c_str());
  }
}

// "PG_PENDING" as "PENDING".
std::string GroupStateName(proto::PlacementGroupState s) { return proto::PlacementGroupState_Name(s).substr(3); }

void PrintPlacementGroups(const proto::ListPlacementGroupsReply& groups) {
  std::cout << "GROUP     NAME             NAMESPACE        STATE         STRATEGY       BUNDLES\n";
  for (auto& g : Sorted(groups.groups(), [](const proto::PlacementGroupInfo& x) {
         return std::make_tuple(x.ray_namespace(), x.name(), x.group_id());
       })) {
    std::printf("%-9s %-16s %-16s %-13s %-14s %d\n", ShortHex(g.group_id()).c_str(),
                g.name().empty() ? "-" : g.name().c_str(), g.ray_namespace().c_str(),
                GroupStateName(g.state()).c_str(), proto::PlacementStrategy_Name(g.strategy()).c_str(),
                g.bundles_size());
    for (int i = 0; i < g.bundles_size(); ++i) {
      auto& b = g.bundles(i);
      std::cout << "          bundle " << i << ": " << ToString(FromProto(b.resources()))
                << (b.node_id().empty() ? "" : " on node " + ShortHex(b.node_id())) << "\n";
    }
    if (g.state() != proto::PG_CREATED && !g.pending_reason().empty()) {
      std::cout << "          pending: " << g.pending_reason() << "\n";
    }
  }
}

void PrintWorkers(const proto::ListWorkersReply& workers) {
  std::cout << "WORKER    NODE      PID     STATE     JOB       LOG\n";
  for (auto& w : Sorted(workers.workers(), [](const proto::WorkerState& x) {
         return std::make_tuple(x.node_id(), x.job_id(), x.pid());
       })) {
    std::printf("%-9s %-9s %-7d %-9s %-9s %s\n", ShortHex(w.worker_id()).c_str(), ShortHex(w.node_id()).c_str(),
                w.pid(), w.state().c_str(), w.job_id().empty() ? "-" : ShortHex(w.job_id()).c_str(),
                w.log_file().c_str());
  }
  if (workers.truncated()) std::cout << "(more on some nodes: raise --limit)\n";
}

void PrintObjects(const proto::ListObjectsReply& objects) {
  std::cout << "OBJECT    NODE      SIZE          STATE      COPY     PINS  OWNER\n";
  for (auto& o : Sorted(objects.objects(), [](const proto::ObjectState& x) {
         return std::make_tuple(x.node_id(), x.created_ms(), x.object_id());
       })) {
    std::printf("%-9s %-9s %-13lld %-10s %-8s %-5d %s\n", ShortHex(o.object_id()).c_str(),
                ShortHex(o.node_id()).c_str(), static_cast<long long>(o.size()), o.state().c_str(),
                o.primary() ? "primary" : "cached", o.pins(), o.owner().c_str());
  }
  if (objects.truncated()) std::cout << "(more on some nodes: raise --limit)\n";
}

struct InspectFlags {
  ClusterFlags cluster;
  bool json = false;
  std::string ns;
  bool all = false;
  std::string what, name;
  std::vector<std::string> filter_args;
  std::vector<Filter> filters;
  int limit = 0;
};

int Status(const InspectFlags& f) {
  auto gcs = Connect(f.cluster);
  if (!gcs) return kFailed;
  proto::GetAllNodesReply nodes;
  proto::ListActorsReply actors;
  proto::GetAllJobsReply jobs;
  proto::ListPlacementGroupsReply groups;
  if (!gcs->Call(&Stub::PrepareAsyncGetAllNodes, proto::GetAllNodesRequest(), &nodes) ||
      !gcs->Call(&Stub::PrepareAsyncListActors, proto::ListActorsRequest(), &actors) ||
      !gcs->Call(&Stub::PrepareAsyncGetAllJobs, proto::GetAllJobsRequest(), &jobs) ||
      !gcs->Call(&Stub::PrepareAsyncListPlacementGroups, proto::ListPlacementGroupsRequest(), &groups)) {
    return kFailed;
  }
  if (f.json) {
    nlohmann::json out = {{"address", gcs->address},
                          {"nodes", Json(nodes)["nodes"]},
                          {"actors", Json(actors)["actors"]},
                          {"placement_groups", Json(groups)["groups"]},
                          {"jobs", Json(jobs)["jobs"]}};
    std::cout << out.dump(2) << "\n";
    return 0;
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

// Prints `reply` as a table (`print`) or, with --json, the list in `field`.
template <typename Reply, typename Print>
void Show(const InspectFlags& f, const Reply& reply, const char* field, Print print) {
  if (f.json) {
    std::cout << Json(reply)[field].dump(2) << "\n";
  } else {
    print(reply);
  }
}

// Keeps what passes --filter and --limit, then prints it (`field`: the
// list in the reply, for --json). False (the reason on stderr) on a filter
// naming no field.
template <typename Reply, typename Items, typename Print>
bool Filtered(const InspectFlags& f, Reply& reply, Items* items, const char* field, Print print) {
  std::string error;
  if (!KeepPassing(items, f.filters, f.limit, &error)) {
    std::cerr << error << "\n";
    return false;
  }
  Show(f, reply, field, print);
  return true;
}

int List(const InspectFlags& f) {
  std::vector<Filter> filters;
  std::string error;
  if (!ParseFilters(f.filter_args, &filters, &error)) {
    std::cerr << error << "\n";
    return kUsage;
  }
  InspectFlags flags = f;
  flags.filters = std::move(filters);
  auto gcs = Connect(f.cluster);
  if (!gcs) return kFailed;
  bool ok = true;
  if (f.what == "nodes") {
    proto::GetAllNodesReply r;
    if (!gcs->Call(&Stub::PrepareAsyncGetAllNodes, proto::GetAllNodesRequest(), &r)) return kFailed;
    ok = Filtered(flags, r, r.mutable_nodes(), "nodes", PrintNodes);
  } else if (f.what == "actors") {
    proto::ListActorsRequest req;
    req.set_ray_namespace(f.ns);
    req.set_all(f.all);
    proto::ListActorsReply r;
    if (!gcs->Call(&Stub::PrepareAsyncListActors, req, &r)) return kFailed;
    ok = Filtered(flags, r, r.mutable_actors(), "actors", PrintActors);
  } else if (f.what == "jobs") {
    proto::GetAllJobsReply r;
    if (!gcs->Call(&Stub::PrepareAsyncGetAllJobs, proto::GetAllJobsRequest(), &r)) return kFailed;
    ok = Filtered(flags, r, r.mutable_jobs(), "jobs", PrintJobs);
  } else if (f.what == "workers") {
    proto::ListWorkersReply r;
    bool all_nodes = CollectWorkers(*gcs, f.limit > 0 ? f.limit : 0, &r);
    ok = Filtered(flags, r, r.mutable_workers(), "workers", PrintWorkers) && all_nodes;
  } else if (f.what == "tasks") {
    proto::ListTasksReply r;
    // With filters, as many as the GCS gives (10000) go through them.
    if (!CollectTasks(*gcs, flags.filters.empty() ? f.limit : 10000, "", &r)) return kFailed;
    ok = Filtered(flags, r, r.mutable_tasks(), "tasks", PrintTasks);
  } else if (f.what == "objects") {
    proto::ListObjectsReply r;
    bool all_nodes = CollectObjects(*gcs, f.limit > 0 ? f.limit : 0, &r);
    ok = Filtered(flags, r, r.mutable_objects(), "objects", PrintObjects) && all_nodes;
  } else {  // placement-groups (the only other choice the parser lets through)
    proto::ListPlacementGroupsReply r;
    if (!gcs->Call(&Stub::PrepareAsyncListPlacementGroups, proto::ListPlacementGroupsRequest(), &r)) return kFailed;
    ok = Filtered(flags, r, r.mutable_groups(), "groups", PrintPlacementGroups);
  }
  return ok ? 0 : kFailed;
}

int KillActor(const InspectFlags& f) {
  auto gcs = Connect(f.cluster);
  if (!gcs) return kFailed;
  proto::ListActorsRequest req;
  req.set_ray_namespace(f.ns);  // empty: every namespace
  proto::ListActorsReply r;
  if (!gcs->Call(&Stub::PrepareAsyncListActors, req, &r)) return kFailed;
  std::vector<proto::ActorInfo> found;
  for (auto& actor : r.actors()) {
    if (actor.name() == f.name) found.push_back(actor);
  }
  if (found.empty()) {
    std::cerr << "no alive actor named '" << f.name << "'" << (f.ns.empty() ? "" : " in namespace '" + f.ns + "'")
              << "\n";
    return kFailed;
  }
  if (found.size() > 1) {
    std::cerr << "several actors are named '" << f.name << "'; pick one with --namespace\n";
    return kFailed;
  }
  proto::KillActorRequest kr;
  kr.set_actor_id(found[0].actor_id());
  kr.set_no_restart(true);
  kr.set_reason("killed with 'glint kill-actor'");
  proto::KillActorReply kreply;
  if (!gcs->Call(&Stub::PrepareAsyncKillActor, kr, &kreply)) return kFailed;
  std::cout << "killed actor '" << f.name << "' in namespace '" << found[0].ray_namespace() << "'\n";
  return 0;
}

int GetAuthToken(const ClusterFlags& f) {
  std::string address = GcsAddress(f);
  std::string token = Auth(f, address).token;
  if (token.empty()) {
    std::cerr << "glint get-auth-token: no token recorded for the cluster at " << (address.empty() ? "?" : address)
              << " on this machine (was it started with --auth=disabled, or on another host?)\n";
    return kFailed;
  }
  std::cout << token << "\n";
  return 0;
}

}  // namespace

void AddInspectCommands(CLI::App* app, int* exit_code) {
  const std::string address_help = "the cluster's GCS, HOST:PORT (default: $GLINT_ADDRESS, else this machine's latest)";
  auto f = std::make_shared<InspectFlags>();
  auto* status = app->add_subcommand("status", "nodes with their resources and object stores, actors, placement "
                                               "groups, jobs");
  AddClusterFlags(status, &f->cluster, address_help);
  status->add_flag("--json", f->json, "print JSON");
  status->callback([f, exit_code] { *exit_code = Status(*f); });

  auto* list = app->add_subcommand("list", "list one kind of thing the cluster has");
  list->add_option("what", f->what, "actors, nodes, jobs, placement-groups, workers, objects or tasks")
      ->required()
      ->check(CLI::IsMember({"actors", "nodes", "jobs", "placement-groups", "workers", "objects", "tasks"}));
  AddClusterFlags(list, &f->cluster, address_help);
  list->add_flag("--json", f->json, "print JSON");
  list->add_option("--namespace", f->ns, "actors: only this namespace's");
  list->add_flag("--all", f->all, "actors: the dead ones too");
  list->add_option("--filter", f->filter_args,
                   "KEY=VALUE or KEY!=VALUE on a field as --json prints it (ids: a hex prefix); repeatable");
  list->add_option("--limit", f->limit,
                   "at most N (workers, objects: per node; default all, 1000 per node or the 1000 newest tasks)")
      ->check(CLI::NonNegativeNumber);
  list->callback([f, exit_code] { *exit_code = List(*f); });

  auto* kill = app->add_subcommand("kill-actor", "kill a named actor (no restart; its name becomes free)");
  kill->add_option("name", f->name, "the actor's name")->required();
  kill->add_option("--namespace", f->ns, "its namespace (needed when several have the name)");
  AddClusterFlags(kill, &f->cluster, address_help);
  kill->callback([f, exit_code] { *exit_code = KillActor(*f); });

  auto* token = app->add_subcommand("get-auth-token", "print the cluster's token (for drivers on other hosts)");
  AddClusterFlags(token, &f->cluster, address_help);
  token->callback([f, exit_code] { *exit_code = GetAuthToken(f->cluster); });
}

}  // namespace glint::cli
