// What the dashboard's page shows, as one JSON document:
//   GET /api/cluster -> {"nodes": [...], "actors": [...], "drivers": [...],
//                        "placement_groups": [...], "tasks": {...}, "jobs": [...],
//                        "errors": [...]}
// nodes (resources, object store, pending demand), actors, drivers (the
// GCS's jobs) and placement groups as the GCS holds them (protobuf's JSON
// mapping, field names as in proto/*.proto, ids in base64), the task
// summary, and the submitted jobs (jobs_api.h). A part the GCS could not
// give is left empty and named in "errors". Behind the cluster token.
#pragma once
#include <memory>

#include "common/http_server.h"
#include "dashboard/cluster_view.h"
#include "dashboard/job_supervisor.h"

namespace glint::dashboard {

void AddClusterRoutes(HttpServer* server, std::shared_ptr<ClusterView> view, JobSupervisor* jobs);

}  // namespace glint::dashboard
