#include "client/src/runtime.h"

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/src/errors_convert.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/object_file.h"
#include "common/status.h"
#include "glint/errors.h"

namespace glint::internal {
namespace {

constexpr int64_t kConnectTimeoutMs = 5000;

absl::Time Deadline(int64_t timeout_ms) {
  return timeout_ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout_ms);
}

// A driver's answer to a PushTasks stream: it runs no tasks.
constexpr const char* kDriverRunsNoTasks = "this process is a driver; it runs no tasks";

class RefusedStream final : public CqTag {
 public:
  static void Listen(TaskExecutor::AsyncService* svc, grpc::ServerCompletionQueue* cq) {
    auto* r = new RefusedStream(svc, cq);
    svc->RequestPushTasks(&r->ctx_, &r->rw_, cq, cq, r);
  }

 private:
  RefusedStream(TaskExecutor::AsyncService* svc, grpc::ServerCompletionQueue* cq) : svc_(svc), cq_(cq) {}
  void Proceed(bool ok) override {
    if (!ok || answered_) {
      delete this;
      return;
    }
    Listen(svc_, cq_);
    answered_ = true;
    rw_.Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, kDriverRunsNoTasks), this);
  }
  TaskExecutor::AsyncService* svc_;
  grpc::ServerCompletionQueue* cq_;
  grpc::ServerContext ctx_;
  grpc::ServerAsyncReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer> rw_{&ctx_};
  bool answered_ = false;
};

}  // namespace

// Serves WorkerService's methods other than a worker's PushTask (the
// executor's) from the process's queue: the objects this process owns, its
// borrowers, Exit, and, in a driver, a refusal to run tasks.
void Runtime::ServeRequests() {
  using Service = proto::WorkerService::AsyncService;
  auto* svc = service_.get();
  auto* cq = cq_.get();
  using GetCall = ServerCall<proto::GetObjectRequest, proto::GetObjectReply>;
  GetCall::Serve(svc, cq, &Service::RequestGetObject, [this](GetCall* call) {
    if (!store_.Contains(call->req.object_id())) {
      call->reply.set_unknown(true);
      return call->Finish(grpc::Status::OK);
    }
    store_.OnReady(call->req.object_id(), [call](const proto::ObjectValue& v) {
      call->reply.set_ready(true);
      *call->reply.mutable_value() = v;
      call->Finish(grpc::Status::OK);
    });
  });
  using BorrowCall = ServerCall<proto::BorrowRequest, proto::BorrowReply>;
  auto borrow = [this](bool add) {
    return [this, add](BorrowCall* call) {
      call->reply.set_unknown(!OnBorrow(call->req.object_id(), call->req.borrower(), add));
      call->Finish(grpc::Status::OK);
    };
  };
  BorrowCall::Serve(svc, cq, &Service::RequestAddBorrower, borrow(true));
  BorrowCall::Serve(svc, cq, &Service::RequestRemoveBorrower, borrow(false));
  using ExitCall = ServerCall<proto::ExitRequest, proto::ExitReply>;
  ExitCall::Serve(svc, cq, &Service::RequestExit, [this](ExitCall* call) {
    LOG(INFO) << "asked to exit: " << call->req.reason();
    RequestExit("");
    call->Finish(grpc::Status::OK);
  });
  if (options_.is_worker) return;  // the executor takes PushTask and PushTasks
  using PushCall = ServerCall<proto::PushTaskRequest, proto::PushTaskReply>;
  PushCall::Serve(svc, cq, &Service::RequestPushTask, [](PushCall* call) {
    call->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, kDriverRunsNoTasks));
  });
  RefusedStream::Listen(svc, cq);
}

Runtime::Runtime(RuntimeOptions options)
    : options_(std::move(options)), node_store_(&raylets_, options_.object_store_full_wait_ms) {
  store_.SetOwnedHooks(
      [this](const std::string&, const proto::ObjectValue& v) {
        for (auto& r : v.contained()) AddLocalRef(r.object_id(), AddrString(r.owner()), /*register_borrow=*/false);
      },
      [this](const std::string& id, const proto::ObjectValue& v) {
        if (v.has_stored()) node_store_.Free(id, v.stored());
        for (auto& r : v.contained()) RemoveLocalRef(r.object_id(), AddrString(r.owner()));
      });
  store_.SetLocalCheck([this](const proto::ObjectValue& v) { return node_store_.IsLocal(v); });
}

