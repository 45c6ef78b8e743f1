// A ClusterClient that records calls and lets the test answer them.
#pragma once
#include <deque>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "gcs/cluster_client.h"

namespace glint::gcs {

class FakeCluster : public ClusterClient {
 public:
  struct LeaseCall {
    proto::Address raylet;
    proto::LeaseRequest req;
    LeaseCallback cb;
  };
  struct PushCall {
    proto::Address worker;
    proto::PushTaskRequest req;
    PushCallback cb;
  };
  void RequestLease(const proto::Address& raylet, const proto::LeaseRequest& req,
                    LeaseCallback cb) override {
    leases.push_back({raylet, req, std::move(cb)});
  }
  // The requests to `raylet` end CANCELLED at once.
  void CancelLeases(const proto::Address& raylet) override {
    std::deque<LeaseCall> kept;
    std::vector<LeaseCallback> cancelled;
    for (auto& call : leases) {
      if (call.raylet.port() == raylet.port()) {
        cancelled.push_back(std::move(call.cb));
      } else {
        kept.push_back(std::move(call));
      }
    }
    leases.swap(kept);
    for (auto& cb : cancelled) cb(absl::CancelledError("cancelled"), proto::LeaseReply());
  }
  void PushTask(const proto::Address& worker, const proto::PushTaskRequest& req,
                PushCallback cb) override {
    pushes.push_back({worker, req, std::move(cb)});
  }
  void KillWorker(const proto::Address&, const std::string& worker_id, const std::string&) override {
    killed.push_back(worker_id);
  }
  void NotifyJobFinished(const proto::Address&, const proto::JobInfo& job) override {
    finished_jobs.push_back(job.job_id());
  }

  // Answers alive unless probe_alive is false or the port is in probe_dead_ports.
  void Probe(const proto::Address& a, std::function<void(bool)> cb) override {
    cb(probe_alive && !probe_dead_ports.contains(a.port()));
  }
  // Bundle steps succeed at once unless `refuse_prepare` names the raylet's
  // port: then a prepare is refused with `refusal`.
  void Bundle(const proto::Address& raylet, BundleStep step, const proto::BundleRequest& req,
              std::function<void(const absl::Status&)> done) override {
    bundle_steps.push_back({raylet.port(), step, req.bundle_index(), req.commit()});
    bool refused = step == BundleStep::kPrepare && raylet.port() == refuse_prepare;
    done(refused ? absl::FailedPreconditionError(refusal) : absl::OkStatus());
  }
  struct BundleCall {
    int raylet_port;
    BundleStep step;
    int index;
    bool commit;  // a prepare that commits too
  };
  std::vector<BundleCall> bundle_steps;
  int refuse_prepare = 0;
  std::string refusal = "the node's free resources do not hold it now";
  bool probe_alive = false;
  std::set<int> probe_dead_ports;

  // Grants the oldest lease request with a worker at `port`.
  void GrantLease(const std::string& worker_id, int port, const std::string& node_id) {
    auto call = std::move(leases.front());
    leases.pop_front();
    proto::LeaseReply r;
    r.mutable_worker()->set_ip("127.0.0.1");
    r.mutable_worker()->set_port(port);
    r.mutable_worker()->set_worker_id(worker_id);
    r.mutable_worker()->set_node_id(node_id);
    r.set_worker_pid(4242);
    call.cb(absl::OkStatus(), r);
  }
  // Answers the oldest push with success, or with `error` when given.
  void FinishPush(proto::ErrorType error = proto::ERROR_NONE, const std::string& msg = "") {
    auto call = std::move(pushes.front());
    pushes.pop_front();
    proto::PushTaskReply r;
    if (error != proto::ERROR_NONE) {
      r.mutable_result()->mutable_error()->set_type(error);
      r.mutable_result()->mutable_error()->set_message(msg);
    }
    call.cb(absl::OkStatus(), r);
  }

  std::deque<LeaseCall> leases;
  std::deque<PushCall> pushes;
  std::vector<std::string> killed;
  std::vector<std::string> finished_jobs;
};

}  // namespace glint::gcs
