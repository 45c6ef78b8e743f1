// RayletServer: the glint-raylet process of one node. Registers the node with
// the GCS and heartbeats its free resources, serves RayletService (leases,
// worker registration), reaps exited workers and reports them.
// Start() once, Stop() once (kills this node's workers).
#pragma once
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/resources.h"
#include "common/rpc.h"
#include "proto/gcs.grpc.pb.h"
#include "proto/raylet.grpc.pb.h"
#include "raylet/lease_manager.h"
#include "raylet/object_store.h"
#include "raylet/worker_pool.h"

namespace glint::raylet {

struct RayletOptions {
  std::string gcs_address;
  std::string host = "127.0.0.1";
  int port = 0;
  ResourceSet resources;          // includes CPU and GPU
  bool is_head = false;
  std::string worker_path;        // the glint-worker binary
  std::string log_dir;            // worker logs go here ("" = inherit stderr)
  int64_t idle_worker_timeout_ms = 60000;
  int64_t heartbeat_ms = 300;
  ObjectStoreOptions store;
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
  class Spawner;
  class Puller;
  absl::Status RegisterWithGcs();
  void HeartbeatLoop();
  void ReapLoop();
  // Tells the raylets holding pulled copies of freed objects to drop them.
  void ForwardFree(const ObjectStore::Holders& holders);

  RayletOptions options_;
  std::string node_id_;
  proto::Address address_;
  std::unique_ptr<Spawner> spawner_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<LeaseManager> leases_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<Puller> puller_;
  std::unique_ptr<proto::GcsService::Stub> gcs_;
  StubCache<proto::RayletService> raylets_;  // other nodes: pulls, forwarded frees
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::thread heartbeat_, reaper_;
  std::atomic<bool> stopping_{false};
  absl::Mutex jobs_mu_;
  absl::flat_hash_set<std::string> finished_jobs_ ABSL_GUARDED_BY(jobs_mu_);
  int port_ = 0;
};

// Parses '{"name": amount, ...}' (flat JSON object of numbers).
absl::StatusOr<ResourceSet> ParseResourceJson(const std::string& json);

}  // namespace glint::raylet
