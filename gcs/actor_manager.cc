#include "gcs/actor_manager.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/bundle_resources.h"
#include "common/ids.h"
#include "common/limits.h"
#include "common/logging.h"
#include "common/rpc.h"

namespace glint::gcs {
namespace {

std::string NameKey(const std::string& ns, const std::string& name) {
  return absl::StrCat(ns, std::string(1, '\0'), name);
}

proto::ErrorInfo MakeError(proto::ErrorType type, const std::string& msg) {
  proto::ErrorInfo e;
  e.set_type(type);
  e.set_message(msg);
  return e;
}

constexpr int kMaxSpillbackHops = 8;
// A worker process killed or crashed before it was ready is not the actor's
// fault: its lease is asked for again, this many times in a row, before it
// counts as the actor's death (a restart, if it has any left).
constexpr int kMaxCrashedStarts = 3;
constexpr char kActors[] = "actors";
// How the death cause of an actor that waits to be scheduled begins.
constexpr char kWaitingFor[] = "waiting for ";

}  // namespace

absl::StatusOr<proto::ActorInfo> ActorManager::Create(const proto::CreateActorRequest& req) {
  const auto& task = req.creation_task();
  if (task.actor_id().size() != kIdSize) {
    return absl::InvalidArgumentError("actor creation needs a 16-byte actor id");
  }
  if (task.function_name().empty()) return absl::InvalidArgumentError("actor creation needs a factory");
  if (auto s = CheckTask(task); !s.ok()) return s;
  for (auto [what, name] : {std::pair{"the actor name", &req.name()}, {"the namespace", &req.ray_namespace()},
                            {"the class name", &req.class_name()}}) {
    if (auto s = CheckName(what, *name); !s.ok()) return s;
  }
  if (auto s = CheckBudget("max_restarts", req.max_restarts()); !s.ok()) return s;
  if (auto s = CheckBudget("max_task_retries", req.max_task_retries()); !s.ok()) return s;
  auto job = jobs_->Get(task.job_id());
  if (!job) return absl::NotFoundError(absl::StrCat("unknown job ", IdHex(task.job_id())));
  if (job->finished()) {
    // Only a detached actor, or what it made, goes on making actors then.
    if (auto s = RootGoesOn(task.job_id(), task.root_detached_actor()); !s.ok()) return s;
  }
  proto::ActorInfo a;
  a.set_actor_id(task.actor_id());
  a.set_job_id(task.job_id());
  a.set_name(req.name());
  a.set_ray_namespace(req.ray_namespace().empty() ? job->ray_namespace() : req.ray_namespace());
  a.set_class_name(req.class_name());
  a.set_lifetime(req.lifetime());
  a.set_max_restarts(req.max_restarts());
  a.set_max_task_retries(req.max_task_retries());
  a.set_state(proto::PENDING_CREATION);
  a.set_version(1);
  *a.mutable_creation_task() = task;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = actors_.find(a.actor_id()); it != actors_.end()) {
      // The same request again (a retry whose first reply was lost) gets
      // the actor it made.
      if (it->second.job_id() == a.job_id() && it->second.name() == a.name()) return it->second;
      return absl::AlreadyExistsError("an actor with this id exists");
    }
    if (!a.name().empty()) {
      auto key = NameKey(a.ray_namespace(), a.name());
      if (names_.contains(key)) {
        return absl::AlreadyExistsError(absl::StrCat("actor name '", a.name(),
                                                     "' is already taken in namespace '",
                                                     a.ray_namespace(), "'"));
      }
      names_[key] = a.actor_id();
    }
    actors_[a.actor_id()] = a;
  }
  store_->Put(kActors, a.actor_id(), a.SerializeAsString());
  LOG(INFO) << "actor " << ShortHex(a.actor_id()) << " (" << a.class_name()
            << (a.name().empty() ? "" : ", name " + a.name()) << ") registered";
  Schedule(a.actor_id());
  return a;
}

