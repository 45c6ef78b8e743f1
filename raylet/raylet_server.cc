#include "raylet/raylet_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/object_file.h"
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

// Pulls copies of objects stored on other nodes into this node's store, in
// chunks, several at once; concurrent pulls of one object share the work.
class RayletServer::Puller {
 public:
  static constexpr int64_t kChunkBytes = 4 << 20;
  static constexpr int kInFlight = 4;
  using Done = std::function<void(const grpc::Status&)>;

  explicit Puller(RayletServer* r) : r_(r) {}

  void Pull(const std::string& id, const proto::StoredObject& source, Done done) {
    if (r_->store_->IsSealed(id)) return done(grpc::Status::OK);
    std::shared_ptr<Transfer> t;
    {
      absl::MutexLock lock(&mu_);
      auto it = transfers_.find(id);
      if (it != transfers_.end()) {
        it->second->waiters.push_back(std::move(done));
        return;
      }
      auto offset = r_->store_->Create(id, source.size(), {}, /*primary=*/false);
      if (!offset.ok()) {
        if (absl::IsAlreadyExists(offset.status()) && r_->store_->IsSealed(id)) return done(grpc::Status::OK);
        return done(ToGrpc(offset.status()));
      }
      t = std::make_shared<Transfer>();
      t->id = id;
      t->source = source;
      t->waiters.push_back(std::move(done));
      transfers_[id] = t;
    }
    if (source.size() == 0) return Finish(t);
    absl::MutexLock lock(&t->mu);
    for (int i = 0; i < kInFlight && t->next < source.size(); ++i) ReadNext(t);
  }

 private:
  struct Transfer {
    std::string id;
    proto::StoredObject source;
    std::vector<Done> waiters;  // guarded by Puller::mu_
    absl::Mutex mu;
    int64_t next = 0;      // guarded by mu
    int in_flight = 0;     // guarded by mu
    grpc::Status error;    // guarded by mu once started
  };

