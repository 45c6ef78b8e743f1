#include "gcs/gcs_server.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/rpc.h"
#include "gcs/gcs_service.h"
#include "proto/gcs.grpc.pb.h"

namespace glint::gcs {

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
  actors_.AddDeathListener([this](const proto::ActorInfo& a) { groups_.OnActorDead(a); });
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
                            &port_, queue_.slot());
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  cluster_->UseQueue(queue_.client());
  // Requests wait in gRPC until the tables are back and the methods served.
  Recover();
  service_->Serve(queue_.cq());
  kv_service_->Serve(queue_.cq());
  task_service_->Serve(queue_.cq());
  health_service_->Serve(queue_.cq());
  queue_.Start("glint-gcs-rpc");
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
  // (A long poll that came in after the waiters were let go above stays
  // unanswered: nothing that would answer it runs any more, and the server
  // has ended its call.)
  queue_.Stop();
}

}  // namespace glint::gcs
