#include "raylet/state_service.h"

#include <algorithm>

#include "common/server_call.h"

namespace glint::raylet {
namespace {

size_t Limit(int asked) {
  return static_cast<size_t>(asked > 0 ? std::min(asked, StateService::kMaxListed) : StateService::kDefaultListed);
}

const char* StateName(WorkerInfo::State s) {
  switch (s) {
    case WorkerInfo::kStarting: return "STARTING";
    case WorkerInfo::kIdle: return "IDLE";
    case WorkerInfo::kLeased: return "LEASED";
    case WorkerInfo::kActor: return "ACTOR";
  }
  return "UNKNOWN";
}

}  // namespace

void StateService::Serve(grpc::ServerCompletionQueue* cq) {
  ServeUnary(this, cq, &StateService::RequestListWorkers, this, &StateService::ListWorkers);
  ServeUnary(this, cq, &StateService::RequestListObjects, this, &StateService::ListObjects);
}

absl::Status StateService::ListWorkers(const proto::ListWorkersRequest& req, proto::ListWorkersReply* reply) {
  bool truncated = false;
  for (auto& w : (*pool_)->List(Limit(req.limit()), &truncated)) {
    auto* out = reply->add_workers();
    out->set_worker_id(w.worker_id);
    out->set_pid(w.pid);
    out->set_job_id(w.job_id);
    out->set_state(StateName(w.state));
    out->set_port(w.address.port());
    out->set_log_file(log_file_(w));
    out->set_node_id(node_id_);
  }
  reply->set_truncated(truncated);
  return absl::OkStatus();
}

absl::Status StateService::ListObjects(const proto::ListObjectsRequest& req, proto::ListObjectsReply* reply) {
  bool truncated = false;
  for (auto& o : (*store_)->List(Limit(req.limit()), &truncated)) {
    o.set_node_id(node_id_);
    *reply->add_objects() = std::move(o);
  }
  reply->set_truncated(truncated);
  return absl::OkStatus();
}

}  // namespace glint::raylet