  void ReadNext(const std::shared_ptr<Transfer>& t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(t->mu) {
    proto::ReadObjectChunkRequest req;
    req.set_object_id(t->id);
    req.set_offset(t->next);
    req.set_length(std::min(kChunkBytes, t->source.size() - t->next));
    req.set_requester(AddrString(r_->address_));
    t->next += req.length();
    ++t->in_flight;
    auto* stub = r_->raylets_.Get(t->source.raylet());
    CallAsync<proto::ReadObjectChunkRequest, proto::ReadObjectChunkReply>(
        std::move(req), 60000,
        [stub](auto* c, const auto& rq, auto* cq) { return stub->PrepareAsyncReadObjectChunk(c, rq, cq); },
        [this, t](const grpc::Status& s, proto::ReadObjectChunkRequest& rq, proto::ReadObjectChunkReply& rp) {
          bool last = false;
          {
            absl::MutexLock lock(&t->mu);
            --t->in_flight;
            if (t->error.ok()) {
              if (!s.ok()) {
                t->error = s;
              } else if (static_cast<int64_t>(rp.data().size()) != rq.length() ||
                         rp.total_size() != t->source.size()) {
                t->error = grpc::Status(grpc::StatusCode::DATA_LOSS, "a chunk came back with the wrong size");
              } else if (auto w = r_->store_->Write(t->id, rq.offset(), rp.data()); !w.ok()) {
                t->error = ToGrpc(w);
              }
            }
            if (t->error.ok() && t->next < t->source.size()) {
              ReadNext(t);
            } else {
              last = t->in_flight == 0;
            }
          }
          if (last) Finish(t);
        });
  }

  void Finish(const std::shared_ptr<Transfer>& t) {
    grpc::Status result;
    {
      absl::MutexLock lock(&t->mu);
      result = t->error;
    }
    if (result.ok()) {
      result = ToGrpc(r_->store_->Seal(t->id));
    } else {
      r_->store_->Abort(t->id);
      LOG(WARNING) << "pulling object " << ShortHex(t->id) << " from " << t->source.raylet()
                   << " failed: " << result.error_message();
    }
    std::vector<Done> waiters;
    {
      absl::MutexLock lock(&mu_);
      waiters.swap(t->waiters);
      transfers_.erase(t->id);
    }
    for (auto& w : waiters) w(result);
  }

  RayletServer* r_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Transfer>> transfers_ ABSL_GUARDED_BY(mu_);
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
    // The driver's objects go with it (its workers' go as they exit).
    if (!req->driver().empty()) {
      r_->store_->UnpinAll(req->driver());
      r_->ForwardFree(r_->store_->FreeOwnedIf([req](const ObjectMeta& m) {
        return m.job_id == req->job_id() && m.owner == req->driver();
      }));
    }
    return Done(ctx, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* CreateObject(grpc::CallbackServerContext* ctx,
                                         const proto::CreateObjectRequest* req,
                                         proto::CreateObjectReply* reply) override {
    if (req->object_id().empty()) {
      return Done(ctx, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "an object needs an id"));
    }
    auto offset = r_->store_->Create(req->object_id(), req->size(),
                                     {req->owner(), req->owner_worker_id(), req->job_id()}, /*primary=*/true);
    if (!offset.ok()) return Done(ctx, ToGrpc(offset.status()));
    reply->set_path(r_->store_->arena_path());
    reply->set_offset(*offset);
    return Done(ctx, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* SealObject(grpc::CallbackServerContext* ctx, const proto::SealObjectRequest* req,
                                       proto::SealObjectReply*) override {
    return Done(ctx, ToGrpc(r_->store_->Seal(req->object_id())));
  }

  grpc::ServerUnaryReactor* FreeObjects(grpc::CallbackServerContext* ctx, const proto::FreeObjectsRequest* req,
                                        proto::FreeObjectsReply*) override {
    auto holders = r_->store_->Free({req->object_ids().begin(), req->object_ids().end()});
    if (!req->forwarded()) r_->ForwardFree(holders);
    return Done(ctx, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* PullObject(grpc::CallbackServerContext* ctx, const proto::PullObjectRequest* req,
                                       proto::PullObjectReply*) override {
    auto* reactor = ctx->DefaultReactor();
    if (req->object_id().empty() || req->source().raylet().empty() || req->source().size() < 0) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a pull needs an object id and its source"));
      return reactor;
    }
    r_->puller_->Pull(req->object_id(), req->source(), [reactor](const grpc::Status& s) { reactor->Finish(s); });
    return reactor;
  }

  grpc::ServerUnaryReactor* ReadObjectChunk(grpc::CallbackServerContext* ctx,
                                            const proto::ReadObjectChunkRequest* req,
                                            proto::ReadObjectChunkReply* reply) override {
    int64_t total = 0;
    auto s = r_->store_->Read(req->object_id(), req->offset(), req->length(), req->requester(),
                              reply->mutable_data(), &total);
    if (absl::IsNotFound(s)) {
      return Done(ctx, grpc::Status(grpc::StatusCode::NOT_FOUND,
                                    absl::StrCat("node ", ShortHex(r_->node_id_), " has no object ",
                                                 ShortHex(req->object_id()), " (freed or lost)")));
    }
    reply->set_total_size(total);
    return Done(ctx, ToGrpc(s));
  }

  grpc::ServerUnaryReactor* PinObject(grpc::CallbackServerContext* ctx, const proto::PinObjectRequest* req,
                                      proto::PinObjectReply* reply) override {
    ObjectLocation where;
    if (r_->store_->Pin(req->object_id(), req->client(), &where)) {
      reply->set_found(true);
      reply->set_offset(where.offset);
      reply->set_size(where.size);
      reply->set_spill_path(where.spill_path);
    }
    return Done(ctx, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* UnpinObject(grpc::CallbackServerContext* ctx, const proto::PinObjectRequest* req,
                                        proto::UnpinObjectReply*) override {
    r_->store_->Unpin(req->object_id(), req->client());
    return Done(ctx, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* GetStoreInfo(grpc::CallbackServerContext* ctx, const proto::GetStoreInfoRequest*,
                                         proto::GetStoreInfoReply* reply) override {
    *reply->mutable_info() = r_->store_->Info();
    reply->set_node_id(r_->node_id_);
    return Done(ctx, grpc::Status::OK);
  }

 private:
  RayletServer* r_;
};

RayletServer::RayletServer(RayletOptions options)
    : options_(std::move(options)), node_id_(RandomId()) {}

RayletServer::~RayletServer() { Stop(); }

absl::Status RayletServer::Start() {
  store_ = std::make_unique<ObjectStore>(options_.store);
  if (auto s = store_->Init(); !s.ok()) return s;
  puller_ = std::make_unique<Puller>(this);
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
        [gcs](auto* c, const auto& rq, auto* cq) { return gcs->PrepareAsyncGetAllNodes(c, rq, cq); },
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
    *req.mutable_object_store() = store_->Info();
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
    store_->DropStaleWrites(NowMs(), 10 * 60000);
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
    ForwardFree(store_->FreeOwnedIf([&w](const ObjectMeta& m) { return m.owner_worker_id == w->worker_id; }));
    store_->UnpinAll(AddrString(w->address));
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

void RayletServer::ForwardFree(const ObjectStore::Holders& holders) {
  for (auto& [raylet, ids] : holders) {
    proto::FreeObjectsRequest req;
    for (auto& id : ids) req.add_object_ids(id);
    req.set_forwarded(true);
    auto* stub = raylets_.Get(raylet);
    CallAsync<proto::FreeObjectsRequest, proto::FreeObjectsReply>(
        std::move(req), 5000,
        [stub](auto* c, const auto& rq, auto* cq) { return stub->PrepareAsyncFreeObjects(c, rq, cq); },
        [](const grpc::Status&, proto::FreeObjectsRequest&, proto::FreeObjectsReply&) {});
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
  if (store_) store_->Clear();  // removes the node's object files
}

}  // namespace glint::raylet
