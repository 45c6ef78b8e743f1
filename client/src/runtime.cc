#include "client/src/runtime.h"

#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "client/src/detached_root.h"
#include "client/src/errors.h"
#include "common/ids.h"
#include "common/limits.h"
#include "common/logging.h"
#include "common/process.h"

namespace glint::internal {
namespace {
constexpr int64_t kBorrowerCheckMs = 1000;
}  // namespace

// ---- Start and stop ---------------------------------------------------------

absl::Status Runtime::Start() {
  started_ = true;
  if (auto s = StartServing(); !s.ok()) return s;
  auto s = options_.is_worker ? ConnectWorker() : ConnectDriver();
  if (!s.ok()) return s;
  output_ = std::make_unique<WorkerOutput>(stderr);
  output_->Serve(service_.get(), cq_.get(), /*is_driver=*/!options_.is_worker);
  if (options_.is_worker) {
    if (auto e = StartExecutor(); !e.ok()) return e;
  } else {
    owner_service_->Start(/*refuse_tasks=*/true);
    gcs_->KeepJobAlive(job_.job_id());
  }
  ticker_.Start("glint-tick", kTickPeriod, [this] { Tick(); });
  return absl::OkStatus();
}

absl::Status Runtime::StartServing() {
  service_ = std::make_unique<TaskExecutor::AsyncService>();
  int port = 0;
  auto server = StartServer(options_.node_ip, 0, {service_.get()}, kWorkerLimits, &port, &cq_);
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  // One queue for everything: requests to us, replies to our calls.
  poller_ = std::make_unique<QueuePoller>(cq_.get());
  client_queue_ = std::make_unique<ClientQueue>(cq_.get());
  // An event after an idle spell brings the ticks back to their pace.
  poller_->StartCover(absl::Milliseconds(20), [this] { ticker_.SetPeriod(kTickPeriod); });
  if (!options_.is_worker) {  // a worker's executor threads poll
    rpc_thread_ = std::thread([this] {
      SetThreadName("glint-poll");
      poller_->MarkPollerThread();
      poller_->PollUntilShutdown();
    });
  }
  self_.set_ip(options_.node_ip);
  self_.set_port(port);
  self_.set_worker_id(options_.is_worker ? options_.worker_id : RandomId());
  self_addr_ = AddrString(self_);
  gcs_ = std::make_unique<GcsClient>(client_queue_.get(), options_.gcs_address, options_.gcs_reconnect_timeout_ms);
  kv_ = std::make_unique<KvClient>(gcs_.get());
  return absl::OkStatus();
}

absl::Status Runtime::ConnectDriver() {
  // Register the job: this is also the check that a GCS is at the address.
  proto::JobInfo job = options_.job;
  *job.mutable_driver() = self_;
  job.set_driver_pid(getpid());
  auto registered = gcs_->RegisterJob(job);
  if (!registered.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot reach the Glint GCS at ", options_.gcs_address, ": ",
                                               registered.status().message(),
                                               " (is a cluster running there? start one with "
                                               "'glint start --head')"));
  }
  job_ = *registered;
  // The local raylet: a node on this host, the head node first.
  auto nodes = gcs_->GetAllNodes();
  if (!nodes.ok()) return nodes.status();
  const proto::NodeInfo* pick = nullptr;
  for (auto& n : *nodes) {
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
  return BuildParts(AddrString(pick->address()));
}

absl::Status Runtime::ConnectWorker() {
  raylet_pid_ = getppid();
  self_.set_node_id(options_.node_id);
  auto job = gcs_->GetJob(options_.job.job_id());
  if (!job.ok()) return absl::UnavailableError(absl::StrCat("cannot read the job from the GCS: ", job.status().message()));
  job_ = *job;
  return BuildParts(options_.raylet_address);
}

