// RayletServer: the glint-raylet of one node. Builds the node's parts in
// Start() and tears them down in Stop():
//   ObjectStore (object_store.h)     the node's shared-memory objects
//   ObjectPuller (object_puller.h)   copies from other nodes
//   ProcessSpawner (worker_spawner.h) + WorkerPool (worker_pool.h)   worker processes
//   LogMonitor (log_monitor.h)       workers' output, to their drivers
//   LeaseManager (lease_manager.h)   who gets which worker, spill-back
//   Bundles (bundles.h)              this node's share of placement groups
//   Service (raylet_service.cc)      RayletService, the RPC edge
//   LogService (log_service.h)       the node's log files, for `glint logs`
//   StateService (state_service.h)   its workers and objects, for `glint list`
// all served from one completion queue (common/server_queue.h), on which
// its own calls to the GCS and other raylets run too, and runs two loops:
// the heartbeat to the GCS (free resources, the cluster view, idle
// workers, unused leases) and the reaper (exited workers are reported).
// Start() once, Stop() once (kills this node's workers); several raylets
// may run in one process (tests).
#pragma once
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/async_call.h"
#include "common/health_service.h"
#include "common/ids.h"
#include "common/recent_set.h"
#include "common/resources.h"
#include "common/rpc.h"
#include "common/server_queue.h"
#include "common/ticker.h"
#include "proto/gcs.grpc.pb.h"
#include "proto/raylet.grpc.pb.h"
#include "proto/worker.grpc.pb.h"
#include "raylet/bundles.h"
#include "raylet/lease_manager.h"
#include "raylet/log_monitor.h"
#include "raylet/log_service.h"
#include "raylet/node_metrics.h"
#include "raylet/object_lender.h"
#include "raylet/state_service.h"
#include "raylet/object_puller.h"
#include "raylet/object_store.h"
#include "raylet/worker_pool.h"
#include "raylet/worker_spawner.h"

namespace glint::raylet {

struct RayletOptions {
  std::string gcs_address;
  std::string host = "127.0.0.1";
  int port = 0;
  ResourceSet resources;          // includes CPU and GPU
  std::vector<std::string> gpu_ids;  // the GPUs behind resources["GPU"] (raylet/gpus.h)
  bool is_head = false;
  std::string worker_path;        // the glint-worker binary
  std::string log_dir;            // worker logs go here ("" = inherit stderr)
  int64_t idle_worker_timeout_ms = 60000;
  int64_t unused_lease_ms = 10000;  // a task lease this old is asked about once (LeaseManager::OldLeasesToAsk)
  size_t max_starting_workers = 0;  // worker processes starting at once (0: no limit; worker_pool.h)
  bool fork_workers = true;         // fork a job's workers from a warm server of the job (fork_servers.h)
  bool same_host_copy = true;       // objects go between raylets of this host through memory (same_host_copy.h)
  int64_t heartbeat_ms = 300;
  int metrics_port = -1;          // /metrics (node_metrics.h): 0 picks a free port, < 0 serves none
  ObjectStoreOptions store;
  AuthOptions auth;  // handed to the workers it starts (none: an open cluster)
};

class RayletServer {
 public:
  explicit RayletServer(RayletOptions options);
  ~RayletServer();
  absl::Status Start();
  void Stop();
  int port() const { return port_; }
  const std::string& node_id() const { return node_id_; }

 private:
  class Service;
  absl::Status RegisterWithGcs();
  void Heartbeat();
  void ReapExited();
  // Asks the workers of old task leases whether a holder ever used them;
  // takes back those nobody did (their holders died before their first call).
  void TakeBackUnusedLeases();
  // Tells the raylets holding pulled copies of freed objects to drop them.
  void ForwardFree(const ObjectStore::Holders& holders);
  // A job ended: no more task workers for it; its driver's objects go.
  void OnJobFinished(const std::string& job_id, const std::string& driver);
  bool JobFinished(const std::string& job_id);
  // The job as its driver registered it at the GCS (the code it runs comes
  // from there, never from a lease request), fetched once per job.
  using JobFn = std::function<void(absl::StatusOr<proto::JobInfo>)>;
  void WithJob(const std::string& job_id, JobFn then);

  RayletOptions options_;
  std::string node_id_;
  const std::string node_secret_ = RandomId();  // proves to the GCS that heartbeats are this raylet's
  proto::Address address_;
  // Requests, and this raylet's calls to the GCS and other raylets; outlives the server.
  ServerQueue queue_;
  StubCache<proto::RayletService> raylets_;
  StubCache<proto::WorkerService> workers_;  // drivers (log batches) and leased workers (unused leases)
  std::unique_ptr<proto::GcsService::Stub> gcs_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<ObjectLender> lender_;
  std::unique_ptr<ObjectPuller> puller_;
  std::unique_ptr<LogMonitor> logs_;
  std::unique_ptr<ProcessSpawner> spawner_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<LeaseManager> leases_;
  std::unique_ptr<Bundles> bundles_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<LogService> log_service_;
  std::unique_ptr<StateService> state_service_;
  std::unique_ptr<HealthService> health_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<HttpServer> metrics_;
  Ticker heartbeat_, reaper_, log_poller_;
  int64_t heartbeat_failure_logged_ms_ = 0;  // the heartbeat thread's own
  int64_t view_version_ = 0;  // of the cluster view the leases have (heartbeat thread only)
  std::atomic<bool> stopping_{false};
  absl::Mutex jobs_mu_;
  // Jobs the GCS said finished: remembered up to a bound (an older one's
  // lease is refused all the same: the GCS reports it finished).
  static constexpr size_t kMaxFinishedJobs = 100000;
  RecentSet finished_jobs_ ABSL_GUARDED_BY(jobs_mu_){kMaxFinishedJobs};
  absl::flat_hash_map<std::string, proto::JobInfo> jobs_ ABSL_GUARDED_BY(jobs_mu_);  // as the GCS has them
  int port_ = 0;
};

}  // namespace glint::raylet
