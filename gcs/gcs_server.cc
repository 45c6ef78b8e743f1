#include "gcs/gcs_server.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/limits.h"
#include "common/logging.h"
#include "common/rpc.h"
#include "common/process.h"
#include "common/server_call.h"
#include "proto/gcs.grpc.pb.h"

namespace glint::gcs {
namespace {

absl::Status Invalid(const std::string& msg) { return absl::InvalidArgumentError(msg); }

}  // namespace

// GcsService on the GCS's completion queue: each method is answered on the
// thread that took its request off the socket (gcs_server.h).
class GcsServer::Service final : public proto::GcsService::AsyncService {
 public:
  explicit Service(GcsServer* s) : s_(s) {}

  // Starts taking requests from `cq`.
  void Serve(grpc::ServerCompletionQueue* cq) {
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
    ServeUnary(this, cq, &S::RequestCreatePlacementGroup, this, &Service::CreatePlacementGroup);
    ServeUnary(this, cq, &S::RequestRemovePlacementGroup, this, &Service::RemovePlacementGroup);
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

 private:
  absl::Status RegisterNode(const proto::RegisterNodeRequest& req, proto::RegisterNodeReply*) {
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

  absl::Status Heartbeat(const proto::HeartbeatRequest& req, proto::HeartbeatReply* reply) {
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

  absl::Status GetAllNodes(const proto::GetAllNodesRequest&, proto::GetAllNodesReply* reply) {
    for (auto& n : s_->nodes_.All()) *reply->add_nodes() = std::move(n);
    return absl::OkStatus();
  }

  absl::Status RegisterJob(const proto::RegisterJobRequest& req, proto::RegisterJobReply* reply) {
    if (auto s = CheckJob(req.job()); !s.ok()) return s;
    auto job = s_->jobs_.Register(req.job(), NowMs());
    if (!job.ok()) return job.status();
    reply->set_job_id(job->job_id());
    reply->set_ray_namespace(job->ray_namespace());
    return absl::OkStatus();
  }

  // A driver's keep-alive: held open while the driver lives.
  absl::Status KeepAliveStarts(const proto::JobKeepAliveRequest& req) {
    if (!s_->jobs_.Get(req.job_id())) return Invalid("unknown job");
    s_->jobs_.MarkDriverAlive(req.job_id());
    return absl::OkStatus();
  }

  // The keep-alive dropped: the driver exited or died, or the stream was
  // reset. Only a driver that no longer answers has ended its job.
  void KeepAliveEnds(const proto::JobKeepAliveRequest& req) {
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

  absl::Status FinishJob(const proto::FinishJobRequest& req, proto::FinishJobReply*) {
    if (!s_->jobs_.Finish(req.job_id(), NowMs())) return Invalid("unknown job");
    return absl::OkStatus();
  }

  absl::Status GetJob(const proto::GetJobRequest& req, proto::GetJobReply* reply) {
    auto job = s_->jobs_.Get(req.job_id());
    if (!job) return absl::NotFoundError("unknown job");
    *reply->mutable_job() = *job;
    return absl::OkStatus();
  }

  absl::Status GetAllJobs(const proto::GetAllJobsRequest&, proto::GetAllJobsReply* reply) {
    for (auto& j : s_->jobs_.All()) *reply->add_jobs() = std::move(j);
    return absl::OkStatus();
  }

  absl::Status CreateActor(const proto::CreateActorRequest& req, proto::CreateActorReply* reply) {
    auto a = s_->actors_.Create(req);
    if (!a.ok()) return a.status();
    *reply->mutable_actor() = std::move(*a);
    return absl::OkStatus();
  }

  // By name or id, at once; or by id once it is newer than a version the
  // caller has seen (a long poll, answered when it changes or times out).
  void GetActor(ServerCall<proto::GetActorRequest, proto::GetActorReply>* c) {
    const auto& req = c->req;
    auto* reply = &c->reply;
    if (!req.actor_id().empty() && req.wait_newer_than() > 0) {
      int64_t timeout = std::clamp<int64_t>(req.wait_timeout_ms(), 0, 60000);
      s_->actors_.WaitNewer(req.actor_id(), req.wait_newer_than(), NowMs() + timeout,
                            [c, reply](std::optional<proto::ActorInfo> a) {
                              reply->set_found(a.has_value());
                              if (a) *reply->mutable_actor() = std::move(*a);
                              c->Finish(absl::OkStatus());
                            });
      return;
    }
    if (auto s = CheckName("the actor name", req.name()); !s.ok()) return c->Finish(s);
    if (auto s = CheckName("the namespace", req.ray_namespace()); !s.ok()) return c->Finish(s);
    auto a = req.actor_id().empty() ? s_->actors_.GetByName(req.name(), req.ray_namespace())
                                    : s_->actors_.GetById(req.actor_id());
    reply->set_found(a.has_value());
    if (a) *reply->mutable_actor() = std::move(*a);
    c->Finish(absl::OkStatus());
  }

  absl::Status KillActor(const proto::KillActorRequest& req, proto::KillActorReply*) {
    constexpr size_t kMaxReason = 4096;  // a reason is kept with the actor: bounded
    return s_->actors_.Kill(req.actor_id(), req.no_restart(), req.reason().substr(0, kMaxReason));
  }

  absl::Status ListActors(const proto::ListActorsRequest& req, proto::ListActorsReply* reply) {
    for (auto& a : s_->actors_.List(req.ray_namespace(), req.all())) *reply->add_actors() = std::move(a);
    return absl::OkStatus();
  }

  absl::Status ReportWorkerFailure(const proto::ReportWorkerFailureRequest& req, proto::ReportWorkerFailureReply*) {
    s_->actors_.OnWorkerFailure(req.worker_id(), req.reason());
    s_->tasks_.FailWorker(req.worker_id(), NowMs(), req.reason());
    return absl::OkStatus();
  }

  // ---- placement groups (placement_group_manager.h) ----

  absl::Status CreatePlacementGroup(const proto::CreatePlacementGroupRequest& req,
                                    proto::CreatePlacementGroupReply* reply) {
    auto g = s_->groups_.Create(req.group());
    if (g.ok()) *reply->mutable_group() = std::move(*g);
    return g.status();
  }

  // By name or id, at once; or by id once it is placed (a long poll).
  void GetPlacementGroup(ServerCall<proto::GetPlacementGroupRequest, proto::GetPlacementGroupReply>* c) {
    const auto& req = c->req;
    auto* reply = &c->reply;
    if (!req.group_id().empty() && req.wait_timeout_ms() > 0) {
      int64_t timeout = std::min<int64_t>(req.wait_timeout_ms(), 60000);
      s_->groups_.WaitPlaced(req.group_id(), NowMs() + timeout, [c, reply](std::optional<proto::PlacementGroupInfo> g) {
        reply->set_found(g.has_value());
        if (g) *reply->mutable_group() = std::move(*g);
        c->Finish(absl::OkStatus());
      });
      return;
    }
    if (auto s = CheckName("the placement group's name", req.name()); !s.ok()) return c->Finish(s);
    if (auto s = CheckName("the namespace", req.ray_namespace()); !s.ok()) return c->Finish(s);
    auto g = req.group_id().empty() ? s_->groups_.GetByName(req.name(), req.ray_namespace())
                                    : s_->groups_.Get(req.group_id());
    reply->set_found(g.has_value());
    if (g) *reply->mutable_group() = std::move(*g);
    c->Finish(absl::OkStatus());
  }

  absl::Status RemovePlacementGroup(const proto::RemovePlacementGroupRequest& req, proto::RemovePlacementGroupReply*) {
    return s_->groups_.Remove(req.group_id());
  }

  absl::Status ListPlacementGroups(const proto::ListPlacementGroupsRequest&, proto::ListPlacementGroupsReply* reply) {
    for (auto& g : s_->groups_.List()) *reply->add_groups() = std::move(g);
    return absl::OkStatus();
  }

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
  service_ = std::make_unique<Service>(this);
  kv_service_ = std::make_unique<KvService>(&kv_);
  task_service_ = std::make_unique<TaskEventService>(&tasks_);
  health_service_ = std::make_unique<HealthService>(std::vector<std::string>{
      proto::GcsService::service_full_name(), proto::KvService::service_full_name(),
      proto::TaskEventService::service_full_name()});
  auto server = StartServer(options_.host, options_.port,
                            {service_.get(), kv_service_.get(), task_service_.get(), health_service_.get()}, kGcsLimits,
                            &port_, &cq_);
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  poller_ = std::make_unique<QueuePoller>(cq_.get());
  client_queue_ = std::make_unique<ClientQueue>(cq_.get());
  cluster_->UseQueue(client_queue_.get());
  // Requests wait in gRPC until the tables are back and the methods served.
  Recover();
  service_->Serve(cq_.get());
  kv_service_->Serve(cq_.get());
  task_service_->Serve(cq_.get());
  health_service_->Serve(cq_.get());
  poller_->StartCover(absl::Milliseconds(20));
  poll_thread_ = std::thread([this] {
    SetThreadName("glint-gcs-rpc");
    poller_->MarkPollerThread();
    poller_->PollUntilShutdown();
  });
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
  // The queue is polled until the calls in and out have ended.
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  ticker_.Stop();
  actors_.Stop();
  cluster_->Stop();
  // What is queued runs before the queue shuts. (A long poll that came in
  // after the waiters were let go above stays unanswered: nothing that
  // would answer it runs any more, and the server has ended its call.)
  if (poller_ && !poller_->Drain(absl::Seconds(2))) LOG(WARNING) << "the GCS's last events did not run in 2 s";
  if (poller_) poller_->Shutdown();
  if (poll_thread_.joinable()) poll_thread_.join();
  if (poller_) poller_->StopCover();
}

}  // namespace glint::gcs