Runtime::~Runtime() { Shutdown(); }

absl::Status Runtime::Start() {
  worker_id_ = options_.is_worker ? options_.worker_id : RandomId();
  gcs_ = proto::GcsService::NewStub(ChannelPool::Default().Get(options_.gcs_address));
  service_ = std::make_unique<TaskExecutor::AsyncService>();
  int port = 0;
  auto server = StartServer(options_.node_ip, 0, {service_.get()}, &port, &cq_);
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  // One queue for everything: requests to us, replies to our calls.
  poller_ = std::make_unique<QueuePoller>(cq_.get());
  client_queue_ = std::make_unique<ClientQueue>(cq_.get());
  SetClientQueue(client_queue_.get());
  poller_->StartCover(absl::Milliseconds(20));
  ServeRequests();
  if (!options_.is_worker) {  // a worker's executor threads poll
    rpc_thread_ = std::thread([this] {
      poller_->MarkPollerThread();
      poller_->PollUntilShutdown();
    });
  }
  self_.set_ip(options_.node_ip);
  self_.set_port(port);
  self_.set_worker_id(worker_id_);
  self_addr_ = AddrString(self_);
  auto s = options_.is_worker ? StartWorker() : StartDriver();
  if (!s.ok()) {
    StopServing();
    return s;
  }
  actors_ = std::make_unique<ActorSubmitter>(&store_, gcs_.get(), &workers_);
  ticker_ = std::thread([this] { TickLoop(); });
  return absl::OkStatus();
}

absl::Status Runtime::StartDriver() {
  // Register the job: this is also the check that a GCS is at the address.
  proto::RegisterJobRequest req;
  *req.mutable_job() = options_.job;
  *req.mutable_job()->mutable_driver() = self_;
  req.mutable_job()->set_driver_pid(getpid());
  proto::RegisterJobReply reply;
  grpc::ClientContext ctx;
  SetDeadlineMs(&ctx, kConnectTimeoutMs);
  auto st = gcs_->RegisterJob(&ctx, req, &reply);
  if (!st.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot reach the Glint GCS at ", options_.gcs_address,
                                               ": ", st.error_message(),
                                               " (is a cluster running there? start one with "
                                               "'glint start --head')"));
  }
  job_ = req.job();
  job_.set_job_id(reply.job_id());
  job_.set_ray_namespace(reply.ray_namespace());

  {
    absl::MutexLock lock(&keepalive_mu_);
    StartKeepAlive();
  }

  // The local raylet: a node on this host, the head node first.
  proto::GetAllNodesReply nodes;
  grpc::ClientContext nctx;
  SetDeadlineMs(&nctx, kConnectTimeoutMs);
  if (auto ns = gcs_->GetAllNodes(&nctx, {}, &nodes); !ns.ok()) return FromGrpc(ns);
  const proto::NodeInfo* pick = nullptr;
  for (auto& n : nodes.nodes()) {
    if (!n.alive()) continue;
    if (!options_.raylet_address.empty()) {
      if (AddrString(n.address()) == options_.raylet_address) pick = &n;
      continue;
    }
    if (n.address().ip() != options_.node_ip) continue;
    if (!pick || (n.is_head() && !pick->is_head())) pick = &n;
  }
  if (!pick) {
    return absl::UnavailableError(absl::StrCat(
        "the cluster at ", options_.gcs_address, " has no alive node ",
        options_.raylet_address.empty() ? "on " + options_.node_ip : "at " + options_.raylet_address));
  }
  self_.set_node_id(pick->node_id());
  if (auto s = node_store_.Connect(AddrString(pick->address()), self_.node_id(), self_addr_, job_.job_id()); !s.ok()) {
    return s;
  }
  tasks_ = std::make_unique<TaskSubmitter>(&store_, job_, AddrString(pick->address()), &raylets_, &workers_);
  return absl::OkStatus();
}

