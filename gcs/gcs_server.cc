#include "gcs/gcs_server.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/limits.h"
#include "common/logging.h"
#include "common/rpc.h"
#include "common/server_call.h"
#include "proto/gcs.grpc.pb.h"

namespace glint::gcs {
namespace {

// A reply held open until the client goes away (the driver's keep-alive).
class KeepAliveReactor : public grpc::ServerUnaryReactor {
 public:
  explicit KeepAliveReactor(std::function<void()> on_gone) : on_gone_(std::move(on_gone)) {}
  void OnCancel() override {
    on_gone_();
    Finish(ToGrpc(absl::CancelledError("job ended")));
  }
  void OnDone() override { delete this; }

 private:
  std::function<void()> on_gone_;
};

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  return FinishUnary(ctx, s);
}

absl::Status Invalid(const std::string& msg) { return absl::InvalidArgumentError(msg); }

}  // namespace

class GcsServer::Service final : public proto::GcsService::CallbackService {
 public:
  explicit Service(GcsServer* s) : s_(s) {}

  grpc::ServerUnaryReactor* RegisterNode(grpc::CallbackServerContext* ctx,
                                         const proto::RegisterNodeRequest* req,
                                         proto::RegisterNodeReply*) override {
    if (req->node().node_id().size() != kIdSize || req->node().address().port() <= 0 ||
        req->node().address().port() > 65535) {
      return Done(ctx, Invalid("a node needs an id and an address"));
    }
    for (auto s : {CheckAddress("the node's address", req->node().address().ip(), /*may_be_empty=*/false),
                   CheckId("the node's secret", req->node_secret()), CheckResources(req->node().total_resources()),
                   CheckResources(req->node().available_resources())}) {
      if (!s.ok()) return Done(ctx, s);
    }
    return Done(ctx, s_->nodes_.Register(req->node(), req->node_secret(), NowMs()));
  }

  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const proto::HeartbeatRequest* req,
                                      proto::HeartbeatReply* reply) override {
    if (auto s = CheckResources(req->available_resources()); !s.ok()) return Done(ctx, s);
    auto s = s_->nodes_.Heartbeat(req->node_id(), req->node_secret(), req->available_resources(), req->num_workers(),
                                  NowMs(), &req->object_store());
    if (absl::IsNotFound(s) || absl::IsFailedPrecondition(s)) {
      reply->set_unknown_node(true);
      reply->set_declared_dead(absl::IsFailedPrecondition(s));
      return Done(ctx, absl::OkStatus());
    }
    if (s.ok()) {
      s_->nodes_.SetPending(req->node_id(), req->pending());
      int64_t version = s_->nodes_.ViewVersion();
      if (version != req->view_version()) {  // the raylet's view is behind: push ours
        reply->set_view_version(version);
        for (auto& n : s_->nodes_.All()) *reply->add_nodes() = std::move(n);
      }
    }
    return Done(ctx, s);
  }

  grpc::ServerUnaryReactor* GetAllNodes(grpc::CallbackServerContext* ctx,
                                        const proto::GetAllNodesRequest*,
                                        proto::GetAllNodesReply* reply) override {
    for (auto& n : s_->nodes_.All()) *reply->add_nodes() = n;
    return Done(ctx, absl::OkStatus());
  }

  grpc::ServerUnaryReactor* RegisterJob(grpc::CallbackServerContext* ctx,
                                        const proto::RegisterJobRequest* req,
                                        proto::RegisterJobReply* reply) override {
    if (auto s = CheckJob(req->job()); !s.ok()) return Done(ctx, s);
    auto job = s_->jobs_.Register(req->job(), NowMs());
    if (!job.ok()) return Done(ctx, job.status());
    reply->set_job_id(job->job_id());
    reply->set_ray_namespace(job->ray_namespace());
    return Done(ctx, absl::OkStatus());
  }

  grpc::ServerUnaryReactor* JobKeepAlive(grpc::CallbackServerContext* ctx,
                                         const proto::JobKeepAliveRequest* req,
                                         proto::JobKeepAliveReply*) override {
    if (!s_->jobs_.Get(req->job_id())) return Done(ctx, Invalid("unknown job"));
    s_->jobs_.MarkDriverAlive(req->job_id());
    std::string job_id = req->job_id();
    GcsServer* s = s_;
    return new KeepAliveReactor([s, job_id] {
      if (s->stopping_) return;
      // The call dropped: the driver exited or died, or the stream was
      // reset. Only a driver that no longer answers has ended its job.
      auto job = s->jobs_.Get(job_id);
      if (!job || job->finished()) return;
      s->cluster_->Probe(job->driver(), [s, job_id](bool alive) {
        if (alive) {
          LOG(WARNING) << "job " << ShortHex(job_id) << ": keep-alive dropped but the driver answers";
        } else if (!s->stopping_) {
          s->jobs_.Finish(job_id, NowMs());
        }
      });
    });
  }

  grpc::ServerUnaryReactor* FinishJob(grpc::CallbackServerContext* ctx,
                                      const proto::FinishJobRequest* req,
                                      proto::FinishJobReply*) override {
    if (!s_->jobs_.Finish(req->job_id(), NowMs())) return Done(ctx, Invalid("unknown job"));
    return Done(ctx, absl::OkStatus());
  }

  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* ctx, const proto::GetJobRequest* req,
                                   proto::GetJobReply* reply) override {
    auto job = s_->jobs_.Get(req->job_id());
    if (!job) return Done(ctx, absl::NotFoundError("unknown job"));
    *reply->mutable_job() = *job;
    return Done(ctx, absl::OkStatus());
  }

  grpc::ServerUnaryReactor* GetAllJobs(grpc::CallbackServerContext* ctx,
                                       const proto::GetAllJobsRequest*,
                                       proto::GetAllJobsReply* reply) override {
    for (auto& j : s_->jobs_.All()) *reply->add_jobs() = j;
    return Done(ctx, absl::OkStatus());
  }

  grpc::ServerUnaryReactor* CreateActor(grpc::CallbackServerContext* ctx,
                                        const proto::CreateActorRequest* req,
                                        proto::CreateActorReply* reply) override {
    auto a = s_->actors_.Create(*req);
    if (!a.ok()) return Done(ctx, a.status());
    *reply->mutable_actor() = *a;
    return Done(ctx, absl::OkStatus());
  }

  grpc::ServerUnaryReactor* GetActor(grpc::CallbackServerContext* ctx,
                                     const proto::GetActorRequest* req,
                                     proto::GetActorReply* reply) override {
    if (!req->actor_id().empty() && req->wait_newer_than() > 0) {
      auto* r = ctx->DefaultReactor();
      int64_t timeout = std::clamp<int64_t>(req->wait_timeout_ms(), 0, 60000);
      s_->actors_.WaitNewer(req->actor_id(), req->wait_newer_than(), NowMs() + timeout,
                            [r, reply](std::optional<proto::ActorInfo> a) {
                              reply->set_found(a.has_value());
                              if (a) *reply->mutable_actor() = *a;
                              r->Finish(grpc::Status::OK);
                            });
      return r;
    }
    if (auto s = CheckName("the actor name", req->name()); !s.ok()) return Done(ctx, s);
    if (auto s = CheckName("the namespace", req->ray_namespace()); !s.ok()) return Done(ctx, s);
    auto a = req->actor_id().empty() ? s_->actors_.GetByName(req->name(), req->ray_namespace())
                                     : s_->actors_.GetById(req->actor_id());
    reply->set_found(a.has_value());
    if (a) *reply->mutable_actor() = *a;
    return Done(ctx, absl::OkStatus());
  }

  grpc::ServerUnaryReactor* KillActor(grpc::CallbackServerContext* ctx,
                                      const proto::KillActorRequest* req,
                                      proto::KillActorReply*) override {
    constexpr size_t kMaxReason = 4096;  // a reason is kept with the actor: bounded
    return Done(ctx, s_->actors_.Kill(req->actor_id(), req->no_restart(), req->reason().substr(0, kMaxReason)));
  }

  grpc::ServerUnaryReactor* ListActors(grpc::CallbackServerContext* ctx,
                                       const proto::ListActorsRequest* req,
                                       proto::ListActorsReply* reply) override {
    for (auto& a : s_->actors_.List(req->ray_namespace(), req->all())) *reply->add_actors() = a;
    return Done(ctx, absl::OkStatus());
  }

  grpc::ServerUnaryReactor* ReportWorkerFailure(grpc::CallbackServerContext* ctx,
                                                const proto::ReportWorkerFailureRequest* req,
                                                proto::ReportWorkerFailureReply*) override {
    s_->actors_.OnWorkerFailure(req->worker_id(), req->reason());
    s_->tasks_.FailWorker(req->worker_id(), NowMs(), req->reason());
    return Done(ctx, absl::OkStatus());
  }

  // ---- placement groups (placement_group_manager.h) ----

  grpc::ServerUnaryReactor* CreatePlacementGroup(grpc::CallbackServerContext* ctx,
                                                 const proto::CreatePlacementGroupRequest* req,
                                                 proto::CreatePlacementGroupReply* reply) override {
    auto g = s_->groups_.Create(req->group());
    if (g.ok()) *reply->mutable_group() = *g;
    return Done(ctx, g.status());
  }

  grpc::ServerUnaryReactor* GetPlacementGroup(grpc::CallbackServerContext* ctx,
                                              const proto::GetPlacementGroupRequest* req,
                                              proto::GetPlacementGroupReply* reply) override {
    if (!req->group_id().empty() && req->wait_timeout_ms() > 0) {
      auto* r = ctx->DefaultReactor();
      int64_t timeout = std::min<int64_t>(req->wait_timeout_ms(), 60000);
      s_->groups_.WaitPlaced(req->group_id(), NowMs() + timeout, [r, reply](std::optional<proto::PlacementGroupInfo> g) {
        reply->set_found(g.has_value());
        if (g) *reply->mutable_group() = *g;
        r->Finish(grpc::Status::OK);
      });
      return r;
    }
    if (auto s = CheckName("the placement group's name", req->name()); !s.ok()) return Done(ctx, s);
    if (auto s = CheckName("the namespace", req->ray_namespace()); !s.ok()) return Done(ctx, s);
    auto g = req->group_id().empty() ? s_->groups_.GetByName(req->name(), req->ray_namespace())
                                     : s_->groups_.Get(req->group_id());
    reply->set_found(g.has_value());
    if (g) *reply->mutable_group() = *g;
    return Done(ctx, absl::OkStatus());
  }

  grpc::ServerUnaryReactor* RemovePlacementGroup(grpc::CallbackServerContext* ctx,
                                                 const proto::RemovePlacementGroupRequest* req,
                                                 proto::RemovePlacementGroupReply*) override {
    return Done(ctx, s_->groups_.Remove(req->group_id()));
  }

  grpc::ServerUnaryReactor* ListPlacementGroups(grpc::CallbackServerContext* ctx, const proto::ListPlacementGroupsRequest*,
                                                proto::ListPlacementGroupsReply* reply) override {
    for (auto& g : s_->groups_.List()) *reply->add_groups() = std::move(g);
    return Done(ctx, absl::OkStatus());
  }

 private:
  GcsServer* s_;
};

