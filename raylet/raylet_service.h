// RayletServer::Service: RayletService, the raylet's RPC edge, served from
// the raylet's completion queue (common/server_queue.h). Each handler
// checks its request, calls the node's parts and converts their status
// once, on the way out. Most answer at once, on the polling thread; a lease
// (RequestWorkerLease, and RequestWorkerLeases' stream, lease_batch.h) and
// a pull are answered later, from whichever thread decides them. Internal
// to the raylet (raylet_server.cc builds it).
#pragma once
#include "common/server_call.h"
#include "proto/raylet.grpc.pb.h"
#include "raylet/raylet_server.h"

namespace glint::raylet {

// ReadObjectChunk is raw (object_chunks.h): its reply is the arena's bytes.
class RayletServer::Service final
    : public proto::RayletService::WithRawMethod_ReadObjectChunk<proto::RayletService::AsyncService> {
 public:
  // Borrows `r`, which must outlive the server serving this.
  explicit Service(RayletServer* r) : r_(r) {}
  // Starts taking requests from `cq`.
  void Serve(grpc::ServerCompletionQueue* cq);

  // Workers.
  void RequestWorkerLease(ServerCall<proto::LeaseRequest, proto::LeaseReply>* call);
  absl::Status ReturnWorker(const proto::ReturnWorkerRequest& req, proto::ReturnWorkerReply*);
  absl::Status RegisterWorker(const proto::RegisterWorkerRequest& req, proto::RegisterWorkerReply*);
  absl::Status NotifyBlocked(const proto::NotifyBlockedRequest& req, proto::NotifyBlockedReply*);
  absl::Status KillWorker(const proto::KillWorkerRequest& req, proto::KillWorkerReply*);
  absl::Status JobFinished(const proto::JobFinishedRequest& req, proto::JobFinishedReply*);
  // Placement group bundles (bundles.h).
  absl::Status BundleSteps(const proto::BundleStepsRequest& req, proto::BundleStepsReply* reply);
  // Objects.
  absl::Status CreateObject(const proto::CreateObjectRequest& req, proto::CreateObjectReply* reply);
  absl::Status SealObject(const proto::SealObjectRequest& req, proto::SealObjectReply*);
  absl::Status FreeObjects(const proto::FreeObjectsRequest& req, proto::FreeObjectsReply*);
  void PullObject(ServerCall<proto::PullObjectRequest, proto::PullObjectReply>* call);
  absl::Status ReadObjectChunk(const grpc::ByteBuffer& request, grpc::ByteBuffer* reply);
  absl::Status PinObject(const proto::PinObjectRequest& req, proto::PinObjectReply* reply);
  absl::Status UnpinObject(const proto::PinObjectRequest& req, proto::UnpinObjectReply*);
  absl::Status LendObject(const proto::LendObjectRequest& req, proto::LendObjectReply* reply);
  absl::Status GetStoreInfo(const proto::GetStoreInfoRequest&, proto::GetStoreInfoReply* reply);

 private:
  // Whether a RequestWorkerLeases call (`count` leases of one shape, on a
  // stream: lease_batch.h) is well-formed; if not, the call ends with this.
  absl::Status CheckLeaseBatch(const proto::LeaseRequest& req);
  // A lease request's job, as registered (the worker runs the code the job
  // registered, whatever the request says): `then` gets the request with
  // that record, or the refusal to answer with (the job has finished).
  using LeaseJobFn = std::function<void(const proto::LeaseRequest& registered, const proto::LeaseReply* refusal)>;
  void WithLeaseJob(const proto::LeaseRequest& req, LeaseJobFn then);

  RayletServer* const r_;
};

}  // namespace glint::raylet