absl::Status Runtime::BuildParts(const std::string& raylet) {
  raylet_ = raylet;
  groups_ = std::make_unique<PlacementGroups>(gcs_.get(), job_);
  node_store_ = std::make_unique<NodeStore>(client_queue_.get(), &raylets_, options_.object_store_full_wait_ms);
  if (auto s = node_store_->Connect(raylet_, self_.node_id(), self_addr_, job_.job_id()); !s.ok()) return s;
  owners_ = std::make_unique<GrpcOwnerClient>(self_addr_, client_queue_.get(), &workers_);
  actor_scopes_ = std::make_unique<ActorScopes>(
      &store_, self_addr_,
      [this](const std::string& actor_id, const std::string& reason) { gcs_->KillActorAsync(actor_id, reason); });
  refs_ = std::make_unique<ReferenceCounter>(self_, &store_, owners_.get(),
                                             [this](const std::string& id, const proto::ObjectValue& v) {
                                               if (v.has_stored()) {
                                                 node_store_->Free(id, v.stored());
                                                 lineage_->Forget(id);
                                               }
                                               actor_scopes_->Freed(v);
                                             });
  lineage_ = std::make_unique<Lineage>(&store_, refs_.get(), [this](proto::TaskSpec t) { tasks_->Submit(std::move(t)); });
  auto rebuild = [this](const std::string& id, const proto::StoredObject& lost) {
    tasks_->DropLeasesAt(lost.raylet());  // its node is gone: not there again
    return lineage_->Rebuild(id, lost);
  };
  store_.SetLocalCheck([this](const proto::ObjectValue& v) { return node_store_->IsLocal(v); });
  getter_ = std::make_unique<ObjectGetter>(self_addr_, &store_, node_store_.get(), owners_.get(), [this](bool blocked) {
    // A task waiting in Get lends its CPU back to the node meanwhile.
    if (!TaskExecutor::executing_normal_task()) return;
    proto::NotifyBlockedRequest req;
    req.set_worker_id(self_.worker_id());
    req.set_blocked(blocked);
    proto::NotifyBlockedReply reply;
    LogCallFailure("telling the raylet this task waits",
                   BlockingCall(client_queue_.get(), raylets_.Get(raylet_),
                                &proto::RayletService::Stub::PrepareAsyncNotifyBlocked, std::move(req), 2000, &reply));
  }, rebuild);
  owner_service_ = std::make_unique<OwnerService>(service_.get(), cq_.get(), &store_, refs_.get(), rebuild,
                                                  [this] { RequestExit(""); });
  resolver_ = std::make_unique<DependencyResolver>(
      self_, &store_, refs_.get(), node_store_->inline_threshold(),
      [this](size_t size, const std::function<void(char*)>& write, proto::StoredObject* where) {
        return PutStored(size, write, {}, where);
      });
  generators_ = std::make_unique<GeneratorStreams>(&store_, self_addr_);
  transport_ = std::make_unique<GrpcTransport>(
      client_queue_.get(), &raylets_, &workers_, gcs_.get(),
      [this](const std::string& task_id, proto::PushTaskReply& item, const std::shared_ptr<CallSink>& via) {
        generators_->OnItem(task_id, item, via);
      });
  tasks_ = std::make_unique<TaskSubmitter>(&store_, transport_.get(), job_, raylet_, NowMs, lineage_.get());
  actors_ = std::make_unique<ActorSubmitter>(&store_, transport_.get(), [this](const RefData& handle, bool hold) {
    hold ? refs_->AddLocalRef(handle.id, handle.owner) : refs_->RemoveLocalRef(handle.id, handle.owner);
  });
  if (job_.task_events()) {
    task_events_ = std::make_unique<TaskEvents>(client_queue_.get(), options_.gcs_address, self_.node_id(),
                                                self_.worker_id(), getpid());
    auto done = [this](const proto::TaskSpec& task, const proto::ObjectValue& result) {
      task_events_->Done(task.task_id(), &task, result, NowMs());
    };
    tasks_->SetDoneCallback(done);
    actors_->SetDoneCallback(done);
  }
  if (!options_.is_worker) {  // a driver says when its work waits long for resources
    wait_warning_ = std::make_unique<WaitWarning>(gcs_.get(), stderr);
    tasks_->SetWaitCallback([this](const google::protobuf::Map<std::string, double>& shape, int tasks,
                                   int64_t waited_ms) { wait_warning_->Warn(WaitWarning::Tasks(tasks), shape, waited_ms); });
    actors_->SetWaitCallback([this](const proto::ActorInfo& one, int actors, int64_t waited_ms) {
      wait_warning_->Warn(WaitWarning::Actors(one, actors), one.creation_task().resources(), waited_ms);
    });
  }
  return absl::OkStatus();
}

