#include "raylet/raylet_server.h"

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/logging.h"
#include "raylet/raylet_service.h"

namespace glint::raylet {
namespace {
using GcsStub = proto::GcsService::Stub;
constexpr int64_t kReapPeriodMs = 20;
}  // namespace

RayletServer::RayletServer(RayletOptions options) : options_(std::move(options)), node_id_(RandomId()) {}

RayletServer::~RayletServer() { Stop(); }

absl::Status RayletServer::Start() {
  store_ = std::make_unique<ObjectStore>(options_.store);
  if (auto s = store_->Init(); !s.ok()) return s;
  service_ = std::make_unique<Service>(this);
  log_service_ = std::make_unique<LogService>(node_id_, options_.log_dir);
  health_service_ = std::make_unique<HealthService>(std::vector<std::string>{
      proto::RayletService::service_full_name(), proto::LogService::service_full_name(),
      proto::NodeStateService::service_full_name()});
  state_service_ = std::make_unique<StateService>(node_id_, &pool_, &store_, [this](const WorkerInfo& w) {
    std::string path = spawner_ ? spawner_->LogPath(w.worker_id, w.pid) : "";
    return path.substr(path.rfind('/') + 1);
  });
  auto server = StartServer(options_.host, options_.port,
                            {service_.get(), log_service_.get(), state_service_.get(), health_service_.get()},
                            kRayletLimits, &port_, queue_.slot());
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  address_.set_ip(options_.host);
  address_.set_port(port_);
  address_.set_node_id(node_id_);
  lender_ = std::make_unique<ObjectLender>(store_.get(), options_.same_host_copy);
  puller_ = std::make_unique<ObjectPuller>(store_.get(), queue_.client(), AddrString(address_),
                                           options_.same_host_copy);
  logs_ = std::make_unique<LogMonitor>(
      node_id_, [this](const proto::Address& driver, proto::PushLogsRequest batch, std::function<void(bool)> done) {
        CallAsync(queue_.client(), workers_.Get(AddrString(driver)), &proto::WorkerService::Stub::PrepareAsyncPushLogs,
                  std::move(batch), 5000,
                  [done = std::move(done)](const absl::Status& s, proto::PushLogsReply&) { done(s.ok()); });
      });
  spawner_ = std::make_unique<ProcessSpawner>(SpawnerOptions{options_.worker_path, options_.log_dir,
                                                             options_.gcs_address, AddrString(address_), node_id_,
                                                             options_.host, options_.auth, logs_.get(),
                                                             options_.fork_workers});
  pool_ = std::make_unique<WorkerPool>(spawner_.get(), address_, options_.max_starting_workers);
  leases_ = std::make_unique<LeaseManager>(node_id_, options_.resources, pool_.get(), options_.gpu_ids);
  bundles_ = std::make_unique<Bundles>(leases_.get());
  gcs_ = MakeStub<proto::GcsService>(options_.gcs_address);
  leases_->SetViewRefresher([this](std::function<void()> done) {
    CallAsync(queue_.client(), gcs_.get(), &GcsStub::PrepareAsyncGetAllNodes, {}, 2000,
              [this, done](const absl::Status& s, proto::GetAllNodesReply& nodes) {
                if (s.ok()) leases_->SetClusterView({nodes.nodes().begin(), nodes.nodes().end()});
                done();
              });
  });
  // Requests waited in gRPC until the parts they use were made.
  service_->Serve(queue_.cq());
  log_service_->Serve(queue_.cq());
  state_service_->Serve(queue_.cq());
  health_service_->Serve(queue_.cq());
  queue_.Start("glint-raylet-rpc");
  if (options_.metrics_port >= 0) {
    auto metrics = StartMetricsServer(options_.host, options_.metrics_port, options_.auth,
                                      {node_id_, leases_.get(), pool_.get(), store_.get(), spawner_.get()});
    if (!metrics.ok()) {
      Stop();
      return absl::Status(metrics.status().code(), absl::StrCat("the metrics port: ", metrics.status().message()));
    }
    metrics_ = std::move(*metrics);
  }
  if (auto s = RegisterWithGcs(); !s.ok()) {
    Stop();
    return s;
  }
  heartbeat_.Start("glint-heartbeat", absl::Milliseconds(options_.heartbeat_ms), [this] { Heartbeat(); });
  reaper_.Start("glint-reaper", absl::Milliseconds(kReapPeriodMs), [this] { ReapExited(); });
  log_poller_.Start("glint-logs", absl::Milliseconds(LogMonitor::kPollMs), [this] { logs_->Poll(); });
  LOG(INFO) << "glint-raylet node " << ShortHex(node_id_) << " listening on " << AddrString(address_) << " with "
            << ToString(options_.resources) << "; object store " << options_.store.dir << ", "
            << options_.store.capacity / (1 << 20) << " MiB, "
            << (store_->huge_pages() ? "2 MiB pages" : "4 KiB pages (a tmpfs mounted with huge=always gives 2 MiB)");
  return absl::OkStatus();
}

absl::Status RayletServer::RegisterWithGcs() {
  proto::RegisterNodeRequest req;
  auto* node = req.mutable_node();
  node->set_node_id(node_id_);
  *node->mutable_address() = address_;
  // As they are now: a raylet registering again (with a restarted GCS)
  // brings its committed bundles' resources and what its leases hold.
  ToProto(leases_->Total(), node->mutable_total_resources());
  ToProto(leases_->Available(), node->mutable_available_resources());
  node->set_is_head(options_.is_head);
  if (metrics_) node->set_metrics_address(absl::StrCat(metrics_->host(), ":", metrics_->port()));
  req.set_node_secret(node_secret_);
  absl::Status s;
  absl::Time give_up = absl::Now() + absl::Seconds(10);  // the GCS may still be starting
  do {
    proto::RegisterNodeReply reply;
    s = BlockingCall(queue_.client(), gcs_.get(), &GcsStub::PrepareAsyncRegisterNode, req, 1000, &reply);
  } while (!s.ok() && !absl::IsInvalidArgument(s) && absl::Now() < give_up && !stopping_);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot register with the GCS at ", options_.gcs_address, ": ", s.message()));
  }
  return absl::OkStatus();
}

