#include "gcs/cluster_client.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/async_call.h"
#include "gcs/bundle_calls.h"
#include "proto/raylet.grpc.pb.h"
#include "proto/worker.grpc.pb.h"

namespace glint::gcs {
namespace {

using RayletStub = proto::RayletService::Stub;
using WorkerStub = proto::WorkerService::Stub;

class GrpcClusterClient : public ClusterClient {
 public:
  void RequestLease(const proto::Address& raylet, const proto::LeaseRequest& req, LeaseCallback cb) override {
    std::string target = AddrString(raylet);
    absl::MutexLock lock(&leases_mu_);  // the callback waits until the call is recorded
    uint64_t id = ++last_lease_;
    auto* ctx = CallAsync(queue(), raylets_.Get(target), &RayletStub::PrepareAsyncRequestWorkerLease, req, 0,
                          [this, target, id, cb = std::move(cb)](const absl::Status& s, proto::LeaseReply& reply) {
                            {
                              absl::MutexLock lock(&leases_mu_);
                              if (auto it = leases_.find(target); it != leases_.end()) {
                                it->second.erase(id);
                                if (it->second.empty()) leases_.erase(it);
                              }
                            }
                            cb(s, reply);
                          });
    leases_[target][id] = ctx;
  }

  void CancelLeases(const proto::Address& raylet) override {
    absl::MutexLock lock(&leases_mu_);  // a context stays valid until its callback has taken it out
    if (auto it = leases_.find(AddrString(raylet)); it != leases_.end()) {
      for (auto& [id, ctx] : it->second) ctx->TryCancel();
    }
  }

  void PushTask(const proto::Address& worker, const proto::PushTaskRequest& req, PushCallback cb) override {
    CallAsync(queue(), workers_.Get(AddrString(worker), worker.worker_id()), &WorkerStub::PrepareAsyncPushTask, req, 0,
              [cb = std::move(cb)](const absl::Status& s, proto::PushTaskReply& reply) { cb(s, reply); });
  }

  void KillWorker(const proto::Address& raylet, const std::string& worker_id, const std::string& reason) override {
    proto::KillWorkerRequest req;
    req.set_worker_id(worker_id);
    req.set_reason(reason);
    SendOneWay(queue(), raylets_.Get(AddrString(raylet)), &RayletStub::PrepareAsyncKillWorker, std::move(req), 10000,
               absl::StrCat("killing worker on ", AddrString(raylet)));
  }

  void NotifyJobFinished(const proto::Address& raylet, const proto::JobInfo& job) override {
    proto::JobFinishedRequest req;
    req.set_job_id(job.job_id());
    req.set_driver(AddrString(job.driver()));
    SendOneWay(queue(), raylets_.Get(AddrString(raylet)), &RayletStub::PrepareAsyncJobFinished, std::move(req), 10000,
               absl::StrCat("telling ", AddrString(raylet), " that a job finished"));
  }

  void Bundle(const proto::Address& raylet, BundleStep step, const proto::BundleRequest& req,
              std::function<void(const absl::Status&)> done) override {
    proto::BundleStep one;
    one.set_kind(step == BundleStep::kPrepare  ? proto::BundleStep::PREPARE
                 : step == BundleStep::kCommit ? proto::BundleStep::COMMIT
                                               : proto::BundleStep::RETURN);
    *one.mutable_bundle() = req;
    bundles_.Add(AddrString(raylet), std::move(one), std::move(done));
  }

  void Probe(const proto::Address& address, std::function<void(bool)> cb) override {
    CallAsync(queue(), workers_.Get(AddrString(address), address.worker_id()), &WorkerStub::PrepareAsyncGetObject, proto::GetObjectRequest(),
              2000, [cb = std::move(cb)](const absl::Status& s, proto::GetObjectReply&) { cb(s.ok()); });
  }

  void UseQueue(ClientQueue* queue) override {
    absl::MutexLock lock(&queue_mu_);
    queue_ = queue;
  }

  void Stop() override {
    ClientQueue* queue = nullptr;
    ClientQueueThread* own = nullptr;
    {
      absl::MutexLock lock(&queue_mu_);  // not held while the ends run: they may call again
      queue = queue_;
      own = own_.get();
    }
    if (own) {
      own->Stop();
    } else if (queue) {
      queue->Close(5000);
    }
  }

 private:
  ClientQueue* queue() {
    absl::MutexLock lock(&queue_mu_);
    if (!queue_) {
      own_ = std::make_unique<ClientQueueThread>();
      queue_ = own_->queue();
    }
    return queue_;
  }

  absl::Mutex queue_mu_;
  ClientQueue* queue_ ABSL_GUARDED_BY(queue_mu_) = nullptr;
  std::unique_ptr<ClientQueueThread> own_ ABSL_GUARDED_BY(queue_mu_);
  // Lease calls in flight, by raylet, to cancel when its node dies.
  absl::Mutex leases_mu_;
  uint64_t last_lease_ ABSL_GUARDED_BY(leases_mu_) = 0;
  absl::flat_hash_map<std::string, absl::flat_hash_map<uint64_t, grpc::ClientContext*>> leases_
      ABSL_GUARDED_BY(leases_mu_);
  StubCache<proto::RayletService> raylets_;
  StubCache<proto::WorkerService> workers_;
  BundleCalls bundles_{[this](const std::string& target, const proto::BundleStepsRequest& req, BundleCalls::Reply reply) {
    constexpr int64_t kBundleTimeoutMs = 10000;
    CallAsync(queue(), raylets_.Get(target), &RayletStub::PrepareAsyncBundleSteps, req, kBundleTimeoutMs,
              [reply = std::move(reply)](const absl::Status& s, proto::BundleStepsReply& r) { reply(s, r); });
  }};
};

}  // namespace

std::unique_ptr<ClusterClient> MakeGrpcClusterClient() { return std::make_unique<GrpcClusterClient>(); }

}  // namespace glint::gcs