void ActorManager::Schedule(const std::string& actor_id) {
  proto::LeaseRequest req;
  std::string preferred, job_id, group;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(actor_id);
    if (it == actors_.end() || it->second.state() == proto::DEAD) return;
    const auto& task = it->second.creation_task();
    *req.mutable_resources() = task.resources();
    req.set_for_actor(true);
    req.set_actor_id(actor_id);
    req.set_detached(it->second.lifetime() == proto::DETACHED);
    req.set_root_detached_actor(task.root_detached_actor());
    preferred = task.caller().node_id();
    job_id = it->second.job_id();
    group = task.placement_group_id();
  }
  auto job = jobs_->Get(job_id);
  if (!job) {
    MarkDead(actor_id, MakeError(proto::SCHEDULING_FAILED, "the actor's job is unknown"));
    return;
  }
  *req.mutable_job() = *job;
  auto node = nodes_->PickNode(req.resources(), preferred);
  if (!node) {
    std::string shape;
    for (auto& [k, v] : req.resources()) absl::StrAppend(&shape, shape.empty() ? "" : ", ", k, ": ", v);
    if (!group.empty() && !(group_exists_ && group_exists_(group))) {
      MarkDead(actor_id, MakeError(proto::ACTOR_DIED, absl::StrCat("the placement group ", IdHex(group),
                                                                    " was removed")));
      return;
    }
    bool wait = false;
    {
      // A restart waits for a node that fits, work in a group for the group
      // (any other new actor fails fast).
      absl::MutexLock lock(&mu_);
      auto it = actors_.find(actor_id);
      if (it != actors_.end() && (it->second.state() == proto::RESTARTING || !group.empty())) {
        wait = true;
        if (unplaced_.insert(actor_id).second) {
          it->second.set_death_cause(
              group.empty() ? absl::StrCat(kWaitingFor, "a node with {", shape, "} to restart on")
                            : absl::StrCat(kWaitingFor, "its placement group ", IdHex(group), " to be placed"));
          LOG(INFO) << "actor " << ShortHex(actor_id) << " waits: " << it->second.death_cause();
        }
      }
    }
    if (!wait) {
      MarkDead(actor_id, MakeError(proto::SCHEDULING_FAILED,
                                   absl::StrCat("no alive node has the resources the actor needs {", shape, "}")));
    }
    return;
  }
  RequestLease(actor_id, node->address(), req, 0);
}

void ActorManager::PlaceWaiting() {
  std::vector<std::pair<std::string, google::protobuf::Map<std::string, double>>> waiting;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = unplaced_.begin(); it != unplaced_.end();) {
      auto a = actors_.find(*it);
      if (a == actors_.end() || a->second.state() == proto::DEAD || a->second.state() == proto::ALIVE) {
        unplaced_.erase(it++);  // killed, or its job ended, meanwhile
        continue;
      }
      waiting.emplace_back(*it, a->second.creation_task().resources());
      ++it;
    }
  }
  for (auto& [id, resources] : waiting) {
    if (!nodes_->PickNode(resources, "")) continue;
    {
      absl::MutexLock lock(&mu_);
      if (!unplaced_.erase(id)) continue;
      auto a = actors_.find(id);
      if (a != actors_.end() && absl::StartsWith(a->second.death_cause(), kWaitingFor)) a->second.clear_death_cause();
    }
    LOG(INFO) << "actor " << ShortHex(id) << ": a node that fits is there now; scheduling it";
    Schedule(id);
  }
}

void ActorManager::RetryUnanswered(int64_t now_ms) {
  std::vector<std::pair<std::string, Unanswered>> waiting;
  {
    absl::MutexLock lock(&mu_);
    if (unanswered_.empty()) return;
    waiting.assign(unanswered_.begin(), unanswered_.end());
  }
  for (auto& [id, u] : waiting) {
    auto node = nodes_->Get(u.node_id);
    bool dead = !node || !node->alive();
    if (!dead && now_ms - u.since_ms <= 2 * nodes_->heartbeat_timeout_ms()) continue;
    {
      absl::MutexLock lock(&mu_);
      unanswered_.erase(id);
      auto a = actors_.find(id);
      if (a == actors_.end() || a->second.state() == proto::DEAD) continue;  // killed, or its job ended, meanwhile
    }
    if (dead) {
      LOG(INFO) << "actor " << ShortHex(id) << ": the node whose raylet did not answer is dead; scheduling it again";
      Schedule(id);
    } else {
      HandleFailure(id, u.why, proto::ACTOR_DIED);
    }
  }
}