absl::Status Runtime::StartExecutor() {
  std::string paths;
  for (auto& p : job_.code().paths()) absl::StrAppend(&paths, paths.empty() ? "" : ":", p);
  executor_ = std::make_unique<TaskExecutor>(
      [this](const proto::TaskArg& a, Bytes* out, proto::ObjectValue* error) { return ResolveArg(a, out, error); },
      [this](const proto::TaskSpec& spec, const std::string& object_id, proto::ObjectValue* result) {
        SinkResult(spec, object_id, result);
      },
      [this](const proto::TaskSpec& spec, const std::string& object_id, size_t size,
             const std::function<void(char*)>& write) { return StoreResult(spec, object_id, size, write); },
      [this](const proto::TaskSpec& spec, const std::string& object_id, const proto::ObjectValue& v,
             const std::vector<RefData>& held, bool handed_over) {
        if (v.has_stored()) node_store_->Free(object_id, v.stored());
        refs_->TakeBackContained(AddrString(spec.caller()), held, handed_over);
      },
      inline_threshold(), absl::StrCat("node ", ShortHex(options_.node_id), ", pid ", getpid()), paths);
  executor_->SetOnActorExit([this] { RequestExit("the actor called ExitActor()"); });
  // The holder of this worker's lease closed its stream here, or died (then
  // nobody else gives the worker back): back to the raylet, which ends the
  // worker if calls of that holder still run (their results have no taker).
  // The holder's own return, if it comes too, finds the lease gone.
  executor_->SetOnLeaseEnded([this](const std::string& lease_id, bool busy) {
    if (busy) VLOG(1) << "the holder of this worker's lease let go of it while its calls ran: ending this worker";
    transport_->ReturnLease(raylet_, lease_id, /*disconnect=*/busy);
  });
  executor_->SetTaskEvents(task_events_.get());
  executor_->SetCancelChild([this](const RefData& child) {
    LogCallFailure("cancelling a call of a cancelled call", Cancel(child, /*force=*/false, /*recursive=*/true));
  });
  owner_service_->Start(/*refuse_tasks=*/false);
  executor_->Start(service_.get(), cq_.get(), poller_.get());
  proto::RegisterWorkerRequest reg;
  reg.set_worker_id(self_.worker_id());
  reg.set_port(self_.port());
  reg.set_pid(getpid());
  proto::RegisterWorkerReply reply;
  // A node starting many workers at once answers late: slow is not dead.
  if (auto s = BlockingCall(client_queue_.get(), raylets_.Get(raylet_),
                            &proto::RayletService::Stub::PrepareAsyncRegisterWorker, std::move(reg), 60000, &reply,
                            /*wait_for_ready=*/true);
      !s.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot register with the raylet: ", s.message()));
  }
  return absl::OkStatus();
}

void Runtime::Tick() {
  // Idle (nothing came for a while): tick seldom until something comes (an
  // event quickens the ticks at once, QueuePoller's on_rouse; this catches
  // one that came as the cover fell asleep).
  ticker_.SetPeriod(poller_->dozing() ? kIdleTickPeriod : kTickPeriod);
  tasks_->Tick(NowMs());
  if (NowMs() - last_borrower_check_ms_ >= kBorrowerCheckMs) {
    last_borrower_check_ms_ = NowMs();
    refs_->CheckBorrowers();
  }
  actors_->Tick(NowMs());
  if (task_events_) task_events_->Flush(NowMs());
  if (!options_.is_worker) gcs_->KeepJobAlive(job_.job_id());
}