absl::Status Runtime::StartWorker() {
  self_.set_node_id(options_.node_id);
  if (auto s = node_store_.Connect(options_.raylet_address, self_.node_id(), self_addr_, options_.job.job_id());
      !s.ok()) {
    return s;
  }
  proto::GetJobRequest req;
  req.set_job_id(options_.job.job_id());
  proto::GetJobReply reply;
  grpc::ClientContext ctx;
  SetDeadlineMs(&ctx, kConnectTimeoutMs);
  if (auto s = gcs_->GetJob(&ctx, req, &reply); !s.ok()) {
    return absl::UnavailableError("cannot read the job from the GCS: " + s.error_message());
  }
  job_ = reply.job();
  std::string paths;
  for (auto& p : job_.code().paths()) absl::StrAppend(&paths, paths.empty() ? "" : ":", p);
  executor_ = std::make_unique<TaskExecutor>(
      [this](const proto::TaskArg& a, Bytes* out, proto::ObjectValue* error) {
        const std::string& id = a.ref().object_id();
        proto::ObjectValue v;
        if (a.has_location()) {  // the caller owns it and said where it is
          *v.mutable_stored() = a.location();
        } else {
          v = *Get({id, AddrString(a.ref().owner())}, -1);
          DropIfUnreferenced(id);  // the task has its own copy now
        }
        if (node_store_.Materialize(id, v, out)) return true;
        *error = std::move(v);
        return false;
      },
      [this](const proto::TaskSpec& spec, proto::ObjectValue* result) {
        HandOverContained(spec, result);
        if (result->error().type() != proto::ERROR_NONE || result->data().size() < inline_threshold()) return;
        std::string data = std::move(*result->mutable_data());
        auto contained = std::move(*result->mutable_contained());
        *result = node_store_.Store(ReturnObjectId(spec.task_id(), 0), data.size(),
                              [&data](char* dst) { std::memcpy(dst, data.data(), data.size()); }, spec.caller());
        *result->mutable_contained() = std::move(contained);
      },
      absl::StrCat("node ", ShortHex(options_.node_id), ", pid ", getpid()), paths);
  executor_->SetOnActorExit([this] { RequestExit("the actor called ExitActor()"); });
  executor_->Start(service_.get(), cq_.get(), poller_.get());
  tasks_ = std::make_unique<TaskSubmitter>(&store_, job_, options_.raylet_address, &raylets_, &workers_);
  proto::RegisterWorkerRequest reg;
  reg.set_worker_id(worker_id_);
  reg.set_port(self_.port());
  reg.set_pid(getpid());
  proto::RegisterWorkerReply rr;
  grpc::ClientContext rctx;
  SetDeadlineMs(&rctx, kConnectTimeoutMs);
  if (auto s = raylets_.Get(options_.raylet_address)->RegisterWorker(&rctx, reg, &rr); !s.ok()) {
    return absl::UnavailableError("cannot register with the raylet: " + s.error_message());
  }
  return absl::OkStatus();
}

void Runtime::RequestExit(const std::string& actor_exit_reason) {
  absl::MutexLock lock(&exit_mu_);
  exit_requested_ = true;
  exit_reason_ = actor_exit_reason;
}

// Held open for the driver's life: when this process dies, the GCS sees the
// call drop (and that the driver no longer answers) and ends the job. If it
// ends while we run (a reset stream, a restarted GCS), the ticker opens it again.
void Runtime::StartKeepAlive() {
  if (stopping_) return;
  keepalive_open_ = true;
  proto::JobKeepAliveRequest req;
  req.set_job_id(job_.job_id());
  auto* gcs = gcs_.get();
  CallAsync<proto::JobKeepAliveRequest, proto::JobKeepAliveReply>(
      std::move(req), 0,
      [gcs](auto* c, const auto& rq, auto* cq) { return gcs->PrepareAsyncJobKeepAlive(c, rq, cq); },
      [this](const grpc::Status& s, auto&, auto&) {
        absl::MutexLock lock(&keepalive_mu_);
        keepalive_open_ = false;
        if (!stopping_) LOG(WARNING) << "the job keep-alive ended: " << s.error_message();
      });
}

void Runtime::ServeUntilExit() {
  pid_t parent = getppid();
  std::string actor_exit;
  {
    absl::MutexLock lock(&exit_mu_);
    while (!exit_requested_) {
      // The raylet is our parent: if it goes, so do we.
      exit_mu_.AwaitWithTimeout(absl::Condition(&exit_requested_), absl::Milliseconds(200));
      if (getppid() != parent) {
        LOG(WARNING) << "the raylet is gone; exiting";
        return;
      }
    }
    actor_exit = exit_reason_;
  }
  if (actor_exit.empty() || !executor_->hosts_actor()) return;
  // Let the reply to the exiting call go out, then have the GCS bury the
  // actor (no restart, name freed) before this process ends.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  proto::KillActorRequest req;
  req.set_actor_id(executor_->actor_id());
  req.set_no_restart(true);
  req.set_reason(actor_exit);
  proto::KillActorReply reply;
  grpc::ClientContext ctx;
  SetDeadlineMs(&ctx, 5000);
  (void)gcs_->KillActor(&ctx, req, &reply);
}

