#include "client/src/submit/actor_submitter.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/src/errors.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/resources.h"

namespace glint::internal {
namespace {
constexpr int64_t kPollTimeoutMs = 30000;
}  // namespace

void ActorSubmitter::Track(const proto::ActorInfo& info) {
  {
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = actors_.try_emplace(info.actor_id());
    if (inserted) it->second.info = info;
  }
  OnInfo(info);
}

proto::ObjectValue ActorSubmitter::DeathError(const proto::ActorInfo& info) {
  proto::ObjectValue v;
  auto* e = v.mutable_error();
  e->set_type(proto::ACTOR_DIED);
  std::string who = info.name().empty()
                        ? absl::StrCat(info.class_name(), " ", ShortHex(info.actor_id()))
                        : absl::StrCat("'", info.name(), "'");
  std::string cause =
      info.death_error().message().empty() ? info.death_cause() : info.death_error().message();
  e->set_message(absl::StrCat("the actor ", who, " is dead: ", cause));
  if (info.death_error().type() == proto::TASK_ERROR) {
    e->set_message(absl::StrCat(e->message(), " (its constructor threw ",
                                info.death_error().exception_type(), ")"));
  }
  return v;
}

void ActorSubmitter::Submit(proto::TaskSpec spec, const RefData& handle) {
  proto::Address worker;
  std::optional<proto::ObjectValue> dead;
  std::optional<RefData> hold, release;
  bool counted = false;
  std::string return_id = ReturnObjectId(spec.task_id(), 0);
  {
    absl::MutexLock lock(&mu_);
    auto& a = actors_[spec.actor_id()];
    if (a.info.actor_id().empty()) {  // first use of a handle we were given
      a.info.set_actor_id(spec.actor_id());
      a.info.set_state(proto::PENDING_CREATION);
      a.info.set_version(0);
    }
    if (a.info.state() != proto::DEAD) {
      counted = true;
      ++a.calls;
      if (a.handle.owner.empty() && !handle.owner.empty()) hold = a.handle = handle;
    }
    // The hold is taken before the call can end (and let go of it).
    if (!hold) Place(a, counted, spec, &worker, &dead, &release);
  }
  if (hold) {
    Let(hold, true);
    absl::MutexLock lock(&mu_);
    Place(actors_[spec.actor_id()], counted, spec, &worker, &dead, &release);
  }
  if (dead) {
    if (on_done_) on_done_(spec, *dead);
    store_->Put(return_id, std::move(*dead));
    Let(release, false);
  } else if (worker.port() != 0) {
    Send(std::move(spec), worker);
  }
}

void ActorSubmitter::Place(Actor& a, bool counted, proto::TaskSpec& spec, proto::Address* worker,
                           std::optional<proto::ObjectValue>* dead, std::optional<RefData>* release) {
  if (a.info.state() == proto::DEAD) {
    *dead = DeathError(a.info);
    if (counted) *release = CallEnded(a);
    return;
  }
  if (a.info.state() == proto::ALIVE && a.waiting.empty()) {
    spec.set_sequence_number(a.next_seq++);
    *worker = a.info.address();
  } else {
    a.waiting.push_back(std::move(spec));
  }
  if (!a.polling && !stopped_) Poll(a.info.actor_id(), a.info.version());
}

void ActorSubmitter::Poll(const std::string& actor_id, int64_t version) {
  actors_[actor_id].polling = true;
  transport_->WatchActor(
      actor_id, version, kPollTimeoutMs, [this, actor_id](const absl::Status& s, proto::GetActorReply& reply) {
        {
          absl::MutexLock lock(&mu_);
          auto& a = actors_[actor_id];
          a.polling = false;
          if (!s.ok() || stopped_) return;  // Tick() polls again
          if (!reply.found()) {
            reply.mutable_actor()->set_actor_id(actor_id);
            reply.mutable_actor()->set_state(proto::DEAD);
            reply.mutable_actor()->set_death_cause("the GCS has no record of this actor");
            reply.mutable_actor()->set_version(a.info.version() + 1);
          }
        }
        OnInfo(reply.actor());
      });
}

void ActorSubmitter::OnInfo(const proto::ActorInfo& info) {
  std::deque<proto::TaskSpec> send, fail;
  proto::Address worker;
  proto::ObjectValue death;
  std::optional<RefData> release;
  {
    absl::MutexLock lock(&mu_);
    auto& a = actors_[info.actor_id()];
    if (info.version() >= a.info.version()) {
      if (info.address().worker_id() != a.info.address().worker_id())
        a.next_seq = 0;  // new incarnation
      a.info = info;
    }
    if (a.info.state() == proto::ALIVE) {
      worker = a.info.address();
      for (auto& t : a.waiting) t.set_sequence_number(a.next_seq++);
      send.swap(a.waiting);
    } else if (a.info.state() == proto::DEAD) {
      death = DeathError(a.info);
      fail.swap(a.waiting);
      if (!fail.empty()) release = CallEnded(a, fail.size());
    }
    if (a.info.state() != proto::DEAD && !a.polling && !stopped_)
      Poll(info.actor_id(), a.info.version());
  }
  for (auto& t : send) Send(std::move(t), worker);
  for (auto& t : fail) {
    if (on_done_) on_done_(t, death);
    store_->Put(ReturnObjectId(t.task_id(), 0), death);
  }
  Let(release, false);
}

std::optional<RefData> ActorSubmitter::CallEnded(Actor& a, int64_t n) {
  a.calls = std::max<int64_t>(a.calls - n, 0);
  if (a.calls > 0 || a.handle.owner.empty()) return std::nullopt;
  return std::exchange(a.handle, RefData{});
}

void ActorSubmitter::CallEnded(const std::string& actor_id) {
  std::optional<RefData> release;
  {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(actor_id);
    if (it != actors_.end()) release = CallEnded(it->second);
  }
  Let(release, false);
}

void ActorSubmitter::Let(const std::optional<RefData>& handle, bool hold) {
  if (handle && hold_) hold_(*handle, hold);
}

void ActorSubmitter::Send(proto::TaskSpec spec, const proto::Address& worker) {
  const std::string& worker_id = worker.worker_id();
  for (int tries = 0; tries < 2; ++tries) {  // a stream found ended is replaced once
    std::shared_ptr<CallSink> stream;
    {
      absl::MutexLock lock(&streams_mu_);
      auto& s = streams_[worker_id];
      if (!s || s->ended()) {
        {
          absl::MutexLock stop_lock(&mu_);
          if (stopped_) break;  // shutting down: no new streams
        }
        s = transport_->OpenStream(
            worker, /*lease_id=*/"", [this, worker_id](proto::TaskSpec& task, const absl::Status& st, proto::PushTaskReply& reply) {
              Finished(task, worker_id, st, reply);
            });
      }
      stream = s;
    }
    if (stream->Send(spec)) return;
  }
  absl::Status gone = absl::CancelledError("this process is shutting down");
  proto::PushTaskReply none;
  Finished(spec, worker_id, gone, none);
}

void ActorSubmitter::Finished(proto::TaskSpec& task, const std::string& worker_id, const absl::Status& s,
                              proto::PushTaskReply& reply) {
  std::string id = ReturnObjectId(task.task_id(), 0);
  if (s.ok()) {
    if (on_done_) on_done_(task, reply.result());
    store_->Put(id, std::move(*reply.mutable_result()));
    CallEnded(task.actor_id());
    return;
  }
  {
    absl::MutexLock lock(&streams_mu_);  // forget the ended stream
    auto it = streams_.find(worker_id);
    if (it != streams_.end() && it->second->ended()) streams_.erase(it);
  }
  bool stopped;
  {
    absl::MutexLock lock(&mu_);
    stopped = stopped_;
  }
  if (!stopped && Retry(task, worker_id)) return;
  {
    absl::MutexLock lock(&mu_);
    SuspectWorker(actors_[task.actor_id()], worker_id);
  }
  auto error = ErrorValue(proto::ACTOR_DIED, absl::StrCat("the actor's worker died while running '",
                                                          task.function_name(), "' (", s.message(), ")"));
  if (on_done_) on_done_(task, error);
  store_->Put(id, std::move(error));
  CallEnded(task.actor_id());
}

bool ActorSubmitter::Retry(proto::TaskSpec& task, const std::string& failed_worker) {
  proto::ActorInfo now;
  {
    absl::MutexLock lock(&mu_);
    auto& a = actors_[task.actor_id()];
    int budget = a.info.max_task_retries();
    if (a.info.state() == proto::DEAD || (budget >= 0 && task.attempt() >= budget)) return false;
    if (store_->Ready(ReturnObjectId(task.task_id(), 0))) return false;  // cancelled
    // At-least-once: send it again to the restarted actor, ahead of calls
    // submitted later, keeping the calls' order among themselves.
    task.set_attempt(task.attempt() + 1);
    auto pos = std::find_if(a.waiting.begin(), a.waiting.end(), [&](const proto::TaskSpec& t) {
      return t.sequence_number() > task.sequence_number() || t.attempt() == 0;
    });
    a.waiting.insert(pos, std::move(task));
    if (SuspectWorker(a, failed_worker)) return true;
    now = a.info;  // the restart is known already: send now
  }
  OnInfo(now);
  return true;
}

bool ActorSubmitter::SuspectWorker(Actor& a, const std::string& failed_worker) {
  if (a.info.state() != proto::ALIVE || a.info.address().worker_id() != failed_worker) return false;
  // Hold later calls until the GCS says what became of the actor (restarted
  // elsewhere, or dead) instead of sending them to a worker known to be gone.
  a.info.set_state(proto::RESTARTING);
  return true;
}

absl::Status ActorSubmitter::Cancel(const std::string& task_id, bool force, bool recursive) {
  const absl::Status refused = absl::FailedPreconditionError(
      "Cancel with force is for tasks; an actor call cannot be forced to stop (glint::Kill ends the actor)");
  std::vector<std::shared_ptr<CallSink>> streams;
  {
    absl::ReleasableMutexLock lock(&mu_);
    for (auto& [id, a] : actors_) {
      auto it = std::find_if(a.waiting.begin(), a.waiting.end(),
                             [&](const proto::TaskSpec& t) { return t.task_id() == task_id; });
      if (it == a.waiting.end()) continue;
      if (force) return refused;
      a.waiting.erase(it);
      auto release = CallEnded(a);
      lock.Release();
      Let(release, false);
      return absl::OkStatus();
    }
  }
  {
    absl::MutexLock lock(&streams_mu_);
    for (auto& [worker, s] : streams_) streams.push_back(s);
  }
  proto::CancelRequest cancel;
  cancel.set_task_id(task_id);
  cancel.set_recursive(recursive);
  for (auto& s : streams) {
    if (force ? s->Has(task_id) : s->Cancel(cancel)) return force ? refused : absl::OkStatus();
  }
  return absl::NotFoundError("no actor call of this process with that id is in flight");
}

void ActorSubmitter::Tick(int64_t now_ms) {
  std::vector<WaitGroup> waiting;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    for (auto& [id, a] : actors_) {
      if (!a.polling && a.info.state() != proto::DEAD) Poll(id, a.info.version());
      // Placed once (a restart waits for a node for reasons `glint status` gives).
      bool unplaced = a.info.state() == proto::PENDING_CREATION && a.info.address().worker_id().empty();
      if (!unplaced) {
        a.pending_since_ms = 0;
      } else if (a.pending_since_ms == 0) {
        a.pending_since_ms = now_ms;
      } else if (!a.warned && now_ms - a.pending_since_ms > kWaitWarningMs && on_wait_) {
        a.warned = true;
        auto& group = wait_groups_[ToString(FromProto(a.info.creation_task().resources()))];
        if (group.actors++ == 0) group.one = a.info;
        group.waited_ms = std::max(group.waited_ms, now_ms - a.pending_since_ms);
      }
    }
    for (auto& [shape, group] : wait_groups_) {
      if (group.actors == 0 || now_ms - group.told_ms < kWaitWarningMs) continue;
      waiting.push_back(std::move(group));
      group = WaitGroup();
      group.told_ms = now_ms;
    }
  }
  for (auto& g : waiting) on_wait_(g.one, g.actors, g.waited_ms);
}

void ActorSubmitter::Stop() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
}

}  // namespace glint::internal
