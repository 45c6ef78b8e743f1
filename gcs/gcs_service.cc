#include "gcs/gcs_service.h"

#include <algorithm>
#include <optional>

#include "common/ids.h"
#include "common/limits.h"
#include "common/logging.h"
#include "common/rpc.h"

namespace glint::gcs {
namespace {

absl::Status Invalid(const std::string& msg) { return absl::InvalidArgumentError(msg); }

// A lookup by name (GetActor, GetPlacementGroup): its name, called `what`,
// and its namespace are names.
template <typename Req>
absl::Status CheckNamed(const std::string& what, const Req& req) {
  if (auto s = CheckName(what, req.name()); !s.ok()) return s;
  return CheckName("the namespace", req.ray_namespace());
}

// Answers a lookup: whether it found something, and what (into the reply's
// `field`, e.g. &GetActorReply::mutable_actor).
template <typename Call, typename Info, typename Reply>
void FinishFound(Call* c, std::optional<Info> found, Info* (Reply::*field)()) {
  c->reply.set_found(found.has_value());
  if (found) *(c->reply.*field)() = std::move(*found);
  c->Finish(absl::OkStatus());
}

}  // namespace

void GcsServer::Service::Serve(grpc::ServerCompletionQueue* cq) {
  using S = proto::GcsService::AsyncService;
  ServeUnary(this, cq, &S::RequestRegisterNode, this, &Service::RegisterNode);
  ServeUnary(this, cq, &S::RequestHeartbeat, this, &Service::Heartbeat);
  ServeUnary(this, cq, &S::RequestGetAllNodes, this, &Service::GetAllNodes);
  ServeUnary(this, cq, &S::RequestRegisterJob, this, &Service::RegisterJob);
  ServeUnary(this, cq, &S::RequestFinishJob, this, &Service::FinishJob);
  ServeUnary(this, cq, &S::RequestGetJob, this, &Service::GetJob);
  ServeUnary(this, cq, &S::RequestGetAllJobs, this, &Service::GetAllJobs);
  ServeUnary(this, cq, &S::RequestCreateActor, this, &Service::CreateActor);
  ServeUnary(this, cq, &S::RequestKillActor, this, &Service::KillActor);
  ServeUnary(this, cq, &S::RequestListActors, this, &Service::ListActors);
  ServeUnary(this, cq, &S::RequestReportWorkerFailure, this, &Service::ReportWorkerFailure);
  ServerCall<proto::CreatePlacementGroupRequest, proto::CreatePlacementGroupReply>::Serve(
      this, cq, &S::RequestCreatePlacementGroup, [this](auto* c) { CreatePlacementGroup(c); });
  ServerCall<proto::RemovePlacementGroupRequest, proto::RemovePlacementGroupReply>::Serve(
      this, cq, &S::RequestRemovePlacementGroup, [this](auto* c) { RemovePlacementGroup(c); });
  ServeUnary(this, cq, &S::RequestListPlacementGroups, this, &Service::ListPlacementGroups);
  ServerCall<proto::GetActorRequest, proto::GetActorReply>::Serve(this, cq, &S::RequestGetActor,
                                                                  [this](auto* c) { GetActor(c); });
  ServerCall<proto::GetPlacementGroupRequest, proto::GetPlacementGroupReply>::Serve(
      this, cq, &S::RequestGetPlacementGroup, [this](auto* c) { GetPlacementGroup(c); });
  HeldServerCall<proto::JobKeepAliveRequest, proto::JobKeepAliveReply>::Serve(
      this, cq, &S::RequestJobKeepAlive,
      {[this](const proto::JobKeepAliveRequest& req) { return KeepAliveStarts(req); },
       [this](const proto::JobKeepAliveRequest& req) { KeepAliveEnds(req); }});
}

absl::Status GcsServer::Service::RegisterNode(const proto::RegisterNodeRequest& req, proto::RegisterNodeReply*) {
  if (req.node().node_id().size() != kIdSize || req.node().address().port() <= 0 ||
      req.node().address().port() > 65535) {
    return Invalid("a node needs an id and an address");
  }
  for (auto s : {CheckAddress("the node's address", req.node().address().ip(), /*may_be_empty=*/false),
                 CheckId("the node's secret", req.node_secret()), CheckResources(req.node().total_resources()),
                 CheckResources(req.node().available_resources())}) {
    if (!s.ok()) return s;
  }
  return s_->nodes_.Register(req.node(), req.node_secret(), NowMs());
}

absl::Status GcsServer::Service::Heartbeat(const proto::HeartbeatRequest& req, proto::HeartbeatReply* reply) {
  if (auto s = CheckResources(req.available_resources()); !s.ok()) return s;
  auto s = s_->nodes_.Heartbeat(req.node_id(), req.node_secret(), req.available_resources(), req.num_workers(),
                                NowMs(), &req.object_store());
  if (absl::IsNotFound(s) || absl::IsFailedPrecondition(s)) {
    reply->set_unknown_node(true);
    reply->set_declared_dead(absl::IsFailedPrecondition(s));
    return absl::OkStatus();
  }
  if (s.ok()) {
    s_->nodes_.SetPending(req.node_id(), req.pending());
    int64_t version = s_->nodes_.ViewVersion();
    if (version != req.view_version()) {  // the raylet's view is behind: push ours
      reply->set_view_version(version);
      for (auto& n : s_->nodes_.All()) *reply->add_nodes() = std::move(n);
    }
  }
  return s;
}

absl::Status GcsServer::Service::GetAllNodes(const proto::GetAllNodesRequest&, proto::GetAllNodesReply* reply) {
  for (auto& n : s_->nodes_.All()) *reply->add_nodes() = std::move(n);
  return absl::OkStatus();
}

absl::Status GcsServer::Service::RegisterJob(const proto::RegisterJobRequest& req, proto::RegisterJobReply* reply) {
  if (auto s = CheckJob(req.job()); !s.ok()) return s;
  auto job = s_->jobs_.Register(req.job(), NowMs());
  if (!job.ok()) return job.status();
  reply->set_job_id(job->job_id());
  reply->set_ray_namespace(job->ray_namespace());
  return absl::OkStatus();
}

// A driver's keep-alive: held open while the driver lives.
absl::Status GcsServer::Service::KeepAliveStarts(const proto::JobKeepAliveRequest& req) {
  if (!s_->jobs_.Get(req.job_id())) return Invalid("unknown job");
  s_->jobs_.MarkDriverAlive(req.job_id());
  return absl::OkStatus();
}

// The keep-alive dropped: the driver exited or died, or the stream was
// reset. Only a driver that no longer answers has ended its job.
void GcsServer::Service::KeepAliveEnds(const proto::JobKeepAliveRequest& req) {
  GcsServer* s = s_;
  if (s->stopping_) return;
  auto job = s->jobs_.Get(req.job_id());
  if (!job || job->finished()) return;
  s->cluster_->Probe(job->driver(), [s, job_id = req.job_id()](bool alive) {
    if (alive) {
      LOG(WARNING) << "job " << ShortHex(job_id) << ": keep-alive dropped but the driver answers";
    } else if (!s->stopping_) {
      s->jobs_.Finish(job_id, NowMs());
    }
  });
}

absl::Status GcsServer::Service::FinishJob(const proto::FinishJobRequest& req, proto::FinishJobReply*) {
  if (!s_->jobs_.Finish(req.job_id(), NowMs())) return Invalid("unknown job");
  return absl::OkStatus();
}

absl::Status GcsServer::Service::GetJob(const proto::GetJobRequest& req, proto::GetJobReply* reply) {
  auto job = s_->jobs_.Get(req.job_id());
  if (!job) return absl::NotFoundError("unknown job");
  *reply->mutable_job() = *job;
  return absl::OkStatus();
}

absl::Status GcsServer::Service::GetAllJobs(const proto::GetAllJobsRequest&, proto::GetAllJobsReply* reply) {
  for (auto& j : s_->jobs_.All()) *reply->add_jobs() = std::move(j);
  return absl::OkStatus();
}

absl::Status GcsServer::Service::CreateActor(const proto::CreateActorRequest& req, proto::CreateActorReply* reply) {
  auto a = s_->actors_.Create(req);
  if (!a.ok()) return a.status();
  *reply->mutable_actor() = std::move(*a);
  return absl::OkStatus();
}

// By name or id, at once; or by id once it is newer than a version the
// caller has seen (a long poll, answered when it changes or times out).
void GcsServer::Service::GetActor(ServerCall<proto::GetActorRequest, proto::GetActorReply>* c) {
  const auto& req = c->req;
  if (!req.actor_id().empty() && req.wait_newer_than() > 0) {
    int64_t timeout = std::clamp<int64_t>(req.wait_timeout_ms(), 0, 60000);
    s_->actors_.WaitNewer(req.actor_id(), req.wait_newer_than(), NowMs() + timeout,
                          [c](std::optional<proto::ActorInfo> a) {
                            FinishFound(c, std::move(a), &proto::GetActorReply::mutable_actor);
                          });
    return;
  }
  if (auto s = CheckNamed("the actor name", req); !s.ok()) return c->Finish(s);
  FinishFound(c,
              req.actor_id().empty() ? s_->actors_.GetByName(req.name(), req.ray_namespace())
                                     : s_->actors_.GetById(req.actor_id()),
              &proto::GetActorReply::mutable_actor);
}

absl::Status GcsServer::Service::KillActor(const proto::KillActorRequest& req, proto::KillActorReply*) {
  constexpr size_t kMaxReason = 4096;  // a reason is kept with the actor: bounded
  return s_->actors_.Kill(req.actor_id(), req.no_restart(), req.reason().substr(0, kMaxReason));
}

absl::Status GcsServer::Service::ListActors(const proto::ListActorsRequest& req, proto::ListActorsReply* reply) {
  for (auto& a : s_->actors_.List(req.ray_namespace(), req.all())) *reply->add_actors() = std::move(a);
  return absl::OkStatus();
}

absl::Status GcsServer::Service::ReportWorkerFailure(const proto::ReportWorkerFailureRequest& req, proto::ReportWorkerFailureReply*) {
  s_->actors_.OnWorkerFailure(req.worker_id(), req.reason());
  s_->tasks_.FailWorker(req.worker_id(), NowMs(), req.reason());
  return absl::OkStatus();
}

// The call is over (and `c` perhaps gone) once it is finished: what runs
// after that uses copies.
void GcsServer::Service::CreatePlacementGroup(
    ServerCall<proto::CreatePlacementGroupRequest, proto::CreatePlacementGroupReply>* c) {
  proto::PlacementGroupInfo group = std::move(*c->req.mutable_group());
  s_->groups_.Create(group, [c](const absl::StatusOr<proto::PlacementGroupInfo>& g) {
    if (g.ok()) *c->reply.mutable_group() = *g;
    c->Finish(g.status());
  }).IgnoreError();
}

// By name or id, at once; or by id once it is placed (a long poll).
void GcsServer::Service::GetPlacementGroup(ServerCall<proto::GetPlacementGroupRequest, proto::GetPlacementGroupReply>* c) {
  const auto& req = c->req;
  if (!req.group_id().empty() && req.wait_timeout_ms() > 0) {
    int64_t timeout = std::min<int64_t>(req.wait_timeout_ms(), 60000);
    s_->groups_.WaitPlaced(req.group_id(), NowMs() + timeout, [c](std::optional<proto::PlacementGroupInfo> g) {
      FinishFound(c, std::move(g), &proto::GetPlacementGroupReply::mutable_group);
    });
    return;
  }
  if (auto s = CheckNamed("the placement group's name", req); !s.ok()) return c->Finish(s);
  FinishFound(c,
              req.group_id().empty() ? s_->groups_.GetByName(req.name(), req.ray_namespace())
                                     : s_->groups_.Get(req.group_id()),
              &proto::GetPlacementGroupReply::mutable_group);
}

void GcsServer::Service::RemovePlacementGroup(
    ServerCall<proto::RemovePlacementGroupRequest, proto::RemovePlacementGroupReply>* c) {
  std::string id = c->req.group_id();
  s_->groups_.Remove(id, [c](const absl::Status& s) { c->Finish(s); }).IgnoreError();
}

absl::Status GcsServer::Service::ListPlacementGroups(const proto::ListPlacementGroupsRequest&, proto::ListPlacementGroupsReply* reply) {
  for (auto& g : s_->groups_.List()) *reply->add_groups() = std::move(g);
  return absl::OkStatus();
}

}  // namespace glint::gcs
