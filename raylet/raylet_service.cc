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
  return CheckResources(req.resources());
}
}  // namespace

void RayletServer::Service::WithLeaseJob(const proto::LeaseRequest& req, LeaseJobFn then) {
  static constexpr char kJobFinished[] = "the job has finished; no more workers for it";
  static constexpr auto refuse = [](const LeaseJobFn& then, const proto::LeaseRequest& req, std::string_view why) {
    proto::LeaseReply refusal;
    refusal.mutable_error()->set_type(proto::SCHEDULING_FAILED);
    refusal.mutable_error()->set_message(std::string(why));
    then(req, &refusal);
  };
  // Task leases only: a detached actor outlives its job and may restart.
  if (!req.for_actor() && r_->JobFinished(req.job().job_id())) return refuse(then, req, kJobFinished);
  r_->WithJob(req.job().job_id(), [req, then = std::move(then)](absl::StatusOr<proto::JobInfo> job) {
    if (!job.ok()) return refuse(then, req, std::string(job.status().message()));
    if (!req.for_actor() && job->finished()) return refuse(then, req, kJobFinished);
    proto::LeaseRequest registered = req;
    *registered.mutable_job() = *std::move(job);
    then(registered, nullptr);
  });
}

grpc::ServerUnaryReactor* RayletServer::Service::RequestWorkerLease(Ctx* ctx, const proto::LeaseRequest* req,
                                                                    proto::LeaseReply* reply) {
  if (auto s = CheckLease(*req); !s.ok()) return FinishUnary(ctx, s);
  r_->leases_->CountCall(1);
  auto* reactor = ctx->DefaultReactor();
  WithLeaseJob(*req, [this, reply, reactor](const proto::LeaseRequest& registered, const proto::LeaseReply* refusal) {
    if (refusal) {
      *reply = *refusal;
      return reactor->Finish(grpc::Status::OK);
    }
    r_->leases_->Request(registered, [reactor, reply](const proto::LeaseReply& r) {
      *reply = r;
      reactor->Finish(grpc::Status::OK);
    });
  });
  return reactor;
}

grpc::ServerWriteReactor<proto::LeaseReply>* RayletServer::Service::RequestWorkerLeases(Ctx*,
                                                                                       const proto::LeaseRequest* req) {
  auto s = CheckLease(*req);
  if (s.ok() && (req->count() < 1 || req->count() > kMaxLeasesPerCall)) {
    s = absl::InvalidArgumentError(absl::StrCat("a lease call asks for 1 to ", kMaxLeasesPerCall, " workers, not ",
                                                req->count()));
  }
  if (!s.ok()) return FinishStream<proto::LeaseReply>(s);
  r_->leases_->CountCall(req->count());
  auto* batch = new LeaseBatch(r_->leases_.get(), req->count());
  WithLeaseJob(*req, [answers = batch->answers()](const proto::LeaseRequest& registered,
                                                  const proto::LeaseReply* refusal) {
    if (refusal) {
      LeaseBatch::Refuse(answers, *refusal);
    } else {
      LeaseBatch::Start(answers, registered);
    }
  });
  return batch;
}

