// GET /metrics on the dashboard port: the cluster's state as Prometheus
// metrics (behind the cluster token, as Prometheus' `authorization`
// setting sends it): nodes, actors, recent tasks, submitted jobs, drivers
// and placement groups by state; each node's resources, object store
// (bytes in memory and spilled), workers and pending demand, as its last
// heartbeat told the GCS; the head machine's CPUs, load and memory. Each
// raylet serves its own node's metrics, with its RPC latencies, on its
// metrics port (raylet/node_metrics.h).
#pragma once
#include <memory>

#include "common/http_server.h"
#include "dashboard/cluster_view.h"
#include "dashboard/job_supervisor.h"

namespace glint::dashboard {

void AddMetricsRoutes(HttpServer* server, std::shared_ptr<ClusterView> view, JobSupervisor* jobs);

}  // namespace glint::dashboard
