// LogService: a node's log files over gRPC (proto/logs.proto), for `glint
// logs`: the daemons' logs and one file per worker (worker-<id>-<pid>.log),
// all in the node's log directory. Only plain file names in that directory
// are read (no paths, no links), at most kMaxReadBytes per call. Served on
// the raylet's port, behind the cluster's authentication.
#pragma once
#include <string>

#include "absl/status/status.h"
#include "proto/logs.grpc.pb.h"

namespace glint::raylet {

class LogService final : public proto::LogService::AsyncService {
 public:
  static constexpr int kMaxReadBytes = 4 << 20;
  static constexpr int kDefaultReadBytes = 1 << 20;
  static constexpr int kMaxFiles = 10000;  // listed at most, the newest first

  LogService(std::string node_id, std::string log_dir) : node_id_(std::move(node_id)), log_dir_(std::move(log_dir)) {}

  // Starts taking requests from `cq` (the raylet's queue, server_queue.h).
  void Serve(grpc::ServerCompletionQueue* cq);
  absl::Status ListLogs(const proto::ListLogsRequest& req, proto::ListLogsReply* reply);
  absl::Status ReadLog(const proto::ReadLogRequest& req, proto::ReadLogReply* reply);

 private:
  const std::string node_id_;
  const std::string log_dir_;
};

}  // namespace glint::raylet
