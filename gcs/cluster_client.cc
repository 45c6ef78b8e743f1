#include "gcs/cluster_client.h"

#include "common/rpc.h"
#include "proto/raylet.grpc.pb.h"
#include "proto/worker.grpc.pb.h"

namespace glint::gcs {
namespace {

// Holds what an async unary call needs until its callback runs.
template <typename Req, typename Reply>
struct Call {
  grpc::ClientContext ctx;
  Req req;
  Reply reply;
};

class GrpcClusterClient : public ClusterClient {
 public:
  void RequestLease(const proto::Address& raylet, const proto::LeaseRequest& req,
                    LeaseCallback cb) override {
    auto* call = new Call<proto::LeaseRequest, proto::LeaseReply>();
    call->req = req;
    SetDeadlineMs(&call->ctx, 120000);
    Raylet(raylet)->async()->RequestWorkerLease(&call->ctx, &call->req, &call->reply,
                                                [call, cb](grpc::Status s) {
                                                  cb(s, call->reply);
                                                  delete call;
                                                });
  }

  void PushTask(const proto::Address& worker, const proto::PushTaskRequest& req,
                PushCallback cb) override {
    auto* call = new Call<proto::PushTaskRequest, proto::PushTaskReply>();
    call->req = req;
    proto::WorkerService::NewStub(ChannelPool::Default().Get(AddrString(worker)))
        ->async()
        ->PushTask(&call->ctx, &call->req, &call->reply, [call, cb](grpc::Status s) {
          cb(s, call->reply);
          delete call;
        });
  }

  void KillWorker(const proto::Address& raylet, const std::string& worker_id,
                  const std::string& reason) override {
    auto* call = new Call<proto::KillWorkerRequest, proto::KillWorkerReply>();
    call->req.set_worker_id(worker_id);
    call->req.set_reason(reason);
    SetDeadlineMs(&call->ctx, 10000);
    Raylet(raylet)->async()->KillWorker(&call->ctx, &call->req, &call->reply,
                                        [call](grpc::Status) { delete call; });
  }

  void NotifyJobFinished(const proto::Address& raylet, const proto::JobInfo& job) override {
    auto* call = new Call<proto::JobFinishedRequest, proto::JobFinishedReply>();
    call->req.set_job_id(job.job_id());
    call->req.set_driver(AddrString(job.driver()));
    SetDeadlineMs(&call->ctx, 10000);
    Raylet(raylet)->async()->JobFinished(&call->ctx, &call->req, &call->reply,
                                         [call](grpc::Status) { delete call; });
  }

  void Probe(const proto::Address& address, std::function<void(bool)> cb) override {
    auto* call = new Call<proto::GetObjectRequest, proto::GetObjectReply>();
    SetDeadlineMs(&call->ctx, 2000);
    proto::WorkerService::NewStub(ChannelPool::Default().Get(AddrString(address)))
        ->async()
        ->GetObject(&call->ctx, &call->req, &call->reply, [call, cb](grpc::Status s) {
          cb(s.ok());
          delete call;
        });
  }

 private:
  static std::unique_ptr<proto::RayletService::Stub> Raylet(const proto::Address& a) {
    return proto::RayletService::NewStub(ChannelPool::Default().Get(AddrString(a)));
  }
};

}  // namespace

std::unique_ptr<ClusterClient> MakeGrpcClusterClient() {
  return std::make_unique<GrpcClusterClient>();
}

}  // namespace glint::gcs