void Runtime::Stop() {
  if (!started_ || stopped_.exchange(true)) return;
  // What the job's workers printed last is on its way (their raylets read
  // it every LogMonitor::kPollMs): a moment for it to come in.
  if (output_ && job_.log_to_driver() && ran_work_) output_->AwaitQuiet(absl::Milliseconds(120), absl::Seconds(2));
  ticker_.Stop();
  if (tasks_) tasks_->Stop();
  if (task_events_) task_events_->Stop(2000);  // before the job ends: what its calls became
  if (!options_.is_worker && !job_.job_id().empty()) {
    LogCallFailure("telling the GCS the job finished", gcs_->FinishJob(job_.job_id()));
  }
  if (actors_) actors_->Stop();
  if (refs_) refs_->Stop();
  if (gcs_) gcs_->Stop();
  if (node_store_) node_store_->Stop();
  // Calls in flight (the keep-alive among them) are cancelled, and their
  // ends run, while the queue is still polled; none start after this.
  if (client_queue_) client_queue_->Close(2000);
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  // The events the server's shutdown queued run before the queue shuts
  // down: one that answers or re-arms a call would find it shut, which gRPC
  // does not allow (as common/server_queue.h does for the daemons).
  if (poller_ && !poller_->Drain(absl::Seconds(2))) LOG(WARNING) << "the runtime's last events did not run in 2 s";
  if (poller_) poller_->Shutdown();
  if (rpc_thread_.joinable()) rpc_thread_.join();
  if (executor_) executor_->Stop(absl::Seconds(2));
  if (poller_) poller_->StopCover();
  if (output_) output_->Stop();  // prints what came before the server stopped
}

// ---- A worker's life --------------------------------------------------------

void Runtime::RequestExit(const std::string& actor_exit_reason) {
  absl::MutexLock lock(&exit_mu_);
  exit_requested_ = true;
  exit_reason_ = actor_exit_reason;
}

void Runtime::ExitIfRayletGone() {
  if (!options_.is_worker) return;
  // Its sockets close a moment before this process is handed to another parent.
  for (int i = 0; i < 100 && getppid() == raylet_pid_; ++i) absl::SleepFor(absl::Milliseconds(10));
  if (getppid() == raylet_pid_) return;
  LOG(WARNING) << "the raylet is gone; exiting";
  _exit(1);  // as in ServeUntilExit: what runs here fails at its callers, which retry where they may
}

bool Runtime::ServeUntilExit() {
  std::string actor_exit;
  {
    absl::MutexLock lock(&exit_mu_);
    while (!exit_requested_) {
      // The raylet is our parent: if it goes, so do we (within a second:
      // each check is a wake-up, which 1,000 idle actors multiply).
      exit_mu_.AwaitWithTimeout(absl::Condition(&exit_requested_), absl::Seconds(1));
      if (getppid() != raylet_pid_) {
        LOG(WARNING) << "the raylet is gone; exiting";
        return false;
      }
    }
    actor_exit = exit_reason_;
  }
  if (actor_exit.empty() || !executor_->hosts_actor()) return true;
  // Let the reply to the exiting call go out, then have the GCS bury the
  // actor (no restart, name freed) before this process ends.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  LogCallFailure("telling the GCS the actor exited",
                 gcs_->KillActor(executor_->actor_id(), /*no_restart=*/true, actor_exit));
  return true;
}

bool Runtime::ResolveArg(const proto::TaskArg& a, Bytes* out, proto::ObjectValue* error) {
  const std::string& id = a.ref().object_id();
  // With a location, the caller owns the value and said where it is.
  auto v = getter_->Read({id, AddrString(a.ref().owner())}, -1, out, a.has_location() ? &a.location() : nullptr);
  refs_->DropIfUnreferenced(id);  // the task has its own copy now
  if (v->error().type() == proto::ERROR_NONE) return true;
  if (v->error().type() == proto::SYSTEM_ERROR) ExitIfRayletGone();  // not the task's fault
  *error = std::move(*v);
  return false;
}