void ActorManager::RequestLease(const std::string& actor_id, const proto::Address& raylet,
                                const proto::LeaseRequest& req, int hops, int crashed_starts) {
  cluster_->RequestLease(raylet, req, [this, actor_id, raylet, req, hops, crashed_starts](
                                          const absl::Status& s, const proto::LeaseReply& reply) {
    if (stopped_) return;  // the GCS is stopping: its cluster calls were cancelled
    if (!reply.has_worker()) {  // (a worker leased for a dead actor is killed by OnLeased)
      auto a = GetById(actor_id);
      if (!a || a->state() == proto::DEAD) return;  // killed meanwhile (its job ended, say): nothing to place
    }
    if (absl::IsCancelled(s)) {  // its node died before the actor started there (OnNodeDead): not a restart
      LOG(INFO) << "actor " << ShortHex(actor_id) << ": the node chosen for it died before it started there; "
                << "scheduling it again";
      Schedule(actor_id);
      return;
    }
    if (!s.ok()) {
      std::string why = absl::StrCat("the raylet chosen for the actor did not answer: ", s.message());
      if (raylet.node_id().empty()) {  // not a node the GCS knows: nothing to wait for
        HandleFailure(actor_id, why, proto::ACTOR_DIED);
        return;
      }
      auto node = nodes_->Get(raylet.node_id());
      if (!node || !node->alive()) {  // gone already: it never started there
        Schedule(actor_id);
        return;
      }
      LOG(INFO) << "actor " << ShortHex(actor_id) << ": " << why << "; waiting for node " << ShortHex(node->node_id())
                << " to be declared dead or to answer";
      absl::MutexLock lock(&mu_);
      unanswered_[actor_id] = Unanswered{node->node_id(), NowMs(), std::move(why)};
      return;
    }
    if (reply.has_spillback()) {
      if (hops >= kMaxSpillbackHops) {
        MarkDead(actor_id, MakeError(proto::SCHEDULING_FAILED, "too many spill-backs"));
        return;
      }
      proto::LeaseRequest again = req;
      again.set_spillback_count(hops + 1);
      RequestLease(actor_id, reply.spillback(), again, hops + 1);
      return;
    }
    if (reply.has_error() && reply.error().type() == proto::WORKER_CRASHED) {
      if (crashed_starts + 1 < kMaxCrashedStarts) {
        LOG(INFO) << "actor " << ShortHex(actor_id) << ": " << reply.error().message() << "; asking again";
        RequestLease(actor_id, raylet, req, hops, crashed_starts + 1);
      } else {
        HandleFailure(actor_id,
                      absl::StrCat(kMaxCrashedStarts, " worker processes in a row died before they were ready; the last: ",
                                   reply.error().message()),
                      proto::ACTOR_DIED);
      }
      return;
    }
    if (reply.has_error()) {
      MarkDead(actor_id, reply.error());
      return;
    }
    OnLeased(actor_id, reply, raylet);
  });
}

void ActorManager::OnLeased(const std::string& actor_id, const proto::LeaseReply& reply,
                            const proto::Address& raylet) {
  proto::PushTaskRequest push;
  bool dead = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(actor_id);
    dead = it == actors_.end() || it->second.state() == proto::DEAD;
    if (!dead) {
      auto& a = it->second;
      *a.mutable_address() = reply.worker();
      a.set_pid(reply.worker_pid());
      by_worker_[reply.worker().worker_id()] = actor_id;
      raylet_of_[actor_id] = raylet;
      store_->Put(kActors, actor_id, a.SerializeAsString());  // a restarted GCS kills this worker
      *push.mutable_task() = a.creation_task();
      push.mutable_task()->set_attempt(a.num_restarts());
      *push.mutable_task()->mutable_gpu_ids() = reply.gpu_ids();
    }
  }
  if (dead) {  // killed while we were leasing
    cluster_->KillWorker(raylet, reply.worker().worker_id(), "actor already dead");
    return;
  }
  std::string worker_id = reply.worker().worker_id();
  cluster_->PushTask(reply.worker(), push, [this, actor_id, worker_id](
                                               const absl::Status& s, const proto::PushTaskReply& r) {
    if (stopped_) return;
    if (!s.ok()) {
      // The worker process is gone; the raylet reports it too, and the
      // failure is handled once, by whoever comes first.
      OnWorkerFailure(worker_id, absl::StrCat("the actor's worker died while running its constructor: ",
                                                 s.message()));
      return;
    }
    if (r.result().error().type() != proto::ERROR_NONE) {
      MarkDead(actor_id, r.result().error());
      return;
    }
    Notifications n;
    {
      absl::MutexLock lock(&mu_);
      auto it = actors_.find(actor_id);
      if (it == actors_.end() || it->second.state() == proto::DEAD) return;
      if (it->second.address().worker_id() != worker_id) return;  // stale
      SetState(it->second, proto::ALIVE, &n);
    }
    LOG(INFO) << "actor " << ShortHex(actor_id) << " is ALIVE";
    Notify(n);
  });
}