void Runtime::TickLoop() {
  int64_t last_borrower_check = NowMs();
  while (!stopping_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (tasks_) tasks_->Tick(NowMs());
    if (NowMs() - last_borrower_check >= 1000) {
      last_borrower_check = NowMs();
      CheckBorrowers();
    }
    if (actors_) actors_->Tick();
    if (!options_.is_worker) {
      absl::MutexLock lock(&keepalive_mu_);
      if (!keepalive_open_) StartKeepAlive();
    }
  }
}

void Runtime::Shutdown() {
  if (stopping_.exchange(true)) return;
  if (ticker_.joinable()) ticker_.join();
  if (tasks_) tasks_->Stop();
  if (!options_.is_worker && !job_.job_id().empty()) {
    proto::FinishJobRequest req;
    req.set_job_id(job_.job_id());
    proto::FinishJobReply reply;
    grpc::ClientContext ctx;
    SetDeadlineMs(&ctx, 2000);
    (void)gcs_->FinishJob(&ctx, req, &reply);
  }
  if (actors_) actors_->Stop();
  StopServing();
}

void Runtime::StopServing() {
  // The ticker has stopped, so nothing replaces the keep-alive any more.
  // Calls started from now on go to a queue of their own; the ones in flight
  // here (the keep-alive among them) are cancelled and ended while this
  // queue is still polled.
  SetClientQueue(nullptr);
  if (client_queue_) client_queue_->CancelAll(2000);
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  if (poller_) poller_->Shutdown();
  if (rpc_thread_.joinable()) rpc_thread_.join();
  // A worker exits right after this; its threads may be inside user code.
  if (executor_) executor_->Stop(/*detach=*/true);
  if (poller_) poller_->StopCover();
}

proto::TaskSpec Runtime::NewSpec(proto::TaskType type, const std::string& function,
                                 std::vector<WireArg>& args, std::vector<RefData>& held) {
  proto::TaskSpec spec;
  spec.set_type(type);
  spec.set_task_id(RandomId());
  spec.set_job_id(job_.job_id());
  spec.set_function_name(function);
  *spec.mutable_caller() = self_;
  for (auto& a : args) {
    held.insert(held.end(), a.nested.begin(), a.nested.end());
    auto* ta = spec.add_args();
    if (a.is_ref) {
      held.push_back({a.data, a.owner});
      auto* r = ta->mutable_ref();
      r->set_object_id(std::move(a.data));
      auto owner = ParseAddress(a.owner);
      if (owner.ok()) *r->mutable_owner() = *owner;
    } else if (type != proto::ACTOR_CREATION_TASK && a.data.size() >= inline_threshold()) {
      // A large value goes to the store once; the callee reads it there.
      RefData r = PutStored(a.data.size(), [&a](char* dst) { std::memcpy(dst, a.data.data(), a.data.size()); },
                            {}, ta->mutable_location());
      ta->mutable_ref()->set_object_id(r.id);
      *ta->mutable_ref()->mutable_owner() = self_;
      held.push_back(std::move(r));  // freed once the call is done (HoldUntilDone)
    } else {
      ta->set_value(std::move(a.data));
    }
  }
  return spec;
}

void Runtime::SetArgValue(proto::TaskArg* a, const proto::ObjectValue& v) {
  if (v.has_stored()) {
    *a->mutable_location() = v.stored();
  } else {
    a->set_value(v.data());
  }
}

void Runtime::HoldUntilDone(const std::string& return_id, const std::vector<RefData>& refs) {
  if (refs.empty()) return;
  for (auto& r : refs) AddLocalRef(r.id, r.owner);
  store_.OnReady(return_id, [this, refs](const proto::ObjectValue&) {
    for (auto& r : refs) RemoveLocalRef(r.id, r.owner);
  });
}

