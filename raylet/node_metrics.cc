#include "raylet/node_metrics.h"

#include "common/auth.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/rpc.h"

namespace glint::raylet {

std::string NodeMetricsText(const NodeMetricsSources& s) {
  metrics::Exposition out;
  const std::string node = IdHex(s.node_id);
  for (const auto& [resource, total] : s.leases->Total()) {
    out.Gauge("glint_node_resources_total", "What this node offers, by resource.", {{"node", node}, {"resource", resource}},
              total);
  }
  for (const auto& [resource, free] : s.leases->Available()) {
    out.Gauge("glint_node_resources_available", "What this node has free, by resource.",
              {{"node", node}, {"resource", resource}}, free);
  }
  auto by_state = s.pool->CountByState();  // indexed by WorkerInfo::State
  const char* names[4] = {"STARTING", "IDLE", "LEASED", "ACTOR"};
  for (int i = 0; i < 4; ++i) {
    out.Gauge("glint_node_workers", "Worker processes on this node, by state.", {{"node", node}, {"state", names[i]}},
              by_state[i]);
  }
  for (auto [how, n] : {std::pair{"forked", s.spawner->forked()}, std::pair{"spawned", s.spawner->spawned()}}) {
    out.Counter("glint_node_workers_started_total",
                "Worker processes this node started: forked by their job's fork server, or spawned from scratch.",
                {{"node", node}, {"how", how}}, n);
  }
  out.Gauge("glint_node_workers_waiting_to_start",
            "Worker starts waiting for a start-up slot or for their job's fork server.", {{"node", node}},
            s.pool->Waiting());
  out.Counter("glint_node_lease_calls_total", "Lease calls this node answered (each asks for one or more workers).",
              {{"node", node}}, s.leases->calls());
  out.Counter("glint_node_lease_requests_total", "Workers asked for in those calls.", {{"node", node}},
              s.leases->asked());
  proto::ObjectStoreInfo store = s.store->Info();
  out.Gauge("glint_object_store_bytes", "Bytes of objects in this node's store, by location.",
            {{"node", node}, {"location", "memory"}}, store.used());
  out.Gauge("glint_object_store_bytes", "Bytes of objects in this node's store, by location.",
            {{"node", node}, {"location", "spilled"}}, store.spilled_bytes());
  out.Gauge("glint_object_store_objects", "Objects in this node's store, by location.",
            {{"node", node}, {"location", "memory"}}, store.num_objects());
  out.Gauge("glint_object_store_objects", "Objects in this node's store, by location.",
            {{"node", node}, {"location", "spilled"}}, store.num_spilled());
  out.Counter("glint_object_store_served_bytes_total", "Bytes of objects other nodes read from this node's store.",
              {{"node", node}}, store.bytes_served());
  out.Gauge("glint_object_store_capacity_bytes", "This node's object store memory.", {{"node", node}},
            store.capacity());
  int tasks = 0, actors = 0;
  for (const auto& d : s.leases->PendingDemand(NowMs())) {
    tasks += d.tasks();
    actors += d.actors();
  }
  out.Gauge("glint_node_pending_tasks", "Tasks waiting here for resources.", {{"node", node}}, tasks);
  out.Gauge("glint_node_pending_actors", "Actor creations waiting here for resources.", {{"node", node}}, actors);
  metrics::ExportMachineMetrics(&out, {{"node", node}});
  metrics::ExportServerRpcMetrics(&out);
  return out.Text();
}

absl::StatusOr<std::unique_ptr<HttpServer>> StartMetricsServer(const std::string& host, int port,
                                                               const AuthOptions& auth, NodeMetricsSources sources) {
  HttpServerOptions o;
  o.host = host;
  o.port = port;
  o.auth_token = auth.token;
  o.tls = auth.tls;
  o.threads = 1;
  o.handler_threads = 1;  // its handlers read memory only
  o.max_connections = 32;
  o.max_body_bytes = 4096;  // scrapes send no body
  if (!auth.token.empty() && !auth.tls.enabled() && !IsLoopback(host)) {
    LOG(WARNING) << "the metrics port listens on 127.0.0.1 only: without TLS it speaks plain HTTP, and " << host
                 << " is reachable from other hosts";
    o.host = "127.0.0.1";
  }
  auto server = std::make_unique<HttpServer>(o);
  server->Route("GET", "/metrics", [sources](const HttpRequest&) {
    return HttpResponse{200, metrics::Exposition::kContentType, NodeMetricsText(sources)};
  });
  if (auto s = server->Start(); !s.ok()) return s;
  return server;
}

}  // namespace glint::raylet