GcsServer::GcsServer(GcsOptions options, std::unique_ptr<GcsStore> store,
                     std::unique_ptr<ClusterClient> cluster)
    : options_(std::move(options)),
      store_(std::move(store)),
      cluster_(std::move(cluster)),
      nodes_(store_.get(), options_.heartbeat_timeout_ms),
      jobs_(store_.get()),
      actors_(store_.get(), &nodes_, &jobs_, cluster_.get()),
      groups_(store_.get(), &nodes_, &jobs_, &actors_, cluster_.get()),
      kv_(store_.get()) {
  actors_.SetGroupExists([this](const std::string& group_id) { return groups_.Get(group_id).has_value(); });
  nodes_.AddDeathListener([this](const proto::NodeInfo& n) {
    groups_.OnNodeDead(n);  // first: the actors' restarts wait for their bundles
    actors_.OnNodeDead(n);
    tasks_.FailNode(n.node_id(), NowMs(), absl::StrCat("its node ", ShortHex(n.node_id()), " died"));
  });
  jobs_.AddFinishListener([this](const proto::JobInfo& j) {
    actors_.OnJobFinished(j);
    groups_.OnJobFinished(j);
    tasks_.FailJob(j.job_id(), NowMs(), "its job ended before it did");
    for (auto& n : nodes_.All()) {
      if (n.alive()) cluster_->NotifyJobFinished(n.address(), j);
    }
  });
}