void Runtime::ResolveOwnedArgs(proto::TaskSpec spec, std::function<void(proto::TaskSpec)> submit) {
  std::vector<int> pending;
  for (int i = 0; i < spec.args_size(); ++i) {
    const auto& a = spec.args(i);
    if (a.has_ref() && !a.has_location() && AddrString(a.ref().owner()) == self_addr_) pending.push_back(i);
  }
  if (pending.empty()) {
    submit(std::move(spec));
    return;
  }
  // Inline each owned argument once it is ready; submit after the last one.
  struct State {
    absl::Mutex mu;
    proto::TaskSpec spec;
    size_t left;
    std::optional<proto::ObjectValue> failed;  // an argument's error: the call's result
    std::function<void(proto::TaskSpec)> submit;
  };
  auto st = std::make_shared<State>();
  st->spec = std::move(spec);
  st->left = pending.size();
  st->submit = std::move(submit);
  std::vector<std::string> ids;
  for (int i : pending) ids.push_back(st->spec.args(i).ref().object_id());
  for (size_t k = 0; k < pending.size(); ++k) {
    int i = pending[k];
    store_.OnReady(ids[k], [this, st, i](const proto::ObjectValue& v) {
      {
        absl::MutexLock lock(&st->mu);
        if (v.error().type() != proto::ERROR_NONE) {
          if (!st->failed) st->failed = v;
        } else {
          SetArgValue(st->spec.mutable_args(i), v);
        }
        if (--st->left != 0) return;
      }
      if (st->failed) {
        store_.Put(ReturnObjectId(st->spec.task_id(), 0), *st->failed);
      } else {
        st->submit(std::move(st->spec));
      }
    });
  }
}

void Runtime::InlineReadyOwnedArgs(proto::TaskSpec& spec, bool pin_unready) {
  for (auto& a : *spec.mutable_args()) {
    if (!a.has_ref() || a.has_location() || AddrString(a.ref().owner()) != self_addr_) continue;
    const std::string id = a.ref().object_id();
    auto v = store_.TryGet(id);
    bool ready = v && v->error().type() == proto::ERROR_NONE;
    if (ready) SetArgValue(&a, *v);
    // An actor's creation arguments must outlive every restart.
    if (pin_unready && (!ready || v->has_stored())) MarkEscaped(id, self_addr_);
  }
}

void Runtime::AddLocalRef(const std::string& id, const std::string& owner, bool register_borrow) {
  {
    absl::MutexLock lock(&refs_mu_);
    if (++local_refs_[id] > 1 || !register_borrow || owner.empty() || owner == self_addr_) return;
  }
  // Registered before this copy is used, so the owner cannot free the object
  // while we hold it (whoever sent it to us holds it until then).
  Borrow(id, owner, true);
}

void Runtime::RemoveLocalRef(const std::string& id, const std::string& owner) {
  bool owned = owner == self_addr_;
  {
    absl::MutexLock lock(&refs_mu_);
    auto it = local_refs_.find(id);
    if (it == local_refs_.end() || --it->second > 0) return;
    local_refs_.erase(it);
    // An owned object stays while borrowers hold it, or for good once it
    // escaped where nobody reports back (see MarkEscaped).
    if (owned && (escaped_.contains(id) || borrowers_.contains(id))) return;
  }
  if (!owned && !owner.empty()) Borrow(id, owner, false);
  store_.Release(id, owned);
}

void Runtime::Borrow(const std::string& id, const std::string& owner, bool add) {
  proto::BorrowRequest req;
  req.set_object_id(id);
  req.set_borrower(self_addr_);
  auto* stub = workers_.Get(owner);
  if (!add) {  // nothing waits for it
    CallAsync<proto::BorrowRequest, proto::BorrowReply>(
        std::move(req), 10000,
        [stub](auto* c, const auto& rq, auto* cq) { return stub->PrepareAsyncRemoveBorrower(c, rq, cq); },
        [](const grpc::Status&, proto::BorrowRequest&, proto::BorrowReply&) {});
    return;
  }
  proto::BorrowReply reply;
  grpc::ClientContext ctx;
  SetDeadlineMs(&ctx, 5000);
  // An unreachable owner is reported by Get (OwnerDiedError), not here.
  (void)stub->AddBorrower(&ctx, req, &reply);
}

