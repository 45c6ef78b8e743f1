#include "raylet/raylet_server.h"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/process.h"
#include "common/rpc.h"
#include "common/status.h"
#include "proto/raylet.grpc.pb.h"

namespace glint::raylet {
namespace {

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const grpc::Status& s) {
  auto* r = ctx->DefaultReactor();
  r->Finish(s);
  return r;
}

std::string DescribeExit(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    return absl::StrCat("killed by signal ", sig, " (", strsignal(sig), ")");
  }
  if (WIFEXITED(status)) return absl::StrCat("exit code ", WEXITSTATUS(status));
  return "unknown exit";
}

}  // namespace

absl::StatusOr<ResourceSet> ParseResourceJson(const std::string& json) {
  ResourceSet out;
  absl::string_view s = absl::StripAsciiWhitespace(json);
  if (s.empty()) return out;
  if (!absl::ConsumePrefix(&s, "{") || !absl::ConsumeSuffix(&s, "}")) {
    return absl::InvalidArgumentError("--resources must be a JSON object like {\"name\": 2}");
  }
  for (absl::string_view item : absl::StrSplit(s, ',', absl::SkipWhitespace())) {
    std::vector<absl::string_view> kv = absl::StrSplit(item, absl::MaxSplits(':', 1));
    double v = 0;
    absl::string_view key = kv.size() == 2 ? absl::StripAsciiWhitespace(kv[0]) : "";
    if (kv.size() != 2 || !absl::ConsumePrefix(&key, "\"") || !absl::ConsumeSuffix(&key, "\"") ||
        key.empty() || !absl::SimpleAtod(absl::StripAsciiWhitespace(kv[1]), &v) || v < 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad resource entry '", item, "' in --resources"));
    }
    out[std::string(key)] = v;
  }
  return out;
}

class RayletServer::Spawner : public WorkerSpawner {
 public:
  explicit Spawner(RayletServer* r) : r_(r) {}
  absl::StatusOr<pid_t> Spawn(const std::string& worker_id, const proto::JobInfo& job) override {
    const auto& o = r_->options_;
    std::map<std::string, std::string> env = {
        {"GLINT_GCS_ADDRESS", o.gcs_address},
        {"GLINT_RAYLET_ADDRESS", AddrString(r_->address_)},
        {"GLINT_NODE_ID", IdHex(r_->node_id_)},
        {"GLINT_NODE_IP", o.host},
        {"GLINT_WORKER_ID", IdHex(worker_id)},
        {"GLINT_JOB_ID", IdHex(job.job_id())},
        {"GLINT_NAMESPACE", job.ray_namespace()},
        {"GLINT_CODE_PATHS", absl::StrJoin(job.code().paths(), ":")},
        {"GLINT_LOG_DIR", o.log_dir},
    };
    std::string log = o.log_dir.empty() ? "" : absl::StrCat(o.log_dir, "/worker-", ShortHex(worker_id), ".log");
    return SpawnProcess({o.worker_path}, env, log, /*new_group=*/false);
  }
  void Kill(pid_t pid) override {
    if (pid > 0) kill(pid, SIGKILL);
  }
  bool Alive(pid_t pid) override { return ProcessAlive(pid) && !IsZombie(pid); }

 private:
  RayletServer* r_;
};

class RayletServer::Service final : public proto::RayletService::CallbackService {
 public:
  explicit Service(RayletServer* r) : r_(r) {}

