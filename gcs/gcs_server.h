// GcsServer: the glint-gcs process. Owns the managers, serves GcsService,
// KvService and TaskEventService, and runs a ticker for health checks and
// long-poll deadlines. Start() once, Stop() once; thread-safe in between.
//
// One completion queue carries everything the GCS says and hears over
// gRPC: the requests to its services and the replies to its calls to
// raylets and workers. One thread polls it and answers each request as it
// takes it off the socket, as libglint's processes do (common/queue_poller.h:
// gRPC's callback API passed every request from the thread that read it to
// another, a thread switch per call); a cover thread polls while that one is
// held up in a handler (a slow store write).
#pragma once
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/async_call.h"
#include "common/health_service.h"
#include "common/server_queue.h"
#include "common/ticker.h"
#include "gcs/actor_manager.h"
#include "gcs/cluster_client.h"
#include "gcs/job_manager.h"
#include "gcs/kv_service.h"
#include "gcs/kv_table.h"
#include "gcs/node_manager.h"
#include "gcs/placement_group_manager.h"
#include "gcs/store.h"
#include "gcs/task_event_service.h"
#include "gcs/task_table.h"

namespace glint::gcs {

struct GcsOptions {
  std::string host = "127.0.0.1";
  int port = 6380;
  std::string store = "memory";
  int64_t heartbeat_timeout_ms = 4000;
  // A registered job whose driver opens no keep-alive within this ends.
  int64_t unproven_job_ms = 30000;
};

class GcsServer {
 public:
  GcsServer(GcsOptions options, std::unique_ptr<GcsStore> store,
            std::unique_ptr<ClusterClient> cluster);
  ~GcsServer();
  absl::Status Start();
  void Stop();
  int port() const { return port_; }

 private:
  class Service;  // GcsService: gcs_service.h
  // Reads the tables back from the store (a restarted GCS carries on).
  void Recover();
  GcsOptions options_;
  std::unique_ptr<GcsStore> store_;
  std::unique_ptr<ClusterClient> cluster_;
  NodeManager nodes_;
  JobManager jobs_;
  ActorManager actors_;
  PlacementGroupManager groups_;
  KvTable kv_;
  TaskTable tasks_;  // recent tasks' states (memory only)
  std::unique_ptr<Service> service_;
  std::unique_ptr<KvService> kv_service_;
  std::unique_ptr<TaskEventService> task_service_;
  std::unique_ptr<HealthService> health_service_;
  ServerQueue queue_;  // requests, and the cluster's calls; outlives the server
  std::unique_ptr<grpc::Server> server_;
  Ticker ticker_;  // health checks, long-poll deadlines
  std::atomic<bool> stopping_{false};
  int port_ = 0;
};

}  // namespace glint::gcs