void Runtime::CheckBorrowers() {
  absl::flat_hash_set<std::string> borrowers;
  {
    absl::MutexLock lock(&refs_mu_);
    for (auto& [id, holders] : borrowers_) borrowers.insert(holders.begin(), holders.end());
  }
  for (auto& b : borrowers) {
    // Any answer (even "no such object") means the process is there.
    proto::GetObjectRequest req;
    auto* stub = workers_.Get(b);
    CallAsync<proto::GetObjectRequest, proto::GetObjectReply>(
        std::move(req), 2000,
        [stub](auto* c, const auto& rq, auto* cq) { return stub->PrepareAsyncGetObject(c, rq, cq); },
        [this, b](const grpc::Status& s, proto::GetObjectRequest&, proto::GetObjectReply&) {
          std::vector<std::string> ids;
          {
            absl::MutexLock lock(&refs_mu_);
            // Gone only when it refuses connections twice in a row (a slow
            // answer is not an absence).
            if (s.error_code() != grpc::StatusCode::UNAVAILABLE || stopping_) {
              suspects_.erase(b);
              return;
            }
            if (suspects_.insert(b).second) return;
            suspects_.erase(b);
            for (auto& [id, holders] : borrowers_) {
              if (holders.contains(b)) ids.push_back(id);
            }
          }
          LOG(INFO) << "borrower " << b << " is gone (" << s.error_message() << "); dropping its references";
          for (auto& id : ids) OnBorrow(id, b, false);
        });
  }
}

bool Runtime::OnBorrow(const std::string& id, const std::string& borrower, bool add) {
  if (!store_.Contains(id)) return false;
  bool free_now = false;
  {
    absl::MutexLock lock(&refs_mu_);
    if (add) {
      borrowers_[id].insert(borrower);
      return true;
    }
    auto it = borrowers_.find(id);
    if (it == borrowers_.end()) return true;
    it->second.erase(borrower);
    if (!it->second.empty()) return true;
    borrowers_.erase(it);
    free_now = !local_refs_.contains(id) && !escaped_.contains(id);
  }
  if (free_now) store_.Release(id, true);
  return true;
}

void Runtime::MarkEscaped(const std::string& id, const std::string& owner) {
  if (owner != self_addr_) return;
  absl::MutexLock lock(&refs_mu_);
  escaped_.insert(id);
}

void Runtime::DropIfUnreferenced(const std::string& id) {
  {
    absl::MutexLock lock(&refs_mu_);
    if (local_refs_.contains(id)) return;
  }
  store_.Release(id);
}

RefData Runtime::SubmitTask(const std::string& function, std::vector<WireArg> args,
                            const TaskOptions& opts) {
  std::vector<RefData> held;
  proto::TaskSpec spec = NewSpec(proto::NORMAL_TASK, function, args, held);
  spec.set_name(opts.name);
  spec.set_max_retries(opts.max_retries);
  if (opts.resources.empty()) {
    (*spec.mutable_resources())["CPU"] = 1;
  } else {
    for (auto& [k, v] : opts.resources) (*spec.mutable_resources())[k] = v;
  }
  std::string id = ReturnObjectId(spec.task_id(), 0);
  store_.Expect(id, /*owned=*/true);
  HoldUntilDone(id, held);
  ResolveOwnedArgs(std::move(spec), [this](proto::TaskSpec s) { tasks_->Submit(std::move(s)); });
  return {id, self_addr_};
}

std::string Runtime::CreateActor(const std::string& factory, std::vector<WireArg> args,
                                 const ActorOptions& opts) {
  std::vector<RefData> held;
  proto::TaskSpec spec = NewSpec(proto::ACTOR_CREATION_TASK, factory, args, held);
  InlineReadyOwnedArgs(spec, /*pin_unready=*/true);
  // The creation call is replayed on every restart: its references live for good.
  for (auto& r : held) {
    if (r.owner == self_addr_) {
      MarkEscaped(r.id, r.owner);
    } else {
      AddLocalRef(r.id, r.owner);  // a borrow never given back
    }
  }
  spec.set_actor_id(RandomId());
  spec.set_max_concurrency(opts.max_concurrency);
  for (auto& [name, limit] : opts.concurrency_groups) {
    if (name.empty() || limit < 1) throw Error("a concurrency group needs a name and a limit of at least 1");
    (*spec.mutable_concurrency_groups())[name] = limit;
  }
  for (auto& [k, v] : opts.resources) (*spec.mutable_resources())[k] = v;
  proto::CreateActorRequest req;
  *req.mutable_creation_task() = spec;
  req.set_name(opts.name);
  req.set_ray_namespace(opts.ray_namespace);
  req.set_lifetime(opts.detached ? proto::DETACHED : proto::NON_DETACHED);
  req.set_max_restarts(opts.max_restarts);
  req.set_max_task_retries(opts.max_task_retries);
  req.set_class_name(opts.class_name);
  proto::CreateActorReply reply;
  auto* gcs = gcs_.get();
  auto s = WaitCall(
      std::move(req), 30000,
      [gcs](auto* ctx, const auto& rq, auto* cq) { return gcs->PrepareAsyncCreateActor(ctx, rq, cq); }, &reply);
  if (s.error_code() == grpc::StatusCode::ALREADY_EXISTS && opts.get_if_exists && !opts.name.empty()) {
    if (auto id = GetNamedActor(opts.name, opts.ray_namespace)) return *id;
  }
  if (!s.ok()) throw Error("cannot create the actor: " + s.error_message());
  actors_->Track(reply.actor());
  return reply.actor().actor_id();
}