void RayletServer::Heartbeat() {
  proto::HeartbeatRequest req;
  req.set_node_id(node_id_);
  req.set_node_secret(node_secret_);
  ToProto(leases_->Available(), req.mutable_available_resources());
  req.set_num_workers(pool_->Size());
  *req.mutable_object_store() = store_->Info();
  req.set_view_version(view_version_);
  for (auto& d : leases_->PendingDemand(NowMs())) *req.add_pending() = std::move(d);
  proto::HeartbeatReply reply;
  auto s = BlockingCall(queue_.client(), gcs_.get(), &GcsStub::PrepareAsyncHeartbeat, std::move(req), 2000, &reply);
  // Unanswered for the GCS's timeout, the node is declared dead: say why
  // (every 10 s at most).
  if (!s.ok() && NowMs() - heartbeat_failure_logged_ms_ >= 10000) {
    heartbeat_failure_logged_ms_ = NowMs();
    LOG(WARNING) << "a heartbeat to the GCS failed: " << s;
  }
  if (s.ok() && reply.declared_dead()) {
    // Cut off for longer than the heartbeat timeout: the GCS restarted this
    // node's actors elsewhere. Its workers go first, so no actor ever runs
    // twice; then the node joins again, empty.
    LOG(WARNING) << "the GCS declared this node dead while it was cut off; stopping its " << pool_->Size()
                 << " workers before joining again";
    pool_->KillJob("");
  }
  if (s.ok() && reply.unknown_node()) {
    LOG(WARNING) << "the GCS does not know this node any more; registering again";
    LogCallFailure("registering again with the GCS", RegisterWithGcs());
  }
  // The GCS sends the nodes when its view changed since ours: queued leases
  // are reconsidered with it (some may now go to a node with room).
  if (s.ok() && reply.view_version() != 0) {
    view_version_ = reply.view_version();
    leases_->SetClusterView({reply.nodes().begin(), reply.nodes().end()});
  }
  pool_->ReapIdle(NowMs(), options_.idle_worker_timeout_ms);
  TakeBackUnusedLeases();
  store_->DropStaleWrites(NowMs(), 10 * 60000);
  puller_->GiveBackIdleMemory(NowMs());
  lender_->Expire(NowMs());
}

void RayletServer::TakeBackUnusedLeases() {
  for (auto& [lease_id, worker_id] : leases_->OldLeasesToAsk(NowMs(), options_.unused_lease_ms)) {
    auto w = pool_->Get(worker_id);
    if (!w) continue;  // gone: its lease went with it
    proto::RevokeUnusedLeaseRequest req;
    req.set_lease_id(lease_id);
    CallAsync(queue_.client(), workers_.Get(AddrString(w->address)),
              &proto::WorkerService::Stub::PrepareAsyncRevokeUnusedLease, std::move(req), 5000,
              [this, lease_id, pid = w->pid](const absl::Status& s, proto::RevokeUnusedLeaseReply& reply) {
                if (!s.ok() || !reply.revoked()) return;  // used (or the worker is gone, and its lease with it)
                LOG(WARNING) << "the lease of worker pid " << pid << " went unused for "
                             << options_.unused_lease_ms / 1000.0 << " s (its holder is gone?): taking the worker back";
                leases_->Return(lease_id, NowMs());
              });
  }
}

