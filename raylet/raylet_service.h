// RayletServer::Service: RayletService, the raylet's RPC edge. Each handler
// checks its request, calls the node's parts and converts their status once,
// on the way out. Internal to the raylet (raylet_server.cc builds it).
#pragma once
#include "proto/raylet.grpc.pb.h"
#include "raylet/raylet_server.h"

namespace glint::raylet {

// ReadObjectChunk is raw (object_chunks.h): its reply is the arena's bytes.
class RayletServer::Service final
    : public proto::RayletService::WithRawCallbackMethod_ReadObjectChunk<proto::RayletService::CallbackService> {
 public:
  // Borrows `r`, which must outlive the server serving this.
  explicit Service(RayletServer* r) : r_(r) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;
  // Workers.
  Reactor* RequestWorkerLease(Ctx* ctx, const proto::LeaseRequest* req, proto::LeaseReply* reply) override;
  grpc::ServerWriteReactor<proto::LeaseReply>* RequestWorkerLeases(Ctx* ctx, const proto::LeaseRequest* req) override;
  Reactor* ReturnWorker(Ctx* ctx, const proto::ReturnWorkerRequest* req, proto::ReturnWorkerReply*) override;
  Reactor* RegisterWorker(Ctx* ctx, const proto::RegisterWorkerRequest* req, proto::RegisterWorkerReply*) override;
  Reactor* NotifyBlocked(Ctx* ctx, const proto::NotifyBlockedRequest* req, proto::NotifyBlockedReply*) override;
  Reactor* KillWorker(Ctx* ctx, const proto::KillWorkerRequest* req, proto::KillWorkerReply*) override;
  Reactor* JobFinished(Ctx* ctx, const proto::JobFinishedRequest* req, proto::JobFinishedReply*) override;
  // Placement group bundles (bundles.h).
  Reactor* PrepareBundle(Ctx* ctx, const proto::BundleRequest* req, proto::PrepareBundleReply* reply) override;
  Reactor* CommitBundle(Ctx* ctx, const proto::BundleRequest* req, proto::CommitBundleReply*) override;
  Reactor* ReturnBundle(Ctx* ctx, const proto::BundleRequest* req, proto::ReturnBundleReply*) override;
  // Objects.
  Reactor* CreateObject(Ctx* ctx, const proto::CreateObjectRequest* req, proto::CreateObjectReply* reply) override;
  Reactor* SealObject(Ctx* ctx, const proto::SealObjectRequest* req, proto::SealObjectReply*) override;
  Reactor* FreeObjects(Ctx* ctx, const proto::FreeObjectsRequest* req, proto::FreeObjectsReply*) override;
  Reactor* PullObject(Ctx* ctx, const proto::PullObjectRequest* req, proto::PullObjectReply*) override;
  Reactor* ReadObjectChunk(Ctx* ctx, const grpc::ByteBuffer* request, grpc::ByteBuffer* reply) override;
  Reactor* PinObject(Ctx* ctx, const proto::PinObjectRequest* req, proto::PinObjectReply* reply) override;
  Reactor* UnpinObject(Ctx* ctx, const proto::PinObjectRequest* req, proto::UnpinObjectReply*) override;
  Reactor* GetStoreInfo(Ctx* ctx, const proto::GetStoreInfoRequest*, proto::GetStoreInfoReply* reply) override;

 private:
  // A lease request's job, as registered (the worker runs the code the job
  // registered, whatever the request says): `then` gets the request with
  // that record, or the refusal to answer with (the job has finished).
  using LeaseJobFn = std::function<void(const proto::LeaseRequest& registered, const proto::LeaseReply* refusal)>;
  void WithLeaseJob(const proto::LeaseRequest& req, LeaseJobFn then);

  RayletServer* const r_;
};

}  // namespace glint::raylet