void Runtime::SinkResult(const proto::TaskSpec& spec, const std::string& object_id, proto::ObjectValue* result) {
  refs_->HandOverContained(AddrString(spec.caller()), result);
  if (result->error().type() != proto::ERROR_NONE) return;
  const std::string& data = result->data();
  auto stored = StoreResult(spec, object_id, data.size(),
                            [&data](char* dst) { std::memcpy(dst, data.data(), data.size()); });
  if (!stored) return;
  auto contained = std::move(*result->mutable_contained());
  *result = std::move(*stored);
  *result->mutable_contained() = std::move(contained);
}

std::optional<proto::ObjectValue> Runtime::StoreResult(const proto::TaskSpec& spec, const std::string& object_id,
                                                       size_t size, const std::function<void(char*)>& write) {
  if (size < inline_threshold()) return std::nullopt;
  auto v = node_store_->Store(object_id, size, write, spec.caller());
  if (v.error().type() == proto::SYSTEM_ERROR) ExitIfRayletGone();  // not the task's fault
  return v;
}

// ---- Calls ------------------------------------------------------------------

absl::StatusOr<proto::TaskSpec> Runtime::NewSpec(proto::TaskType type, const std::string& function,
                                                 std::vector<WireArg>& args, std::vector<RefData>& held) {
  proto::TaskSpec spec;
  spec.set_type(type);
  spec.set_task_id(RandomId());
  spec.set_job_id(job_.job_id());
  spec.set_function_name(function);
  *spec.mutable_caller() = self_;
  if (executor_) MarkRoot(&spec, /*detached_actor=*/false);  // a driver's work has no root
  if (auto s = resolver_->Pack(args, spec, held); !s.ok()) {
    // What Pack stored for this call goes again (a hold taken and dropped
    // frees what nothing else holds).
    for (auto& r : held) refs_->AddLocalRef(r.id, r.owner, /*register_borrow=*/false);
    for (auto& r : held) refs_->RemoveLocalRef(r.id, r.owner);
    return s;
  }
  return spec;
}

absl::StatusOr<RefData> Runtime::SubmitTask(const std::string& function, std::vector<WireArg> args,
                                            const TaskOptions& opts) {
  if (auto s = CheckResourceRequest(opts.resources); !s.ok()) return s;
  if (auto s = CheckBudget("SetMaxRetries", opts.max_retries); !s.ok()) return s;
  if (auto s = CheckName("the task's name", opts.name); !s.ok()) return s;
  std::map<std::string, double> resources = opts.resources;
  if (resources.empty()) resources["CPU"] = 1;
  proto::PlacementGroupInfo capture;
  auto group = Place(opts.placement, &resources, &capture);
  if (!group.ok()) return group.status();
  std::vector<RefData> held;
  auto spec = NewSpec(proto::NORMAL_TASK, function, args, held);
  if (!spec.ok()) return spec.status();
  if (!capture.group_id().empty()) *spec->mutable_capture_group() = std::move(capture);
  spec->set_placement_group_id(*group);
  spec->set_name(opts.name);
  spec->set_max_retries(opts.max_retries);
  spec->set_streaming(opts.streaming);
  spec->set_generator_backpressure(opts.generator_backpressure);
  for (auto& [k, v] : resources) (*spec->mutable_resources())[k] = v;
  std::string id = ReturnObjectId(spec->task_id(), 0);
  store_.Expect(id, /*owned=*/true);
  refs_->HoldUntilDone(id, held);
  if (opts.streaming) generators_->Start(spec->task_id(), opts.generator_backpressure);
  if (executor_) executor_->AddChildOfCurrentCall({id, self_addr_});  // cancelled with its caller
  if (task_events_) task_events_->Submitted(*spec, NowMs());
  resolver_->Resolve(std::move(*spec), [this](proto::TaskSpec s) { tasks_->Submit(std::move(s)); });
  ran_work_.store(true, std::memory_order_relaxed);
  return RefData{id, self_addr_};
}

