#include "raylet/raylet_service.h"

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/limits.h"
#include "common/logging.h"
#include "common/server_call.h"
#include "raylet/lease_batch.h"
#include "raylet/object_chunks.h"

namespace glint::raylet {
namespace {
// What one ReadObjectChunk may ask for: a puller asks for kChunkBytes.
constexpr int64_t kMaxChunkBytes = 2 * ObjectPuller::kChunkBytes;
}  // namespace

namespace {
absl::Status CheckLease(const proto::LeaseRequest& req) {
  if (req.job().job_id().size() != kIdSize) return absl::InvalidArgumentError("a lease needs a job");
  if (auto s = CheckId("the root detached actor", req.root_detached_actor(), /*may_be_empty=*/true); !s.ok()) {
    return s;
  }
  return CheckResources(req.resources());
}
}  // namespace

void RayletServer::Service::Serve(grpc::ServerCompletionQueue* cq) {
  using S = RayletServer::Service;
  ServerCall<proto::LeaseRequest, proto::LeaseReply>::Serve(this, cq, &S::RequestRequestWorkerLease,
                                                            [this](auto* call) { RequestWorkerLease(call); });
  LeaseBatch::Serve(
      [this, cq](grpc::ServerContext* ctx, proto::LeaseRequest* req, grpc::ServerAsyncWriter<proto::LeaseReply>* w,
                 CqTag* tag) { RequestRequestWorkerLeases(ctx, req, w, cq, cq, tag); },
      r_->leases_.get(), [this](const proto::LeaseRequest& req, const std::shared_ptr<LeaseBatch::Answers>& answers) {
        if (auto s = CheckLeaseBatch(req); !s.ok()) return s;
        r_->leases_->CountCall(req.count());
        WithLeaseJob(req, [answers](const proto::LeaseRequest& registered, const proto::LeaseReply* refusal) {
          refusal ? LeaseBatch::Refuse(answers, *refusal) : LeaseBatch::Start(answers, registered);
        });
        return absl::OkStatus();
      });
  ServeUnary(this, cq, &S::RequestReturnWorker, this, &S::ReturnWorker);
  ServeUnary(this, cq, &S::RequestRegisterWorker, this, &S::RegisterWorker);
  ServeUnary(this, cq, &S::RequestNotifyBlocked, this, &S::NotifyBlocked);
  ServeUnary(this, cq, &S::RequestKillWorker, this, &S::KillWorker);
  ServeUnary(this, cq, &S::RequestJobFinished, this, &S::JobFinished);
  ServeUnary(this, cq, &S::RequestBundleSteps, this, &S::BundleSteps);
  ServeUnary(this, cq, &S::RequestCreateObject, this, &S::CreateObject);
  ServeUnary(this, cq, &S::RequestSealObject, this, &S::SealObject);
  ServeUnary(this, cq, &S::RequestFreeObjects, this, &S::FreeObjects);
  ServerCall<proto::PullObjectRequest, proto::PullObjectReply>::Serve(this, cq, &S::RequestPullObject,
                                                                      [this](auto* call) { PullObject(call); });
  ServeUnary(this, cq, &S::RequestReadObjectChunk, this, &S::ReadObjectChunk);
  ServeUnary(this, cq, &S::RequestPinObject, this, &S::PinObject);
  ServeUnary(this, cq, &S::RequestUnpinObject, this, &S::UnpinObject);
  ServeUnary(this, cq, &S::RequestLendObject, this, &S::LendObject);
  ServeUnary(this, cq, &S::RequestGetStoreInfo, this, &S::GetStoreInfo);
}

void RayletServer::Service::WithLeaseJob(const proto::LeaseRequest& req, LeaseJobFn then) {
  static constexpr char kJobFinished[] = "the job has finished; no more workers for it";
  static constexpr auto refuse = [](const LeaseJobFn& then, const proto::LeaseRequest& req, std::string_view why) {
    proto::LeaseReply refusal;
    refusal.mutable_error()->set_type(proto::SCHEDULING_FAILED);
    refusal.mutable_error()->set_message(std::string(why));
    then(req, &refusal);
  };
  // All but a detached actor's, and the work it makes: they outlive the job
  // (the actor may restart, and goes on making work).
  const bool outlives_job = OutlivesJob(req);
  if (!outlives_job && r_->JobFinished(req.job().job_id())) return refuse(then, req, kJobFinished);
  r_->WithJob(req.job().job_id(), [req, outlives_job, then = std::move(then)](absl::StatusOr<proto::JobInfo> job) {
    if (!job.ok()) return refuse(then, req, std::string(job.status().message()));
    if (!outlives_job && job->finished()) return refuse(then, req, kJobFinished);
    proto::LeaseRequest registered = req;
    *registered.mutable_job() = *std::move(job);
    then(registered, nullptr);
  });
}

void RayletServer::Service::RequestWorkerLease(ServerCall<proto::LeaseRequest, proto::LeaseReply>* call) {
  if (auto s = CheckLease(call->req); !s.ok()) return call->Finish(s);
  r_->leases_->CountCall(1);
  WithLeaseJob(call->req, [this, call](const proto::LeaseRequest& registered, const proto::LeaseReply* refusal) {
    if (refusal) {
      call->reply = *refusal;
      return call->Finish(absl::OkStatus());
    }
    r_->leases_->Request(registered, [this, call, for_actor = registered.for_actor()](const proto::LeaseReply& r) {
      call->reply = r;
      if (!r.has_worker()) return call->Finish(absl::OkStatus());
      // A grant whose caller went away meanwhile (a GCS that restarted, a
      // caller past its deadline) goes back to the node; a worker started
      // for an actor nobody will create there goes with it.
      call->Finish(absl::OkStatus(), [leases = r_->leases_.get(), lease = r.lease_id(), for_actor] {
        LOG(INFO) << "a lease's caller went away before its grant reached it; giving the worker back";
        leases->Return(lease, NowMs(), /*disconnect=*/for_actor);
      });
    });
  });
}

absl::Status RayletServer::Service::CheckLeaseBatch(const proto::LeaseRequest& req) {
  if (auto s = CheckLease(req); !s.ok()) return s;
  if (req.count() < 1 || req.count() > kMaxLeasesPerCall) {
    return absl::InvalidArgumentError(
        absl::StrCat("a lease call asks for 1 to ", kMaxLeasesPerCall, " workers, not ", req.count()));
  }
  return absl::OkStatus();
}

absl::Status RayletServer::Service::ReturnWorker(const proto::ReturnWorkerRequest& req, proto::ReturnWorkerReply*) {
  r_->leases_->Return(req.lease_id(), NowMs(), req.disconnect());
  return absl::OkStatus();
}

absl::Status RayletServer::Service::RegisterWorker(const proto::RegisterWorkerRequest& req, proto::RegisterWorkerReply*) {
  return r_->pool_->OnRegistered(req.worker_id(), req.port(), req.pid(), req.startup_error());
}

absl::Status RayletServer::Service::NotifyBlocked(const proto::NotifyBlockedRequest& req, proto::NotifyBlockedReply*) {
  r_->leases_->SetBlocked(req.worker_id(), req.blocked());
  return absl::OkStatus();
}

absl::Status RayletServer::Service::KillWorker(const proto::KillWorkerRequest& req, proto::KillWorkerReply*) {
  if (!r_->pool_->Kill(req.worker_id())) return absl::NotFoundError("no such worker on this node");
  LOG(INFO) << "killing worker " << ShortHex(req.worker_id()) << ": " << req.reason();
  return absl::OkStatus();
}

absl::Status RayletServer::Service::JobFinished(const proto::JobFinishedRequest& req, proto::JobFinishedReply*) {
  if (auto st = CheckId("the job id", req.job_id()); !st.ok()) return st;
  if (auto st = CheckAddress("the driver's address", req.driver()); !st.ok()) return st;
  r_->OnJobFinished(req.job_id(), req.driver());
  return absl::OkStatus();
}

namespace {
absl::Status CheckBundle(const proto::BundleRequest& req) {
  if (auto st = CheckId("the placement group id", req.group_id()); !st.ok()) return st;
  if (req.bundle_index() < 0) return absl::InvalidArgumentError("a bundle index cannot be negative");
  return CheckResources(req.resources());
}
}  // namespace

absl::Status RayletServer::Service::BundleSteps(const proto::BundleStepsRequest& req, proto::BundleStepsReply* reply) {
  if (req.steps_size() > kMaxBundleSteps) {
    return absl::InvalidArgumentError(absl::StrCat("a call has at most ", kMaxBundleSteps, " bundle steps"));
  }
  // All checked before any is done: a malformed call changes nothing.
  for (auto& step : req.steps()) {
    if (auto st = CheckBundle(step.bundle()); !st.ok()) return st;
    if (!proto::BundleStep::Kind_IsValid(step.kind())) return absl::InvalidArgumentError("an unknown bundle step");
    if (step.kind() == proto::BundleStep::PREPARE && step.bundle().resources().empty()) {
      return absl::InvalidArgumentError("a bundle needs resources");
    }
  }
  Bundles& bundles = *r_->bundles_;
  for (auto& step : req.steps()) {
    const proto::BundleRequest& b = step.bundle();
    absl::Status done;
    switch (step.kind()) {
      case proto::BundleStep::PREPARE:
        done = bundles.Prepare(b.group_id(), b.bundle_index(), FromProto(b.resources()));
        if (done.ok() && b.commit()) done = bundles.Commit(b.group_id(), b.bundle_index());
        break;
      case proto::BundleStep::COMMIT:
        done = bundles.Commit(b.group_id(), b.bundle_index());
        break;
      case proto::BundleStep::RETURN:
        bundles.Return(b.group_id(), b.bundle_index());
        break;
      default:
        done = absl::InvalidArgumentError("an unknown bundle step");  // checked above
    }
    reply->add_ok(done.ok());
    reply->add_why(std::string(done.message()));
  }
  return absl::OkStatus();
}

absl::Status RayletServer::Service::CreateObject(const proto::CreateObjectRequest& req, proto::CreateObjectReply* reply) {
  if (req.size() < 0) return absl::InvalidArgumentError("an object's size cannot be negative");
  for (auto st : {CheckId("the object id", req.object_id()), CheckAddress("the owner", req.owner()),
                  CheckId("the owner's worker id", req.owner_worker_id(), /*may_be_empty=*/true),
                  CheckId("the job id", req.job_id(), /*may_be_empty=*/true)}) {
    if (!st.ok()) return st;
  }
  auto offset = r_->store_->Create(req.object_id(), req.size(),
                                   {req.owner(), req.owner_worker_id(), req.job_id()}, /*primary=*/true);
  if (!offset.ok()) return offset.status();
  reply->set_path(r_->store_->arena_path());
  reply->set_offset(*offset);
  return absl::OkStatus();
}

absl::Status RayletServer::Service::SealObject(const proto::SealObjectRequest& req, proto::SealObjectReply*) {
  return r_->store_->Seal(req.object_id());
}

absl::Status RayletServer::Service::FreeObjects(const proto::FreeObjectsRequest& req, proto::FreeObjectsReply*) {
  if (req.object_ids_size() > kMaxIdsPerRequest) {
    return absl::InvalidArgumentError(
        absl::StrCat("a request frees at most ", kMaxIdsPerRequest, " objects at once"));
  }
  auto holders = r_->store_->Free({req.object_ids().begin(), req.object_ids().end()});
  if (!req.forwarded()) r_->ForwardFree(holders);
  return absl::OkStatus();
}

void RayletServer::Service::PullObject(ServerCall<proto::PullObjectRequest, proto::PullObjectReply>* call) {
  const auto& req = call->req;
  if (req.source().size() < 0) return call->Finish(absl::InvalidArgumentError("an object's size cannot be negative"));
  for (auto st : {CheckId("the object id", req.object_id()),
                  CheckAddress("the source's raylet", req.source().raylet(), /*may_be_empty=*/false)}) {
    if (!st.ok()) return call->Finish(st);
  }
  r_->puller_->Pull(req.object_id(), req.source(), [call](const absl::Status& s) { call->Finish(s); });
}

absl::Status RayletServer::Service::ReadObjectChunk(const grpc::ByteBuffer& request, grpc::ByteBuffer* reply) {
  proto::ReadObjectChunkRequest req;
  grpc::ByteBuffer bytes(request);
  if (!grpc::SerializationTraits<proto::ReadObjectChunkRequest>::Deserialize(&bytes, &req).ok()) {
    return absl::InvalidArgumentError("a malformed ReadObjectChunkRequest");
  }
  if (req.length() > kMaxChunkBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a chunk is at most ", kMaxChunkBytes, " bytes; asked for ", req.length()));
  }
  if (auto st = CheckAddress("the requester", req.requester()); !st.ok()) return st;
  ObjectStore::Chunk chunk;
  auto s = r_->store_->LendChunk(req.object_id(), req.offset(), req.length(), req.requester(), &chunk);
  if (absl::IsNotFound(s)) {
    return absl::NotFoundError(absl::StrCat("node ", ShortHex(r_->node_id_), " has no object ",
                                            ShortHex(req.object_id()), " (freed or lost)"));
  }
  if (!s.ok()) return s;
  *reply = ChunkReply(r_->store_.get(), std::move(chunk));
  return absl::OkStatus();
}

absl::Status RayletServer::Service::PinObject(const proto::PinObjectRequest& req, proto::PinObjectReply* reply) {
  if (auto st = CheckAddress("the client", req.client(), /*may_be_empty=*/false); !st.ok()) return st;
  ObjectLocation where;
  if (r_->store_->Pin(req.object_id(), req.client(), &where)) {
    reply->set_found(true);
    reply->set_offset(where.offset);
    reply->set_size(where.size);
    reply->set_spill_path(where.spill_path);
  }
  return absl::OkStatus();
}

absl::Status RayletServer::Service::UnpinObject(const proto::PinObjectRequest& req, proto::UnpinObjectReply*) {
  // A loan to a raylet of this host, or a reader's pin.
  if (!r_->lender_->GiveBack(req.object_id(), req.client())) r_->store_->Unpin(req.object_id(), req.client());
  return absl::OkStatus();
}

absl::Status RayletServer::Service::LendObject(const proto::LendObjectRequest& req, proto::LendObjectReply* reply) {
  return r_->lender_->Lend(req, NowMs(), reply);
}

absl::Status RayletServer::Service::GetStoreInfo(const proto::GetStoreInfoRequest&, proto::GetStoreInfoReply* reply) {
  *reply->mutable_info() = r_->store_->Info();
  reply->set_node_id(r_->node_id_);
  return absl::OkStatus();
}

}  // namespace glint::raylet