  grpc::ServerUnaryReactor* RequestWorkerLease(grpc::CallbackServerContext* ctx,
                                               const proto::LeaseRequest* req,
                                               proto::LeaseReply* reply) override {
    if (req->job().job_id().empty()) {
      return Done(ctx, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a lease needs a job"));
    }
    {
      absl::MutexLock lock(&r_->jobs_mu_);
      // Task leases only: a detached actor outlives its job and may restart.
      if (!req->for_actor() && r_->finished_jobs_.contains(req->job().job_id())) {
        reply->mutable_error()->set_type(proto::SCHEDULING_FAILED);
        reply->mutable_error()->set_message("the job has finished; no more workers for it");
        return Done(ctx, grpc::Status::OK);
      }
    }
    auto* reactor = ctx->DefaultReactor();
    r_->leases_->Request(*req, [reactor, reply](const proto::LeaseReply& r) {
      *reply = r;
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* ReturnWorker(grpc::CallbackServerContext* ctx,
                                         const proto::ReturnWorkerRequest* req,
                                         proto::ReturnWorkerReply*) override {
    r_->leases_->Return(req->lease_id(), NowMs(), req->disconnect());
    return Done(ctx, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* RegisterWorker(grpc::CallbackServerContext* ctx,
                                           const proto::RegisterWorkerRequest* req,
                                           proto::RegisterWorkerReply*) override {
    auto s = r_->pool_->OnRegistered(req->worker_id(), req->port(), req->pid(), req->startup_error());
    return Done(ctx, ToGrpc(s));
  }

  grpc::ServerUnaryReactor* NotifyBlocked(grpc::CallbackServerContext* ctx,
                                          const proto::NotifyBlockedRequest* req,
                                          proto::NotifyBlockedReply*) override {
    r_->leases_->SetBlocked(req->worker_id(), req->blocked());
    return Done(ctx, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* KillWorker(grpc::CallbackServerContext* ctx,
                                       const proto::KillWorkerRequest* req,
                                       proto::KillWorkerReply*) override {
    if (!r_->pool_->Kill(req->worker_id())) {
      return Done(ctx, grpc::Status(grpc::StatusCode::NOT_FOUND, "no such worker on this node"));
    }
    LOG(INFO) << "killing worker " << ShortHex(req->worker_id()) << ": " << req->reason();
    return Done(ctx, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* JobFinished(grpc::CallbackServerContext* ctx,
                                        const proto::JobFinishedRequest* req,
                                        proto::JobFinishedReply*) override {
    {
      absl::MutexLock lock(&r_->jobs_mu_);
      r_->finished_jobs_.insert(req->job_id());
    }
    r_->pool_->KillJob(req->job_id());
    return Done(ctx, grpc::Status::OK);
  }

 private:
  RayletServer* r_;
};

RayletServer::RayletServer(RayletOptions options)
    : options_(std::move(options)), node_id_(RandomId()) {}

RayletServer::~RayletServer() { Stop(); }

absl::Status RayletServer::Start() {
  service_ = std::make_unique<Service>(this);
  auto server = StartServer(options_.host, options_.port, {service_.get()}, &port_);
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  address_.set_ip(options_.host);
  address_.set_port(port_);
  address_.set_node_id(node_id_);
  spawner_ = std::make_unique<Spawner>(this);
  pool_ = std::make_unique<WorkerPool>(spawner_.get(), address_);
  leases_ = std::make_unique<LeaseManager>(node_id_, options_.resources, pool_.get());
  gcs_ = MakeStub<proto::GcsService>(options_.gcs_address);
  leases_->SetViewRefresher([this](std::function<void()> done) {
    auto* gcs = gcs_.get();
    CallAsync<proto::GetAllNodesRequest, proto::GetAllNodesReply>(
        {}, 2000,
        [gcs](auto* c, auto* rq, auto* rp, auto cb) { gcs->async()->GetAllNodes(c, rq, rp, std::move(cb)); },
        [this, done](const grpc::Status& s, proto::GetAllNodesRequest&, proto::GetAllNodesReply& nodes) {
          if (s.ok()) leases_->SetClusterView({nodes.nodes().begin(), nodes.nodes().end()});
          done();
        });
  });
  if (auto s = RegisterWithGcs(); !s.ok()) {
    server_->Shutdown();
    return s;
  }
  heartbeat_ = std::thread([this] { HeartbeatLoop(); });
  reaper_ = std::thread([this] { ReapLoop(); });
  LOG(INFO) << "glint-raylet node " << ShortHex(node_id_) << " listening on " << AddrString(address_)
            << " with " << ToString(options_.resources);
  return absl::OkStatus();
}

absl::Status RayletServer::RegisterWithGcs() {
  proto::RegisterNodeRequest req;
  auto* node = req.mutable_node();
  node->set_node_id(node_id_);
  *node->mutable_address() = address_;
  ToProto(options_.resources, node->mutable_total_resources());
  node->set_is_head(options_.is_head);
  grpc::Status s;
  for (int attempt = 0; attempt < 20; ++attempt) {  // the GCS may still be starting
    grpc::ClientContext ctx;
    SetDeadlineMs(&ctx, 1000);
    proto::RegisterNodeReply reply;
    s = gcs_->RegisterNode(&ctx, req, &reply);
    if (s.ok() || s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot register with the GCS at ", options_.gcs_address,
                                               ": ", s.error_message()));
  }
  return absl::OkStatus();
}

void RayletServer::HeartbeatLoop() {
  int64_t last_view = 0;
  while (!stopping_) {
    proto::HeartbeatRequest req;
    req.set_node_id(node_id_);
    ToProto(leases_->Available(), req.mutable_available_resources());
    req.set_num_workers(pool_->Size());
    grpc::ClientContext ctx;
    SetDeadlineMs(&ctx, 2000);
    proto::HeartbeatReply reply;
    auto s = gcs_->Heartbeat(&ctx, req, &reply);
    if (s.ok() && reply.unknown_node()) {
      LOG(WARNING) << "the GCS does not know this node any more; registering again";
      (void)RegisterWithGcs();
    }
    if (NowMs() - last_view > 1000) {
      grpc::ClientContext vctx;
      SetDeadlineMs(&vctx, 2000);
      proto::GetAllNodesReply nodes;
      if (gcs_->GetAllNodes(&vctx, {}, &nodes).ok()) {
        leases_->SetClusterView({nodes.nodes().begin(), nodes.nodes().end()});
        last_view = NowMs();
      }
    }
    pool_->ReapIdle(NowMs(), options_.idle_worker_timeout_ms);
    for (int i = 0; i < 10 && !stopping_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.heartbeat_ms / 10));
    }
  }
}

void RayletServer::ReapLoop() {
  while (!stopping_) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    std::string how = DescribeExit(status);
    auto w = pool_->OnExit(pid, how);
    if (!w) continue;
    LOG(INFO) << "worker " << ShortHex(w->worker_id) << " (pid " << pid << ") exited: " << how;
    leases_->OnWorkerGone(w->worker_id);
    if (w->state == WorkerInfo::kActor || w->state == WorkerInfo::kLeased) {
      proto::ReportWorkerFailureRequest req;
      req.set_node_id(node_id_);
      req.set_worker_id(w->worker_id);
      req.set_reason(absl::StrCat("the worker process (pid ", pid, ") died: ", how));
      grpc::ClientContext ctx;
      SetDeadlineMs(&ctx, 2000);
      proto::ReportWorkerFailureReply reply;
      (void)gcs_->ReportWorkerFailure(&ctx, req, &reply);
    }
  }
}

void RayletServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (heartbeat_.joinable()) heartbeat_.join();
  if (reaper_.joinable()) reaper_.join();
  if (pool_) {
    pool_->KillJob("");
    int64_t deadline = NowMs() + 3000;
    while (pool_->Size() > 0 && NowMs() < deadline) {
      int status = 0;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid > 0) {
        pool_->OnExit(pid, "the raylet is stopping");
      } else if (pid < 0) {
        break;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

}  // namespace glint::raylet