absl::StatusOr<RefData> Runtime::CreateActor(const std::string& factory, std::vector<WireArg> args,
                                                 const ActorOptions& opts) {
  for (auto& [name, limit] : opts.concurrency_groups) {
    if (name.empty() || limit < 1) {
      return absl::InvalidArgumentError("a concurrency group needs a name and a limit of at least 1");
    }
  }
  if (auto s = CheckResourceRequest(opts.resources); !s.ok()) return s;
  if (auto s = CheckBudget("SetMaxRestarts", opts.max_restarts); !s.ok()) return s;
  if (auto s = CheckBudget("SetMaxTaskRetries", opts.max_task_retries); !s.ok()) return s;
  std::map<std::string, double> resources = opts.resources;
  proto::PlacementGroupInfo capture;
  auto group = Place(opts.placement, &resources, &capture);
  if (!group.ok()) return group.status();
  std::vector<RefData> held;
  auto spec = NewSpec(proto::ACTOR_CREATION_TASK, factory, args, held);
  if (!spec.ok()) return spec.status();
  if (!capture.group_id().empty()) *spec->mutable_capture_group() = std::move(capture);
  spec->set_placement_group_id(*group);
  resolver_->InlineReady(*spec, /*pin_unready=*/true);
  // The creation call is replayed on every restart: its references live for good.
  for (auto& r : held) {
    if (r.owner == self_addr_) {
      refs_->MarkEscaped(r.id, r.owner);
    } else {
      refs_->AddLocalRef(r.id, r.owner);  // a borrow never given back
    }
  }
  spec->set_actor_id(RandomId());
  if (opts.detached) MarkRoot(&*spec, /*detached_actor=*/true);
  spec->set_max_concurrency(opts.max_concurrency);
  for (auto& [name, limit] : opts.concurrency_groups) (*spec->mutable_concurrency_groups())[name] = limit;
  for (auto& [k, v] : resources) (*spec->mutable_resources())[k] = v;
  if (spec->ByteSizeLong() > kMaxControlMessageBytes / 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the actor's creation arguments take ", spec->ByteSizeLong() >> 20, " MiB; they travel through the GCS, "
        "which takes at most ", (kMaxControlMessageBytes / 2) >> 20, " MiB: pass large values as references "
        "(glint::Put)"));
  }
  proto::CreateActorRequest req;
  *req.mutable_creation_task() = std::move(*spec);
  req.set_name(opts.name);
  req.set_ray_namespace(opts.namespace_);
  req.set_lifetime(opts.detached ? proto::DETACHED : proto::NON_DETACHED);
  req.set_max_restarts(opts.max_restarts);
  req.set_max_task_retries(opts.max_task_retries);
  req.set_class_name(opts.class_name);
  auto actor = gcs_->CreateActor(std::move(req));
  if (absl::IsAlreadyExists(actor.status()) && opts.get_if_exists && !opts.name.empty()) {
    auto found = GetNamedActor(opts.name, opts.namespace_);
    if (!found.ok() || *found) return found.ok() ? absl::StatusOr<RefData>(**found) : found.status();
  }
  if (!actor.ok()) {
    return absl::Status(actor.status().code(), absl::StrCat("cannot create the actor: ", actor.status().message()));
  }
  actors_->Track(*actor);
  if (task_events_) task_events_->Submitted(actor->creation_task(), NowMs());
  ran_work_.store(true, std::memory_order_relaxed);
  if (opts.detached) return RefData{actor->actor_id(), ""};
  return actor_scopes_->Adopt(actor->actor_id());
}