GcsServer::~GcsServer() { Stop(); }

void GcsServer::Recover() {
  int64_t now = NowMs();
  nodes_.Recover(now);
  auto running = jobs_.Recover(now);
  actors_.Recover();
  groups_.Recover();
  kv_.Recover();
  // A job whose driver died while the GCS was away ends now; a live driver
  // opens its keep-alive again (until then the job counts as unproven).
  for (auto& job : running) {
    cluster_->Probe(job.driver(), [this, id = job.job_id()](bool alive) {
      if (alive || stopping_) return;
      LOG(INFO) << "job " << ShortHex(id) << ": its driver died while the GCS was away";
      jobs_.Finish(id, NowMs());
    });
  }
}

absl::Status GcsServer::Start() {
  Recover();
  service_ = std::make_unique<Service>(this);
  kv_service_ = std::make_unique<KvService>(&kv_);
  task_service_ = std::make_unique<TaskEventService>(&tasks_);
  auto server = StartServer(options_.host, options_.port, {service_.get(), kv_service_.get(), task_service_.get()},
                            kGcsLimits, &port_);
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  ticker_.Start("glint-gcs-tick", absl::Milliseconds(100), [this] {
    int64_t now = NowMs();
    nodes_.CheckHealth(now);
    actors_.ExpireWaiters(now);
    actors_.PlaceWaiting();
    actors_.RetryUnanswered(now);
    groups_.Tick(now);
    jobs_.FinishUnproven(now, options_.unproven_job_ms);
    actors_.ForgetOldDead();
    if (jobs_.TooManyFinished()) jobs_.ForgetOldFinished(actors_.JobsWithLiveActors());
  });
  LOG(INFO) << "glint-gcs listening on " << options_.host << ":" << port_;
  return absl::OkStatus();
}

void GcsServer::Stop() {
  if (stopping_.exchange(true)) return;
  actors_.ExpireWaiters(0, /*all=*/true);
  groups_.Tick(0, /*all=*/true);
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  ticker_.Stop();
  actors_.Stop();
  cluster_->Stop();
}

}  // namespace glint::gcs