RefData Runtime::SubmitActorTask(const std::string& actor_id, const std::string& method,
                                 std::vector<WireArg> args, const std::string& concurrency_group) {
  std::vector<RefData> held;
  proto::TaskSpec spec = NewSpec(proto::ACTOR_TASK, method, args, held);
  InlineReadyOwnedArgs(spec, /*pin_unready=*/false);
  spec.set_concurrency_group(concurrency_group);
  spec.set_actor_id(actor_id);
  spec.set_caller_id(worker_id_);
  std::string id = ReturnObjectId(spec.task_id(), 0);
  store_.Expect(id, /*owned=*/true);
  HoldUntilDone(id, held);
  actors_->Submit(std::move(spec));
  return {id, self_addr_};
}

RefData Runtime::Put(std::string data, std::vector<RefData> nested) {
  std::string id = RandomId();
  proto::ObjectValue v;
  v.set_data(std::move(data));
  TaskExecutor::AddContained(&v, nested);
  store_.Put(id, std::move(v), /*owned=*/true);
  return {id, self_addr_};
}

RefData Runtime::PutStored(size_t size, const std::function<void(char*)>& write, std::vector<RefData> nested,
                           proto::StoredObject* where) {
  std::string id = RandomId();
  auto v = node_store_.Store(id, size, write, self_);
  ThrowIfError(v);
  if (where) *where = v.stored();
  TaskExecutor::AddContained(&v, nested);
  store_.Put(id, std::move(v), /*owned=*/true);
  return {id, self_addr_};
}

void Runtime::HandOverContained(const proto::TaskSpec& spec, proto::ObjectValue* result) {
  if (result->contained_size() == 0) return;
  std::vector<RefData> held;
  for (auto& r : result->contained()) held.push_back({r.object_id(), AddrString(r.owner())});
  result->clear_contained();
  bool ok = result->error().type() == proto::ERROR_NONE;
  std::string caller = AddrString(spec.caller());
  absl::flat_hash_set<std::string> listed;
  for (auto& r : held) {
    if (!ok || !listed.insert(r.id).second) continue;
    if (r.owner == self_addr_) {
      OnBorrow(r.id, caller, true);  // on the caller's behalf, before it can read the result
      auto* c = result->add_contained();
      c->set_object_id(r.id);
      *c->mutable_owner() = self_;
    } else {
      AddLocalRef(r.id, r.owner, false);  // borrowed: kept for good (the caller registers itself)
    }
  }
  for (auto& r : held) RemoveLocalRef(r.id, r.owner);
}

void Runtime::Fetch(const RefData& ref) {
  if (!store_.Expect(ref.id)) return;  // known here: owned, cached or being fetched
  if (ref.owner == self_addr_) {
    store_.Put(ref.id, ErrorValue(proto::OBJECT_LOST, "this process owns no object " + IdHex(ref.id)));
    return;
  }
  proto::GetObjectRequest req;
  req.set_object_id(ref.id);
  auto* stub = workers_.Get(ref.owner);
  CallAsync<proto::GetObjectRequest, proto::GetObjectReply>(
      std::move(req), 0,
      [stub](auto* c, const auto& rq, auto* cq) { return stub->PrepareAsyncGetObject(c, rq, cq); },
      [this, ref](const grpc::Status& s, proto::GetObjectRequest&, proto::GetObjectReply& reply) {
        if (!s.ok()) {
          store_.Put(ref.id, ErrorValue(proto::OWNER_DIED,
                                        absl::StrCat("the owner of object ", ShortHex(ref.id), " at ",
                                                     ref.owner, " is unreachable: ", s.error_message())));
        } else if (reply.unknown()) {
          store_.Put(ref.id, ErrorValue(proto::OBJECT_LOST, absl::StrCat("the owner at ", ref.owner,
                                                                         " has no object ",
                                                                         ShortHex(ref.id))));
        } else {
          store_.Put(ref.id, std::move(*reply.mutable_value()));
        }
      });
}