absl::StatusOr<RefData> Runtime::SubmitActorTask(const RefData& actor, const std::string& method,
                                                 std::vector<WireArg> args, const ActorCallOptions& opts) {
  std::vector<RefData> held;
  auto spec = NewSpec(proto::ACTOR_TASK, method, args, held);
  if (!spec.ok()) return spec.status();
  resolver_->InlineReady(*spec, /*pin_unready=*/false);
  spec->set_concurrency_group(opts.concurrency_group);
  spec->set_actor_id(actor.id);
  spec->set_caller_id(self_.worker_id());
  spec->set_streaming(opts.streaming);
  spec->set_generator_backpressure(opts.generator_backpressure);
  std::string id = ReturnObjectId(spec->task_id(), 0);
  store_.Expect(id, /*owned=*/true);
  refs_->HoldUntilDone(id, held);
  if (opts.streaming) generators_->Start(spec->task_id(), opts.generator_backpressure);
  if (executor_) executor_->AddChildOfCurrentCall({id, self_addr_});
  if (task_events_) task_events_->Submitted(*spec, NowMs());
  actors_->Submit(std::move(*spec), actor);  // holds the actor until the call is done
  return RefData{id, self_addr_};
}

absl::StatusOr<std::optional<RefData>> Runtime::GetNamedActor(const std::string& name, const std::string& ns) {
  auto actor = gcs_->GetNamedActor(name, ns.empty() ? job_.ray_namespace() : ns);
  if (!actor.ok()) {
    return absl::Status(actor.status().code(),
                        absl::StrCat("cannot look up actor '", name, "': ", actor.status().message()));
  }
  if (!*actor) return std::nullopt;
  actors_->Track(**actor);
  return ActorScopes::HandleOf(**actor);
}

absl::Status Runtime::Cancel(const RefData& ref, bool force, bool recursive) {
  if (ref.owner != self_addr_) {
    return absl::InvalidArgumentError(absl::StrCat("only the process that made a call can cancel it; this one was made by ",
                                                   ref.owner));
  }
  if (ref.id.size() != kIdSize + 1) return absl::InvalidArgumentError("this reference is no call's result (a Put?)");
  // Finished (or freed): nothing to do.
  if (!store_.Contains(ref.id) || store_.Ready(ref.id)) return absl::OkStatus();
  const std::string task_id = ref.id.substr(0, kIdSize);
  const proto::ObjectValue cancelled =
      ErrorValue(proto::TASK_CANCELLED, absl::StrCat("the call ", ShortHex(task_id), " was cancelled (glint::Cancel)"));
  if (force) {  // refused for an actor call, before anything changes
    if (auto s = actors_->Cancel(task_id, /*force=*/true, recursive); absl::IsFailedPrecondition(s)) return s;
  }
  // The cancel is its result from now on, unless the real one came first;
  // then the call is stopped where it is (the worker's answer to the
  // cancel can only come after this).
  generators_->Cancelled(task_id);
  if (task_events_) task_events_->Done(task_id, nullptr, cancelled, NowMs());
  store_.Put(ref.id, cancelled, /*owned=*/true);
  if (actors_->Cancel(task_id, /*force=*/false, recursive).ok()) return absl::OkStatus();
  tasks_->Cancel(task_id, force, recursive);  // or it waits for its arguments: it will not be submitted
  return absl::OkStatus();
}

absl::Status Runtime::KillActor(const std::string& actor_id, bool no_restart) {
  auto s = gcs_->KillActor(actor_id, no_restart);
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat("cannot kill the actor: ", s.message()));
  return s;
}

// ---- Objects ----------------------------------------------------------------

RefData Runtime::Put(std::string data, std::vector<RefData> nested) {
  std::string id = RandomId();
  proto::ObjectValue v;
  v.set_data(std::move(data));
  ListContained(&v, nested);
  store_.Put(id, std::move(v), /*owned=*/true);
  return {id, self_addr_};
}

absl::StatusOr<RefData> Runtime::PutStored(size_t size, const std::function<void(char*)>& write,
                                           std::vector<RefData> nested, proto::StoredObject* where) {
  std::string id = RandomId();
  auto v = node_store_->Store(id, size, write, self_);
  if (auto s = ValueStatus(v); !s.ok()) return s;
  if (where) *where = v.stored();
  ListContained(&v, nested);
  store_.Put(id, std::move(v), /*owned=*/true);
  return RefData{id, self_addr_};
}

}  // namespace glint::internal
