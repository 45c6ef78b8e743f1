#include "dashboard/cluster_api.h"

#include <memory>

#include <nlohmann/json.hpp>

#include "common/proto_json.h"
#include "dashboard/cluster_view.h"
#include "dashboard/jobs_api.h"

namespace glint::dashboard {
namespace {

constexpr int kMaxActors = 2000;  // the page shows the first ones; `glint list actors` has them all

nlohmann::json Snapshot(ClusterView* view, JobSupervisor* jobs) {
  ClusterSnapshot c = view->Snapshot();
  auto& actors = *c.actors.mutable_actors();
  const int total = actors.size();
  if (total > kMaxActors) actors.DeleteSubrange(kMaxActors, total - kMaxActors);
  for (auto& a : actors) a.clear_creation_task();  // its arguments are not the page's
  nlohmann::json out = {
      {"nodes", ProtoJson(c.nodes)["nodes"]},
      {"actors", ProtoJson(c.actors)["actors"]},
      {"actors_total", total},
      {"drivers", ProtoJson(c.drivers)["jobs"]},
      {"placement_groups", ProtoJson(c.groups)["groups"]},
      {"tasks", ProtoJson(c.tasks)},
      {"errors", c.errors},
      {"jobs", nlohmann::json::array()},
  };
  for (const char* list : {"nodes", "actors", "drivers", "placement_groups"}) {
    if (!out[list].is_array()) out[list] = nlohmann::json::array();  // an empty repeated field prints nothing
  }
  for (const auto& job : jobs->List()) out["jobs"].push_back(JobJson(job));
  return out;
}

}  // namespace

void AddClusterRoutes(HttpServer* server, std::shared_ptr<ClusterView> view, JobSupervisor* jobs) {
  server->Route("GET", "/api/cluster", [view, jobs](const HttpRequest&) {
    return HttpResponse{200, "application/json",
                        Snapshot(view.get(), jobs).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  });
}

}  // namespace glint::dashboard