grpc::ServerUnaryReactor* RayletServer::Service::ReturnWorker(Ctx* ctx, const proto::ReturnWorkerRequest* req,
                                             proto::ReturnWorkerReply*) {
  r_->leases_->Return(req->lease_id(), NowMs(), req->disconnect());
  return FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* RayletServer::Service::RegisterWorker(Ctx* ctx, const proto::RegisterWorkerRequest* req,
                                               proto::RegisterWorkerReply*) {
  return FinishUnary(ctx, r_->pool_->OnRegistered(req->worker_id(), req->port(), req->pid(), req->startup_error()));
}

grpc::ServerUnaryReactor* RayletServer::Service::NotifyBlocked(Ctx* ctx, const proto::NotifyBlockedRequest* req,
                                              proto::NotifyBlockedReply*) {
  r_->leases_->SetBlocked(req->worker_id(), req->blocked());
  return FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* RayletServer::Service::KillWorker(Ctx* ctx, const proto::KillWorkerRequest* req, proto::KillWorkerReply*) {
  if (!r_->pool_->Kill(req->worker_id())) return FinishUnary(ctx, absl::NotFoundError("no such worker on this node"));
  LOG(INFO) << "killing worker " << ShortHex(req->worker_id()) << ": " << req->reason();
  return FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* RayletServer::Service::JobFinished(Ctx* ctx, const proto::JobFinishedRequest* req,
                                            proto::JobFinishedReply*) {
  if (auto st = CheckId("the job id", req->job_id()); !st.ok()) return FinishUnary(ctx, st);
  if (auto st = CheckAddress("the driver's address", req->driver()); !st.ok()) return FinishUnary(ctx, st);
  r_->OnJobFinished(req->job_id(), req->driver());
  return FinishUnary(ctx, absl::OkStatus());
}

namespace {
absl::Status CheckBundle(const proto::BundleRequest& req) {
  if (auto st = CheckId("the placement group id", req.group_id()); !st.ok()) return st;
  if (req.bundle_index() < 0) return absl::InvalidArgumentError("a bundle index cannot be negative");
  return CheckResources(req.resources());
}
}  // namespace

grpc::ServerUnaryReactor* RayletServer::Service::PrepareBundle(Ctx* ctx, const proto::BundleRequest* req,
                                                               proto::PrepareBundleReply* reply) {
  if (auto st = CheckBundle(*req); !st.ok()) return FinishUnary(ctx, st);
  if (req->resources().empty()) return FinishUnary(ctx, absl::InvalidArgumentError("a bundle needs resources"));
  bool reserved = r_->bundles_->Prepare(req->group_id(), req->bundle_index(), FromProto(req->resources()));
  if (reserved && req->commit()) reserved = r_->bundles_->Commit(req->group_id(), req->bundle_index()).ok();
  reply->set_reserved(reserved);
  return FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* RayletServer::Service::CommitBundle(Ctx* ctx, const proto::BundleRequest* req,
                                                              proto::CommitBundleReply*) {
  if (auto st = CheckBundle(*req); !st.ok()) return FinishUnary(ctx, st);
  return FinishUnary(ctx, r_->bundles_->Commit(req->group_id(), req->bundle_index()));
}

grpc::ServerUnaryReactor* RayletServer::Service::ReturnBundle(Ctx* ctx, const proto::BundleRequest* req,
                                                              proto::ReturnBundleReply*) {
  if (auto st = CheckBundle(*req); !st.ok()) return FinishUnary(ctx, st);
  r_->bundles_->Return(req->group_id(), req->bundle_index());
  return FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* RayletServer::Service::CreateObject(Ctx* ctx, const proto::CreateObjectRequest* req,
                                             proto::CreateObjectReply* reply) {
  if (req->size() < 0) return FinishUnary(ctx, absl::InvalidArgumentError("an object's size cannot be negative"));
  for (auto st : {CheckId("the object id", req->object_id()), CheckAddress("the owner", req->owner()),
                  CheckId("the owner's worker id", req->owner_worker_id(), /*may_be_empty=*/true),
                  CheckId("the job id", req->job_id(), /*may_be_empty=*/true)}) {
    if (!st.ok()) return FinishUnary(ctx, st);
  }
  auto offset = r_->store_->Create(req->object_id(), req->size(),
                                   {req->owner(), req->owner_worker_id(), req->job_id()}, /*primary=*/true);
  if (!offset.ok()) return FinishUnary(ctx, offset.status());
  reply->set_path(r_->store_->arena_path());
  reply->set_offset(*offset);
  return FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* RayletServer::Service::SealObject(Ctx* ctx, const proto::SealObjectRequest* req, proto::SealObjectReply*) {
  return FinishUnary(ctx, r_->store_->Seal(req->object_id()));
}

grpc::ServerUnaryReactor* RayletServer::Service::FreeObjects(Ctx* ctx, const proto::FreeObjectsRequest* req,
                                            proto::FreeObjectsReply*) {
  if (req->object_ids_size() > kMaxIdsPerRequest) {
    return FinishUnary(ctx, absl::InvalidArgumentError(
                                absl::StrCat("a request frees at most ", kMaxIdsPerRequest, " objects at once")));
  }
  auto holders = r_->store_->Free({req->object_ids().begin(), req->object_ids().end()});
  if (!req->forwarded()) r_->ForwardFree(holders);
  return FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* RayletServer::Service::PullObject(Ctx* ctx, const proto::PullObjectRequest* req, proto::PullObjectReply*) {
  if (req->source().size() < 0) return FinishUnary(ctx, absl::InvalidArgumentError("an object's size cannot be negative"));
  for (auto st : {CheckId("the object id", req->object_id()),
                  CheckAddress("the source's raylet", req->source().raylet(), /*may_be_empty=*/false)}) {
    if (!st.ok()) return FinishUnary(ctx, st);
  }
  auto* reactor = ctx->DefaultReactor();
  r_->puller_->Pull(req->object_id(), req->source(),
                    [reactor](const absl::Status& s) { reactor->Finish(ToGrpc(s)); });
  return reactor;
}

grpc::ServerUnaryReactor* RayletServer::Service::ReadObjectChunk(Ctx* ctx, const grpc::ByteBuffer* request,
                                                                 grpc::ByteBuffer* reply) {
  proto::ReadObjectChunkRequest req;
  grpc::ByteBuffer bytes(*request);
  if (!grpc::SerializationTraits<proto::ReadObjectChunkRequest>::Deserialize(&bytes, &req).ok()) {
    return FinishUnary(ctx, absl::InvalidArgumentError("a malformed ReadObjectChunkRequest"));
  }
  if (req.length() > kMaxChunkBytes) {
    return FinishUnary(ctx, absl::InvalidArgumentError(
                                absl::StrCat("a chunk is at most ", kMaxChunkBytes, " bytes; asked for ", req.length())));
  }
  if (auto st = CheckAddress("the requester", req.requester()); !st.ok()) return FinishUnary(ctx, st);
  ObjectStore::Chunk chunk;
  auto s = r_->store_->LendChunk(req.object_id(), req.offset(), req.length(), req.requester(), &chunk);
  if (absl::IsNotFound(s)) {
    return FinishUnary(ctx, absl::NotFoundError(absl::StrCat("node ", ShortHex(r_->node_id_), " has no object ",
                                                             ShortHex(req.object_id()), " (freed or lost)")));
  }
  if (!s.ok()) return FinishUnary(ctx, s);
  *reply = ChunkReply(r_->store_.get(), std::move(chunk));
  return FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* RayletServer::Service::PinObject(Ctx* ctx, const proto::PinObjectRequest* req, proto::PinObjectReply* reply) {
  if (auto st = CheckAddress("the client", req->client(), /*may_be_empty=*/false); !st.ok()) return FinishUnary(ctx, st);
  ObjectLocation where;
  if (r_->store_->Pin(req->object_id(), req->client(), &where)) {
    reply->set_found(true);
    reply->set_offset(where.offset);
    reply->set_size(where.size);
    reply->set_spill_path(where.spill_path);
  }
  return FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* RayletServer::Service::UnpinObject(Ctx* ctx, const proto::PinObjectRequest* req, proto::UnpinObjectReply*) {
  r_->store_->Unpin(req->object_id(), req->client());
  return FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* RayletServer::Service::GetStoreInfo(Ctx* ctx, const proto::GetStoreInfoRequest*,
                                             proto::GetStoreInfoReply* reply) {
  *reply->mutable_info() = r_->store_->Info();
  reply->set_node_id(r_->node_id_);
  return FinishUnary(ctx, absl::OkStatus());
}

}  // namespace glint::raylet
