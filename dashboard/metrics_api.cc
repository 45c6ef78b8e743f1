#include "dashboard/metrics_api.h"

#include <map>
#include <memory>

#include "absl/strings/strip.h"
#include "common/ids.h"
#include "common/metrics.h"
#include "dashboard/cluster_view.h"
#include "dashboard/jobs_api.h"

namespace glint::dashboard {
namespace {

using metrics::Exposition;

// Counts by state, every state named (a state with none is 0, so a graph
// sees it drop to zero rather than vanish).
template <typename Enum, typename NameFn>
void ByState(Exposition* out, const std::string& name, const std::string& help, const std::map<Enum, int>& counts,
             std::initializer_list<Enum> states, NameFn state_name) {
  for (Enum s : states) {
    auto it = counts.find(s);
    out->Gauge(name, help, {{"state", state_name(s)}}, it == counts.end() ? 0 : it->second);
  }
}

std::string Text(ClusterView* view, JobSupervisor* jobs) {
  ClusterSnapshot c = view->Snapshot();
  Exposition out;
  int alive = 0, dead = 0;
  for (const auto& n : c.nodes.nodes()) (n.alive() ? alive : dead)++;
  out.Gauge("glint_cluster_nodes", "Nodes the GCS knows, by state.", {{"state", "ALIVE"}}, alive);
  out.Gauge("glint_cluster_nodes", "Nodes the GCS knows, by state.", {{"state", "DEAD"}}, dead);

  std::map<proto::ActorState, int> actors;
  for (const auto& a : c.actors.actors()) actors[a.state()]++;
  ByState(&out, "glint_cluster_actors", "Actors by state (the dead ones the GCS still lists included).", actors,
          {proto::DEPENDENCIES_UNREADY, proto::PENDING_CREATION, proto::ALIVE, proto::RESTARTING, proto::DEAD},
          [](proto::ActorState s) { return proto::ActorState_Name(s); });

  std::map<std::string, int64_t> tasks = {{"PENDING", 0}, {"RUNNING", 0}, {"FINISHED", 0}, {"FAILED", 0}};
  for (const auto& s : c.tasks.summaries()) {
    for (const auto& [state, n] : s.state_counts()) tasks[state] += n;
  }
  for (const auto& [state, n] : tasks) {
    out.Gauge("glint_cluster_tasks", "The GCS's recent tasks (up to 100,000) by state.", {{"state", state}}, n);
  }
  out.Counter("glint_cluster_task_events_dropped_total", "Task reports the GCS's table could not keep.", {},
              c.tasks.dropped());

  std::map<proto::JobStatus, int> submitted;
  for (const auto& j : jobs->List()) submitted[j.status()]++;
  ByState(&out, "glint_cluster_jobs", "Submitted jobs (glint job submit) by status.", submitted,
          {proto::JOB_PENDING, proto::JOB_RUNNING, proto::JOB_STOPPED, proto::JOB_SUCCEEDED, proto::JOB_FAILED},
          JobStatusName);

  int running = 0, finished = 0;
  for (const auto& d : c.drivers.jobs()) (d.finished() ? finished : running)++;
  out.Gauge("glint_cluster_drivers", "Drivers (the GCS's jobs) by state.", {{"state", "RUNNING"}}, running);
  out.Gauge("glint_cluster_drivers", "Drivers (the GCS's jobs) by state.", {{"state", "FINISHED"}}, finished);

  std::map<proto::PlacementGroupState, int> groups;
  for (const auto& g : c.groups.groups()) groups[g.state()]++;
  ByState(&out, "glint_cluster_placement_groups", "Placement groups by state.", groups,
          {proto::PG_PENDING, proto::PG_CREATED, proto::PG_RESCHEDULING, proto::PG_REMOVED},
          [](proto::PlacementGroupState s) { return std::string(absl::StripPrefix(proto::PlacementGroupState_Name(s), "PG_")); });

  for (const auto& n : c.nodes.nodes()) {
    if (!n.alive()) continue;
    const std::string node = IdHex(n.node_id());
    for (const auto& [resource, total] : n.total_resources()) {
      out.Gauge("glint_cluster_node_resources_total", "What each alive node offers, by resource.",
                {{"node", node}, {"resource", resource}}, total);
    }
    for (const auto& [resource, free] : n.available_resources()) {
      out.Gauge("glint_cluster_node_resources_available", "What each alive node has free, by resource.",
                {{"node", node}, {"resource", resource}}, free);
    }
    out.Gauge("glint_cluster_object_store_bytes", "Bytes of objects in each node's store, by location.",
              {{"node", node}, {"location", "memory"}}, n.object_store().used());
    out.Gauge("glint_cluster_object_store_bytes", "Bytes of objects in each node's store, by location.",
              {{"node", node}, {"location", "spilled"}}, n.object_store().spilled_bytes());
    out.Gauge("glint_cluster_object_store_capacity_bytes", "Each node's object store memory.", {{"node", node}},
              n.object_store().capacity());
    out.Gauge("glint_cluster_node_workers", "Worker processes on each node.", {{"node", node}}, n.num_workers());
    int waiting_tasks = 0, waiting_actors = 0;
    for (const auto& d : n.pending()) {
      waiting_tasks += d.tasks();
      waiting_actors += d.actors();
    }
    out.Gauge("glint_cluster_pending_tasks", "Tasks each node holds waiting for resources.", {{"node", node}},
              waiting_tasks);
    out.Gauge("glint_cluster_pending_actors", "Actor creations each node holds waiting for resources.",
              {{"node", node}}, waiting_actors);
  }
  metrics::ExportMachineMetrics(&out, {{"node", "head"}});
  out.Gauge("glint_cluster_scrape_errors", "Parts of the cluster's state the GCS did not give for this scrape.", {},
            c.errors.size());
  return out.Text();
}

}  // namespace

void AddMetricsRoutes(HttpServer* server, std::shared_ptr<ClusterView> view, JobSupervisor* jobs) {
  server->Route("GET", "/metrics", [view, jobs](const HttpRequest&) {
    return HttpResponse{200, metrics::Exposition::kContentType, Text(view.get(), jobs)};
  });
}

}  // namespace glint::dashboard