void Runtime::NotifyBlocked(bool blocked) {
  proto::NotifyBlockedRequest req;
  req.set_worker_id(worker_id_);
  req.set_blocked(blocked);
  proto::NotifyBlockedReply reply;
  grpc::ClientContext ctx;
  SetDeadlineMs(&ctx, 2000);
  (void)raylets_.Get(options_.raylet_address)->NotifyBlocked(&ctx, req, &reply);
}

std::optional<proto::ObjectValue> Runtime::Get(const RefData& ref, int64_t timeout_ms) {
  if (auto v = store_.TryGet(ref.id)) return v;
  Fetch(ref);
  bool lend_cpu = executor_ && executor_->executing_normal_task();
  if (lend_cpu) NotifyBlocked(true);
  QueuePoller::BlockingScope blocking;  // in a task: the reply comes in on the cover thread
  auto v = store_.Get(ref.id, Deadline(timeout_ms));
  if (lend_cpu) NotifyBlocked(false);
  return v;
}

std::vector<bool> Runtime::Wait(const std::vector<RefData>& refs, int num_returns, int64_t timeout_ms,
                                bool fetch_local) {
  std::vector<std::string> ids;
  for (auto& r : refs) {
    Fetch(r);
    ids.push_back(r.id);
  }
  size_t n = std::clamp<size_t>(num_returns < 0 ? 0 : num_returns, 0, refs.size());
  absl::Time deadline = Deadline(timeout_ms);
  QueuePoller::BlockingScope blocking;
  // With fetch_local, stored values count once copied here: the store hands
  // back those to copy as they become ready, and the pulls run in parallel.
  while (true) {
    std::vector<std::pair<std::string, proto::StoredObject>> to_pull;
    auto ready = store_.Wait(ids, n, deadline, fetch_local ? &to_pull : nullptr);
    if (to_pull.empty()) return ready;
    for (auto& [id, stored] : to_pull) {
      // A failed copy counts as done: Get() reports why.
      node_store_.Pull(id, stored, [this, id = id](std::optional<proto::ObjectValue>) { store_.MarkLocal(id); });
    }
  }
}

void Runtime::OnReady(const RefData& ref, std::function<void()> fn) {
  Fetch(ref);
  // A value stored on another node is copied here first, so `fn` can map it.
  store_.OnReady(ref.id, [this, id = ref.id, fn = std::move(fn)](const proto::ObjectValue& v) {
    if (v.error().type() != proto::ERROR_NONE || node_store_.IsLocal(v)) return fn();
    node_store_.Pull(id, v.stored(), [this, id, fn](std::optional<proto::ObjectValue>) {
      store_.MarkLocal(id);
      fn();
    });
  });
}

std::optional<std::string> Runtime::GetNamedActor(const std::string& name, const std::string& ns) {
  proto::GetActorRequest req;
  req.set_name(name);
  req.set_ray_namespace(ns.empty() ? job_.ray_namespace() : ns);
  proto::GetActorReply reply;
  auto* gcs = gcs_.get();
  auto s = WaitCall(
      std::move(req), 10000,
      [gcs](auto* ctx, const auto& rq, auto* cq) { return gcs->PrepareAsyncGetActor(ctx, rq, cq); }, &reply);
  if (!s.ok()) throw Error("cannot look up actor '" + name + "': " + s.error_message());
  if (!reply.found()) return std::nullopt;
  actors_->Track(reply.actor());
  return reply.actor().actor_id();
}

void Runtime::KillActor(const std::string& actor_id, bool no_restart) {
  proto::KillActorRequest req;
  req.set_actor_id(actor_id);
  req.set_no_restart(no_restart);
  proto::KillActorReply reply;
  auto* gcs = gcs_.get();
  auto s = WaitCall(
      std::move(req), 10000,
      [gcs](auto* ctx, const auto& rq, auto* cq) { return gcs->PrepareAsyncKillActor(ctx, rq, cq); }, &reply);
  if (!s.ok()) throw Error("cannot kill the actor: " + s.error_message());
}

}  // namespace glint::internal
