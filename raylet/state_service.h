// NodeStateService: what a node holds now, for `glint list workers` and
// `glint list objects` (proto/raylet.proto): its worker processes (state,
// job, pid, log file) and the objects in its store (size, owner, in memory
// or spilled, pins). At most kMaxListed of each per call. Served on the
// raylet's port, behind the cluster's authentication.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "proto/raylet.grpc.pb.h"
#include "raylet/object_store.h"
#include "raylet/worker_pool.h"

namespace glint::raylet {

class StateService final : public proto::NodeStateService::AsyncService {
 public:
  static constexpr int kMaxListed = 10000;
  static constexpr int kDefaultListed = 1000;
  // `log_file`: the log file name of a worker (empty when it has none).
  using LogFileFn = std::function<std::string(const WorkerInfo&)>;
  // Borrows the raylet's parts, which its Start() makes after the server
  // starts and before it serves this (Serve).
  StateService(std::string node_id, const std::unique_ptr<WorkerPool>* pool,
               const std::unique_ptr<ObjectStore>* store, LogFileFn log_file)
      : node_id_(std::move(node_id)), pool_(pool), store_(store), log_file_(std::move(log_file)) {}

  // Starts taking requests from `cq` (the raylet's queue, server_queue.h).
  void Serve(grpc::ServerCompletionQueue* cq);
  absl::Status ListWorkers(const proto::ListWorkersRequest& req, proto::ListWorkersReply* reply);
  absl::Status ListObjects(const proto::ListObjectsRequest& req, proto::ListObjectsReply* reply);

 private:
  const std::string node_id_;
  const std::unique_ptr<WorkerPool>* const pool_;
  const std::unique_ptr<ObjectStore>* const store_;
  const LogFileFn log_file_;
};

}  // namespace glint::raylet