void ActorManager::SetState(proto::ActorInfo& a, proto::ActorState s, Notifications* out) {
  a.set_state(s);
  a.set_version(a.version() + 1);
  if (s == proto::DEAD) {
    if (!a.name().empty()) {
      auto key = NameKey(a.ray_namespace(), a.name());
      auto it = names_.find(key);
      if (it != names_.end() && it->second == a.actor_id()) names_.erase(it);
    }
    by_worker_.erase(a.address().worker_id());
    dead_.push_back(a.actor_id());
    // Never run again: its arguments (up to 8 MiB inline) are not kept.
    a.mutable_creation_task()->clear_args();
  }
  store_->Put(kActors, a.actor_id(), a.SerializeAsString());
  auto w = waiters_.find(a.actor_id());
  if (w != waiters_.end()) {
    for (auto& pw : w->second) out->emplace_back(std::move(pw.done), a);
    waiters_.erase(w);
  }
}

void ActorManager::ForgetOldDead() {
  absl::MutexLock lock(&mu_);
  while (dead_.size() > kMaxDeadActors) {
    std::string id = std::move(dead_.front());
    dead_.pop_front();
    auto it = actors_.find(id);
    if (it == actors_.end() || it->second.state() != proto::DEAD) continue;
    actors_.erase(it);
    raylet_of_.erase(id);
    store_->Delete(kActors, id);
  }
}

absl::flat_hash_set<std::string> ActorManager::JobsWithLiveActors() {
  absl::MutexLock lock(&mu_);
  absl::flat_hash_set<std::string> jobs;
  for (const auto& [id, a] : actors_) {
    if (a.state() != proto::DEAD) jobs.insert(a.job_id());
  }
  return jobs;
}

void ActorManager::Notify(Notifications& n) {
  for (auto& [done, info] : n) done(info);
}

void ActorManager::MarkDead(const std::string& actor_id, proto::ErrorInfo error) {
  Notifications n;
  proto::Address raylet;
  std::string worker_id;
  std::optional<proto::ActorInfo> dead;  // for the death listeners
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(actor_id);
    if (it == actors_.end() || it->second.state() == proto::DEAD) return;
    auto& a = it->second;
    if (error.type() == proto::ERROR_NONE) error.set_type(proto::ACTOR_DIED);
    a.set_death_cause(error.message());
    *a.mutable_death_error() = error;
    worker_id = a.address().worker_id();
    if (auto r = raylet_of_.find(actor_id); r != raylet_of_.end()) raylet = r->second;
    SetState(a, proto::DEAD, &n);
    if (!death_listeners_.empty()) dead = a;
  }
  LOG(INFO) << "actor " << ShortHex(actor_id) << " is DEAD: " << error.message();
  if (!worker_id.empty() && raylet.port() != 0) cluster_->KillWorker(raylet, worker_id, error.message());
  Notify(n);
  EndOrphansOf(actor_id);
  if (dead) {
    for (auto& l : death_listeners_) l(*dead);
  }
}

absl::Status ActorManager::RootGoesOn(const std::string& job_id, const std::string& root) {
  static constexpr char kFinished[] = "the job has finished";
  if (root.empty()) return absl::FailedPreconditionError(kFinished);
  absl::MutexLock lock(&mu_);
  auto it = actors_.find(root);
  if (it == actors_.end() || it->second.job_id() != job_id || it->second.lifetime() != proto::DETACHED) {
    return absl::FailedPreconditionError(absl::StrCat(kFinished, ", and ", ShortHex(root),
                                                      " is no detached actor of it"));
  }
  if (it->second.state() == proto::DEAD) {
    return absl::FailedPreconditionError(
        absl::StrCat(kFinished, ", and so has the detached actor ", ShortHex(root), " this work descends from"));
  }
  return absl::OkStatus();
}