void RayletServer::ReapExited() {
  for (pid_t pid : pool_->Pids()) {
    auto how = spawner_->Reap(pid);
    if (!how) continue;
    auto w = pool_->OnExit(pid, *how);
    if (w) logs_->Exited(w->worker_id);
    if (!w || stopping_) continue;
    LOG(INFO) << "worker " << ShortHex(w->worker_id) << " (pid " << pid << ") exited: " << *how;
    leases_->OnWorkerGone(w->worker_id);
    ForwardFree(store_->FreeOwnedIf([&w](const ObjectMeta& m) { return m.owner_worker_id == w->worker_id; }));
    store_->UnpinAll(AddrString(w->address));
    if (w->state == WorkerInfo::kActor || w->state == WorkerInfo::kLeased) {
      proto::ReportWorkerFailureRequest req;
      req.set_node_id(node_id_);
      req.set_worker_id(w->worker_id);
      req.set_reason(absl::StrCat("the worker process (pid ", pid, ") died: ", *how));
      SendOneWay(queue_.client(), gcs_.get(), &GcsStub::PrepareAsyncReportWorkerFailure, std::move(req), 2000,
                 "reporting a worker failure to the GCS");
    }
  }
  spawner_->ReapOthers();
  if (!stopping_) pool_->ServeWaiting();  // a job's fork server may be ready now
}

void RayletServer::ForwardFree(const ObjectStore::Holders& holders) {
  for (auto& [raylet, ids] : holders) {
    proto::FreeObjectsRequest req;
    for (auto& id : ids) req.add_object_ids(id);
    req.set_forwarded(true);
    SendOneWay(queue_.client(), raylets_.Get(raylet), &proto::RayletService::Stub::PrepareAsyncFreeObjects,
               std::move(req), 5000, absl::StrCat("freeing copies on ", raylet));
  }
}

void RayletServer::WithJob(const std::string& job_id, JobFn then) {
  {
    absl::MutexLock lock(&jobs_mu_);
    auto it = jobs_.find(job_id);
    if (it != jobs_.end()) return then(it->second);
  }
  proto::GetJobRequest req;
  req.set_job_id(job_id);
  // A GCS that is restarting is waited for (as long as a driver would).
  CallAsyncWhenReady(queue_.client(), gcs_.get(), &GcsStub::PrepareAsyncGetJob, std::move(req), 60000,
            [this, job_id, then = std::move(then)](const absl::Status& s, proto::GetJobReply& reply) {
              if (!s.ok()) {
                return then(absl::Status(s.code(), absl::StrCat("cannot read job ", ShortHex(job_id),
                                                                " from the GCS: ", s.message())));
              }
              {
                absl::MutexLock lock(&jobs_mu_);
                if (reply.job().finished()) {
                  finished_jobs_.Insert(job_id);
                } else if (!finished_jobs_.contains(job_id)) {
                  jobs_[job_id] = reply.job();
                }
              }
              then(reply.job());
            });
}

void RayletServer::OnJobFinished(const std::string& job_id, const std::string& driver) {
  {
    absl::MutexLock lock(&jobs_mu_);
    finished_jobs_.Insert(job_id);
    jobs_.erase(job_id);
  }
  pool_->KillJob(job_id);
  // The driver's objects go with it (its workers' go as they exit).
  if (!driver.empty()) {
    store_->UnpinAll(driver);
    ForwardFree(store_->FreeOwnedIf(
        [&job_id, &driver](const ObjectMeta& m) { return m.job_id == job_id && m.owner == driver; }));
  }
}

bool RayletServer::JobFinished(const std::string& job_id) {
  absl::MutexLock lock(&jobs_mu_);
  return finished_jobs_.contains(job_id);
}

void RayletServer::Stop() {
  if (stopping_.exchange(true)) return;
  heartbeat_.Stop();
  reaper_.Stop();
  if (leases_) leases_->Stop();
  if (pool_) {  // kills this node's workers and waits (bounded) until they are gone
    pool_->KillJob("");
    absl::Time give_up = absl::Now() + absl::Seconds(3);
    while (pool_->Size() > 0 && absl::Now() < give_up) {
      ReapExited();
      if (pool_->Size() > 0) absl::SleepFor(absl::Milliseconds(kReapPeriodMs));
    }
  }
  log_poller_.Stop();
  if (metrics_) metrics_->Stop();
  if (queue_.cq()) queue_.client()->Close(5000);  // ends pulls, view refreshes and log batches in flight
  if (puller_) puller_->Stop();  // and copies from raylets of this host, before the arena goes
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  queue_.Stop();
  if (store_) store_->Clear();  // removes the node's object files
}

}  // namespace glint::raylet
