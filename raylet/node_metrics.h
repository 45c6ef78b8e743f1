// A raylet's metrics port: GET /metrics (Prometheus text, behind the
// cluster token) with this node's resources (total and free), workers by
// state and how they started (forked or from scratch), object store bytes
// and objects by location (memory, spilled),
// work waiting for resources, the machine's CPUs, load and memory, and the
// latency of every unary call its gRPC server answered, by method. Its port
// is in the node's record at the GCS (glint status lists it).
#pragma once
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth.h"
#include "common/http_server.h"
#include "raylet/lease_manager.h"
#include "raylet/object_store.h"
#include "raylet/worker_pool.h"
#include "raylet/worker_spawner.h"

namespace glint::raylet {

struct NodeMetricsSources {
  std::string node_id;
  LeaseManager* leases;
  WorkerPool* pool;
  ObjectStore* store;
  ProcessSpawner* spawner;
};

// This node's metrics as they are now.
std::string NodeMetricsText(const NodeMetricsSources& s);

// Serves them on `host`:`port` (0: a free port), asking for the cluster
// token, over HTTPS when the cluster has TLS. Plain HTTP carries the token
// in clear, so with a token, no TLS and a host other machines reach, it
// listens on 127.0.0.1 instead (and says so).
absl::StatusOr<std::unique_ptr<HttpServer>> StartMetricsServer(const std::string& host, int port,
                                                               const AuthOptions& auth, NodeMetricsSources sources);

}  // namespace glint::raylet