void ActorManager::EndOrphansOf(const std::string& root) {
  std::string job_id;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(root);
    if (it == actors_.end() || it->second.lifetime() != proto::DETACHED) return;
    job_id = it->second.job_id();
  }
  auto job = jobs_->Get(job_id);
  if (job && !job->finished()) return;  // they end with the job, as the driver's do
  std::vector<std::string> orphans;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, a] : actors_) {
      if (a.state() != proto::DEAD && a.lifetime() == proto::NON_DETACHED &&
          a.creation_task().root_detached_actor() == root) {
        orphans.push_back(id);
      }
    }
  }
  for (auto& id : orphans) {
    MarkDead(id, MakeError(proto::ACTOR_DIED, absl::StrCat("its job has finished, and the detached actor ",
                                                            ShortHex(root), " it descends from has died")));
  }
}

void ActorManager::HandleFailure(const std::string& actor_id, const std::string& reason,
                                 proto::ErrorType type) {
  bool restart = false;
  Notifications n;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(actor_id);
    if (it == actors_.end() || it->second.state() == proto::DEAD) return;
    auto& a = it->second;
    restart = a.max_restarts() < 0 || a.num_restarts() < a.max_restarts();
    if (restart) {
      by_worker_.erase(a.address().worker_id());
      a.clear_address();
      a.set_num_restarts(a.num_restarts() + 1);
      a.set_death_cause(reason);
      SetState(a, proto::RESTARTING, &n);
    }
  }
  if (!restart) {
    MarkDead(actor_id, MakeError(type, reason));
    return;
  }
  LOG(INFO) << "actor " << ShortHex(actor_id) << " is RESTARTING: " << reason;
  Notify(n);
  Schedule(actor_id);
}

std::optional<proto::ActorInfo> ActorManager::GetById(const std::string& actor_id) {
  absl::MutexLock lock(&mu_);
  auto it = actors_.find(actor_id);
  if (it == actors_.end()) return std::nullopt;
  return it->second;
}

std::optional<proto::ActorInfo> ActorManager::GetByName(const std::string& name,
                                                        const std::string& ns) {
  absl::MutexLock lock(&mu_);
  auto it = names_.find(NameKey(ns, name));
  if (it == names_.end()) return std::nullopt;
  return actors_[it->second];
}

void ActorManager::WaitNewer(const std::string& actor_id, int64_t version, int64_t deadline_ms,
                             Waiter done) {
  std::optional<proto::ActorInfo> now;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(actor_id);
    if (it != actors_.end() && it->second.version() <= version) {
      waiters_[actor_id].push_back({version, deadline_ms, std::move(done)});
      return;
    }
    if (it != actors_.end()) now = it->second;
  }
  done(now);
}

void ActorManager::ExpireWaiters(int64_t now_ms, bool all) {
  Notifications n;
  {
    absl::MutexLock lock(&mu_);
    for (auto wit = waiters_.begin(); wit != waiters_.end();) {
      auto& list = wit->second;
      for (auto it = list.begin(); it != list.end();) {
        if (all || it->deadline_ms <= now_ms) {
          auto a = actors_.find(wit->first);  // gone if forgotten meanwhile
          n.emplace_back(std::move(it->done),
                         a == actors_.end() ? std::nullopt : std::optional<proto::ActorInfo>(a->second));
          it = list.erase(it);
        } else {
          ++it;
        }
      }
      if (list.empty()) {
        waiters_.erase(wit++);
      } else {
        ++wit;
      }
    }
  }
  Notify(n);
}

absl::Status ActorManager::Kill(const std::string& actor_id, bool no_restart,
                                const std::string& reason) {
  proto::Address raylet, worker;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(actor_id);
    if (it == actors_.end()) return absl::NotFoundError("no such actor");
    if (it->second.state() == proto::DEAD) return absl::OkStatus();
    worker = it->second.address();
    if (auto r = raylet_of_.find(actor_id); r != raylet_of_.end()) raylet = r->second;
  }
  std::string why = reason.empty() ? "the actor was killed with Kill()" : reason;
  if (no_restart || worker.worker_id().empty()) {
    MarkDead(actor_id, MakeError(proto::ACTOR_DIED, why));
  } else {
    // Kill the process; its death is reported by the raylet and restarts it.
    cluster_->KillWorker(raylet, worker.worker_id(), why);
  }
  return absl::OkStatus();
}

void ActorManager::KillInPlacementGroup(const std::string& group_hex, const std::string& reason) {
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, a] : actors_) {
      if (a.state() == proto::DEAD) continue;
      for (auto& [name, amount] : a.creation_task().resources()) {
        if (IsBundleResource(name, group_hex)) {
          ids.push_back(id);
          break;
        }
      }
    }
  }
  for (auto& id : ids) Kill(id, /*no_restart=*/true, reason).IgnoreError();
}

std::vector<proto::ActorInfo> ActorManager::List(const std::string& ns, bool include_dead) {
  absl::MutexLock lock(&mu_);
  std::vector<proto::ActorInfo> out;
  for (auto& [id, a] : actors_) {
    if (!ns.empty() && a.ray_namespace() != ns) continue;
    if (!include_dead && a.state() == proto::DEAD) continue;
    out.push_back(a);
  }
  return out;
}

void ActorManager::Recover() {
  std::vector<std::pair<std::string, proto::Address>> check;  // ALIVE: (id, worker)
  std::vector<std::pair<std::string, proto::Address>> redo;   // being created: (id, raylet of a leased worker)
  size_t total = 0;
  {
    absl::MutexLock lock(&mu_);
    for (auto& a : ReadRecords(*store_, kActors, &proto::ActorInfo::actor_id, "actor")) {
      std::string id = a.actor_id();
      if (a.state() == proto::DEAD) {
        dead_.push_back(id);
        actors_[id] = std::move(a);
        continue;
      }
      if (!a.name().empty()) names_[NameKey(a.ray_namespace(), a.name())] = id;
      proto::Address raylet;
      if (auto node = nodes_->Locate(a.address().node_id()); node && !a.address().worker_id().empty()) {
        raylet = node->address();
      }
      if (a.state() == proto::ALIVE) {
        by_worker_[a.address().worker_id()] = id;
        raylet_of_[id] = raylet;
        check.emplace_back(id, a.address());
      } else {
        redo.emplace_back(id, raylet);
      }
      actors_[id] = std::move(a);
    }
    total = actors_.size();
  }
  if (total > 0) {
    LOG(INFO) << "read back " << total << " actors (" << check.size() << " alive, " << redo.size()
              << " to schedule again) from the store";
  }
  for (auto& [id, worker] : check) {
    cluster_->Probe(worker, [this, worker_id = worker.worker_id()](bool alive) {
      if (!alive && !stopped_) OnWorkerFailure(worker_id, "the actor's worker was gone when the GCS restarted");
    });
  }
  for (auto& [id, raylet] : redo) {
    std::string worker_id;
    {
      absl::MutexLock lock(&mu_);
      auto& a = actors_[id];
      worker_id = a.address().worker_id();
      a.clear_address();
    }
    if (!worker_id.empty() && raylet.port() != 0) {
      cluster_->KillWorker(raylet, worker_id, "the GCS restarted while this actor was being created");
    }
    Schedule(id);
  }
}

void ActorManager::OnWorkerFailure(const std::string& worker_id, const std::string& reason) {
  std::string actor_id;
  {
    absl::MutexLock lock(&mu_);
    auto it = by_worker_.find(worker_id);
    if (it == by_worker_.end()) return;
    actor_id = it->second;
    by_worker_.erase(it);
  }
  HandleFailure(actor_id, reason, proto::ACTOR_DIED);
}

void ActorManager::OnNodeDead(const proto::NodeInfo& node) {
  cluster_->CancelLeases(node.address());  // actors being placed there go elsewhere
  std::vector<std::string> lost;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, a] : actors_) {
      if (a.state() != proto::DEAD && a.address().node_id() == node.node_id()) lost.push_back(id);
    }
  }
  for (auto& id : lost) HandleFailure(id, "the actor's node died: " + node.death_cause(), proto::ACTOR_DIED);
}

void ActorManager::OnJobFinished(const proto::JobInfo& job) {
  std::vector<std::string> owned;
  {
    absl::MutexLock lock(&mu_);
    // What a detached actor made lives on while that actor does.
    auto root_lives = [this](const std::string& root) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (root.empty()) return false;
      auto r = actors_.find(root);
      return r != actors_.end() && r->second.state() != proto::DEAD;
    };
    for (auto& [id, a] : actors_) {
      if (a.state() != proto::DEAD && a.job_id() == job.job_id() &&
          a.lifetime() == proto::NON_DETACHED && !root_lives(a.creation_task().root_detached_actor())) {
        owned.push_back(id);
      }
    }
  }
  for (auto& id : owned) {
    MarkDead(id, MakeError(proto::ACTOR_DIED, "the job that created the actor has finished"));
  }
}

}  // namespace glint::gcs
