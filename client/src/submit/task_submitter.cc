#include "client/src/submit/task_submitter.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/src/errors.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/rpc.h"

namespace glint::internal {
namespace {
constexpr int kMaxLeaseRequests = 8;
constexpr int kMaxSpillbackHops = 8;
constexpr int64_t kGroupWatchMs = 30000;  // one wait for a placement group to be placed
constexpr int kMaxGroupChecks = 3;        // refusals of a placed group's work before it fails
// A spilled-back node that does not answer: the local raylet is asked again
// after kUnreachableRetryMs, until its view of the nodes no longer offers it
// (a dead node leaves the view within the heartbeat timeout, 4 s).
constexpr int64_t kUnreachableRetryMs = 250;
constexpr int kMaxUnreachable = 40;
// A worker process killed or crashed before it was ready: the raylet is asked
// again, up to this many times in a row for a shape, before its queued tasks
// fail with the raylet's word.
constexpr int kMaxCrashedStarts = 3;

// A task that could not run: its result's error. A task run again to make a
// lost object again reports the object lost, saying why it was not made.
proto::ObjectValue Failure(const proto::TaskSpec& task, proto::ObjectValue error) {
  if (task.rebuilds_lost_on().empty()) return error;
  return ErrorValue(proto::OBJECT_LOST,
                    absl::StrCat("object ", ShortHex(ReturnObjectId(task.task_id(), 0)), " was lost with node ",
                                 ShortHex(task.rebuilds_lost_on()), ", and running its task '", task.function_name(),
                                 "' again to make it failed: ", error.error().message()));
}
}  // namespace

std::string ShapeKey(const google::protobuf::Map<std::string, double>& resources) {
  std::map<std::string, double> sorted(resources.begin(), resources.end());
  std::string key;
  for (auto& [k, v] : sorted) absl::StrAppend(&key, k, "=", v, ";");
  return key;
}

std::string ShapeKey(const proto::TaskSpec& spec) {
  std::string key = ShapeKey(spec.resources());
  if (!spec.root_detached_actor().empty()) absl::StrAppend(&key, "root=", IdHex(spec.root_detached_actor()));
  return key;
}

void TaskSubmitter::Submit(proto::TaskSpec spec) {
  std::string key = ShapeKey(spec);
  {
    absl::MutexLock lock(&mu_);
    if (CancelledLocked(spec)) return;
    auto& shape = shapes_[key];
    if (shape.resources.empty()) {
      shape.resources = spec.resources();
      shape.root_detached_actor = spec.root_detached_actor();
    }
    shape.tasks.push_back(std::move(spec));
  }
  Pump(key);
}

bool TaskSubmitter::CancelledLocked(const proto::TaskSpec& spec) {
  return store_->Ready(ReturnObjectId(spec.task_id(), 0));
}

size_t TaskSubmitter::Lease::Waiting() const {
  if (in_flight.size() < 2) return 0;
  return std::count_if(in_flight.begin() + 1, in_flight.end(), [this](const std::string& id) {
    return std::find(asked_back.begin(), asked_back.end(), id) == asked_back.end();
  });
}

std::optional<std::string> TaskSubmitter::Lease::LastWaiting() const {
  for (size_t i = in_flight.size(); i-- > 1;) {
    if (std::find(asked_back.begin(), asked_back.end(), in_flight[i]) == asked_back.end()) return in_flight[i];
  }
  return std::nullopt;
}

void TaskSubmitter::Pump(const std::string& key) {
  std::vector<std::pair<std::shared_ptr<Lease>, proto::TaskSpec>> pushes;
  std::vector<std::pair<std::shared_ptr<Lease>, std::string>> back;
  int send_now = 0;
  bool send_soon = false;
  proto::LeaseRequest req;
  {
    absl::MutexLock lock(&mu_);
    auto& shape = shapes_[key];
    int64_t now = clock_();
    // Breadth first: a task for every idle lease, then a second for each, ...
    for (size_t depth = 1; depth <= kMaxTasksInFlight && !shape.tasks.empty(); ++depth) {
      for (auto& lease : shape.leases) {
        if (shape.tasks.empty()) break;
        if (lease->in_flight.size() >= depth) continue;
        if (lease->busy()) {  // it would wait behind another
          const auto& next = shape.tasks.front();
          bool last_chance = next.max_retries() >= 0 && next.attempt() >= next.max_retries();
          if (lease->stuck || last_chance) continue;
        } else {
          lease->head_since_ms = now;
        }
        lease->in_flight.push_back(shape.tasks.front().task_id());
        pushes.emplace_back(lease, std::move(shape.tasks.front()));
        shape.tasks.pop_front();
      }
    }
    // Tasks waiting on a worker behind another still want one of their own.
    size_t ahead = 0;
    for (auto& lease : shape.leases) ahead += lease->in_flight.size() > 1 ? lease->in_flight.size() - 1 : 0;
    int want = shape.watching_group ? 0 : static_cast<int>(std::min<size_t>(shape.tasks.size() + ahead, kMaxLeaseRequests));
    if (shape.requesting < want) {
      // The first request goes at once; more asked meanwhile (tasks
      // submitted in a loop) wait for the rest of the loop, and go together.
      if (shape.requesting == 0) {
        send_now = want;
        req = RequestFor(shape, 0);
      } else {
        shape.unsent += want - shape.requesting;
        send_soon = NeedsSending(shape);
      }
      shape.requesting = want;
    }
    RebalanceLocked(shape, &back);
  }
  for (auto& [lease, spec] : pushes) Push(key, lease, std::move(spec));
  for (auto& [lease, id] : back) AskBack(lease, id);
  if (send_now > 0) RequestLeases(key, req, raylet_, 0, send_now);
  if (send_soon) SendSoon(key);
}

proto::LeaseRequest TaskSubmitter::RequestFor(const Shape& shape, int hops) const {
  proto::LeaseRequest req;
  *req.mutable_job() = job_;
  *req.mutable_resources() = shape.resources;
  req.set_root_detached_actor(shape.root_detached_actor);
  req.set_spillback_count(hops);
  return req;
}

bool TaskSubmitter::NeedsSending(Shape& shape) { return !std::exchange(shape.sending_soon, true); }

void TaskSubmitter::SendSoon(const std::string& key) {
  transport_->RunSoon([this, key] { SendLeaseRequests(key); });
}

void TaskSubmitter::SendLeaseRequests(const std::string& key) {
  std::vector<std::tuple<std::string, int, int, proto::LeaseRequest>> calls;  // raylet, hops, count, request
  {
    absl::MutexLock lock(&mu_);
    auto& shape = shapes_[key];
    shape.sending_soon = false;
    int unsent = std::exchange(shape.unsent, 0);
    auto spilled = std::exchange(shape.spilled, {});
    if (stopped_) {  // nothing is leased after Stop()
      shape.requesting -= unsent;
      for (auto& [where, count] : spilled) shape.requesting -= count;
      return;
    }
    if (unsent > 0) calls.emplace_back(raylet_, 0, unsent, RequestFor(shape, 0));
    for (auto& [where, count] : spilled) calls.emplace_back(where.first, where.second, count, RequestFor(shape, where.second));
  }
  for (auto& [raylet, hops, count, req] : calls) RequestLeases(key, req, raylet, hops, count);
}

void TaskSubmitter::RebalanceLocked(Shape& shape, std::vector<std::pair<std::shared_ptr<Lease>, std::string>>* out) {
  if (!shape.tasks.empty()) return;  // an idle lease gets queued work first
  for (auto& idle : shape.leases) {
    if (idle->busy()) continue;
    // From the lease with the most waiting behind its first task.
    std::shared_ptr<Lease> from;
    size_t most = 0;
    for (auto& l : shape.leases) {
      size_t waiting = l->Waiting();
      if (waiting > most) {
        most = waiting;
        from = l;
      }
    }
    if (!from) return;
    auto id = from->LastWaiting();
    if (!id) return;
    from->asked_back.push_back(*id);
    out->emplace_back(from, *id);
  }
}

void TaskSubmitter::AskBack(const std::shared_ptr<Lease>& lease, const std::string& task_id) {
  proto::CancelRequest back;
  back.set_task_id(task_id);
  back.set_give_back(true);
  lease->stream->Cancel(back);  // false once the stream ended: its tasks come back as failed anyway
}

void TaskSubmitter::RequestLeases(const std::string& key, const proto::LeaseRequest& req, const std::string& raylet,
                                  int hops, int count) {
  transport_->RequestLeases(raylet, req, count,
                            [this, key, raylet, req, hops](const absl::Status& s, proto::LeaseReply& reply) {
                              OnLeaseReply(key, raylet, s, reply, req, hops);
                            });
}

void TaskSubmitter::OnLeaseReply(const std::string& key, const std::string& raylet,
                                 const absl::Status& s, const proto::LeaseReply& reply,
                                 const proto::LeaseRequest& req, int hops) {
  if (s.ok() && reply.has_spillback() && hops < kMaxSpillbackHops) {
    // Asked there with the others of the shape spilled there at once.
    bool send_soon;
    {
      absl::MutexLock lock(&mu_);
      auto& shape = shapes_[key];
      ++shape.spilled[{AddrString(reply.spillback()), hops + 1}];
      send_soon = NeedsSending(shape);
    }
    if (send_soon) SendSoon(key);
    return;
  }
  if (!s.ok() && raylet != raylet_) {
    absl::MutexLock lock(&mu_);
    auto& shape = shapes_[key];
    if (shape.unreachable++ < kMaxUnreachable) {  // stays counted as requesting
      VLOG(1) << "the raylet at " << raylet << " does not answer (" << s << "): asking the local one again";
      shape.retries.emplace_back(clock_() + kUnreachableRetryMs, req);
      return;
    }
  }
  if (s.ok() && reply.has_error() && reply.error().type() == proto::WORKER_CRASHED) {
    bool again;
    {
      absl::MutexLock lock(&mu_);
      again = ++shapes_[key].crashed_starts < kMaxCrashedStarts;  // stays counted as requesting
    }
    if (again) {
      LOG(INFO) << reply.error().message() << " (raylet " << raylet << "): asking again";
      RequestLeases(key, req, raylet, hops);
      return;
    }
  }
  if (!s.ok() || !reply.has_worker()) {
    proto::ObjectValue err;
    if (!s.ok()) {
      err = ErrorValue(proto::SYSTEM_ERROR,
                       absl::StrCat("cannot lease a worker from the raylet at ", raylet, ": ", s.message()));
    } else if (reply.has_error()) {
      *err.mutable_error() = reply.error();
    } else {
      err = ErrorValue(proto::SCHEDULING_FAILED, "too many spill-backs between nodes");
    }
    {
      absl::MutexLock lock(&mu_);
      --shapes_[key].requesting;
    }
    if (err.error().type() == proto::SCHEDULING_FAILED && WaitForGroup(key)) return;
    FailQueued(key, err);
    return;
  }
  auto lease = std::make_shared<Lease>();
  lease->worker = reply.worker();
  lease->raylet = raylet;
  lease->lease_id = reply.lease_id();
  lease->gpu_ids.assign(reply.gpu_ids().begin(), reply.gpu_ids().end());
  lease->idle_since_ms = clock_();
  std::weak_ptr<Lease> weak = lease;  // the stream must not keep its lease alive
  lease->stream = transport_->OpenStream(
      lease->worker, lease->lease_id,
      [this, key, weak](proto::TaskSpec& task, const absl::Status& st, proto::PushTaskReply& reply) {
        Finished(key, weak, task, st, reply);
      });
  {
    absl::MutexLock lock(&mu_);
    auto& shape = shapes_[key];
    --shape.requesting;
    shape.group_checks = 0;
    shape.unreachable = 0;
    shape.crashed_starts = 0;
    shape.leases.push_back(lease);
  }
  Pump(key);
}

bool TaskSubmitter::WaitForGroup(const std::string& key) {
  std::string group;
  {
    absl::MutexLock lock(&mu_);
    auto& shape = shapes_[key];
    if (shape.tasks.empty() || shape.tasks.front().placement_group_id().empty()) return false;
    if (shape.group_checks >= kMaxGroupChecks) return false;  // placed, yet no node takes the work
    if (shape.watching_group) return true;  // one watch per shape
    shape.watching_group = true;
    group = shape.tasks.front().placement_group_id();
  }
  transport_->WatchPlacementGroup(group, kGroupWatchMs, [this, key, group](const absl::Status& s,
                                                                          proto::GetPlacementGroupReply& reply) {
    {
      absl::MutexLock lock(&mu_);
      auto& shape = shapes_[key];
      shape.watching_group = false;
      if (s.ok() && reply.found() && reply.group().state() == proto::PG_CREATED) ++shape.group_checks;
    }
    if (!s.ok()) {
      FailQueued(key, ErrorValue(proto::SYSTEM_ERROR, absl::StrCat("cannot ask the GCS about placement group ",
                                                                   IdHex(group), ": ", s.message())));
    } else if (!reply.found()) {
      FailQueued(key, ErrorValue(proto::SCHEDULING_FAILED,
                                 absl::StrCat("the placement group ", IdHex(group), " was removed")));
    } else {
      Pump(key);  // placed now (or still waiting: the next refusal watches again)
    }
  });
  return true;
}

void TaskSubmitter::Push(const std::string& key, const std::shared_ptr<Lease>& lease, proto::TaskSpec spec) {
  spec.clear_gpu_ids();  // a retry's earlier lease may have had others
  for (auto& id : lease->gpu_ids) spec.add_gpu_ids(id);
  if (lease->stream->Send(spec)) return;
  absl::Status gone = absl::UnavailableError("the stream to the leased worker has ended");
  proto::PushTaskReply none;
  Finished(key, lease, spec, gone, none);
}

void TaskSubmitter::Finished(const std::string& key, const std::weak_ptr<Lease>& weak, proto::TaskSpec& task,
                             const absl::Status& s, proto::PushTaskReply& reply) {
  std::string return_id = ReturnObjectId(task.task_id(), 0);
  auto lease = weak.lock();
  if (s.ok()) {
    if (lease) {
      absl::MutexLock lock(&mu_);
      int64_t now = clock_();
      auto& in_flight = lease->in_flight;
      if (auto it = std::find(in_flight.begin(), in_flight.end(), task.task_id()); it != in_flight.end()) {
        if (it == in_flight.begin()) {  // the next one runs now
          lease->head_since_ms = now;
          lease->stuck = false;
        }
        in_flight.erase(it);
      }
      std::erase(lease->asked_back, task.task_id());
      if (in_flight.empty()) lease->idle_since_ms = now;
    }
    if (reply.not_run()) {  // given back before it started: it goes again, first in line
      {
        absl::MutexLock lock(&mu_);
        if (!CancelledLocked(task)) shapes_[key].tasks.push_front(std::move(task));
      }
      Pump(key);
      return;
    }
    if (lineage_ && reply.result().has_stored()) lineage_->Record(task);  // it could be lost with its node
    if (on_done_) on_done_(task, reply.result());
    store_->Put(return_id, std::move(*reply.mutable_result()));
    Pump(key);
    return;
  }
  // The worker died or cannot be reached: drop the lease (the raylet kills
  // the worker if it is still there) and retry or fail the task; one that
  // waited behind another there never started, and goes again as it was.
  bool drop = false, stopped, started;
  {
    absl::MutexLock lock(&mu_);
    auto& shape = shapes_[key];
    auto it = std::find(shape.leases.begin(), shape.leases.end(), lease);
    if (lease && it != shape.leases.end()) {  // not returned yet (by Tick, Stop or an earlier failure)
      DropLocked(shape, it);
      drop = true;
    }
    started = !shape.unstarted.erase(task.task_id());
    stopped = stopped_;
  }
  if (drop) ReturnLease(*lease, /*disconnect=*/true);
  if (!stopped && !started) {
    Submit(std::move(task));
    return;
  }
  bool retries_left = task.max_retries() < 0 || task.attempt() < task.max_retries();  // -1: forever
  if (!stopped && retries_left && !store_->Ready(return_id)) {  // not if cancelled
    LOG(INFO) << "retrying task " << task.function_name() << " after: " << s.message();
    task.set_attempt(task.attempt() + 1);
    Submit(std::move(task));
    return;
  }
  auto error = Failure(task, ErrorValue(proto::WORKER_CRASHED, absl::StrCat("the worker running '", task.function_name(),
                                                                            "' died or became unreachable (",
                                                                            s.message(), ")")));
  if (on_done_) on_done_(task, error);
  store_->Put(return_id, std::move(error));
  Pump(key);
}

void TaskSubmitter::DropLocked(Shape& shape, std::vector<std::shared_ptr<Lease>>::iterator it) {
  const auto& in_flight = (*it)->in_flight;
  for (size_t i = 1; i < in_flight.size(); ++i) shape.unstarted.insert(in_flight[i]);
  shape.leases.erase(it);
}

bool TaskSubmitter::Cancel(const std::string& task_id, bool force, bool recursive) {
  std::shared_ptr<Lease> running;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [key, shape] : shapes_) {
      auto queued = std::find_if(shape.tasks.begin(), shape.tasks.end(),
                                 [&](const proto::TaskSpec& t) { return t.task_id() == task_id; });
      if (queued != shape.tasks.end()) {
        shape.tasks.erase(queued);
        return true;
      }
      for (auto it = shape.leases.begin(); it != shape.leases.end(); ++it) {
        auto& in_flight = (*it)->in_flight;
        auto sent = std::find(in_flight.begin(), in_flight.end(), task_id);
        if (sent == in_flight.end()) continue;
        running = *it;
        // Only the first one runs: one waiting behind it has only to be told.
        force = force && sent == in_flight.begin();
        if (force) DropLocked(shape, it);  // its worker goes
        break;
      }
      if (running) break;
    }
  }
  if (!running) return false;
  proto::CancelRequest cancel;
  cancel.set_task_id(task_id);
  cancel.set_recursive(recursive);
  running->stream->Cancel(cancel);
  // With force the raylet kills the worker (the cancel goes first, but the
  // calls the task made may outlive it if the kill is quicker).
  if (force) ReturnLease(*running, /*disconnect=*/true);
  return true;
}

void TaskSubmitter::FailQueued(const std::string& key, const proto::ObjectValue& error) {
  std::deque<proto::TaskSpec> failed;
  {
    absl::MutexLock lock(&mu_);
    auto& shape = shapes_[key];
    if (shape.requesting > 0 || !shape.leases.empty()) return;  // others may still serve them
    failed.swap(shape.tasks);
    shape.crashed_starts = 0;  // what is queued next starts afresh
  }
  for (auto& t : failed) {
    auto value = Failure(t, error);
    if (on_done_) on_done_(t, value);
    store_->Put(ReturnObjectId(t.task_id(), 0), std::move(value));
  }
}

void TaskSubmitter::ReturnLease(const Lease& lease, bool disconnect) {
  lease.stream->Close();
  transport_->ReturnLease(lease.raylet, lease.lease_id, disconnect);
}

void TaskSubmitter::DropLeasesAt(const std::string& raylet) {
  std::vector<std::shared_ptr<Lease>> dropped;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [key, shape] : shapes_) {
      for (auto it = shape.leases.begin(); it != shape.leases.end();) {
        if (!(*it)->busy() && (*it)->raylet == raylet) {
          dropped.push_back(*it);
          it = shape.leases.erase(it);
        } else {
          ++it;
        }
      }
    }
  }
  for (auto& l : dropped) ReturnLease(*l, /*disconnect=*/true);
}

void TaskSubmitter::Tick(int64_t now_ms) {
  std::vector<std::shared_ptr<Lease>> idle;
  std::vector<std::pair<std::shared_ptr<Lease>, std::string>> back;
  std::vector<std::pair<std::string, proto::LeaseRequest>> again;
  struct Waiting {
    google::protobuf::Map<std::string, double> shape;
    int tasks;
    int64_t waited_ms;
  };
  std::vector<Waiting> waiting;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    for (auto& [key, shape] : shapes_) {
      bool running = std::any_of(shape.leases.begin(), shape.leases.end(), [](auto& l) { return l->busy(); });
      // A task run long holds those sent behind it no longer: they go back.
      for (auto& lease : shape.leases) {
        if (lease->in_flight.size() < 2 || lease->stuck || now_ms - lease->head_since_ms < kGiveBackAfterMs) continue;
        lease->stuck = true;
        for (auto id = lease->LastWaiting(); id; id = lease->LastWaiting()) {
          lease->asked_back.push_back(*id);
          back.emplace_back(lease, std::move(*id));
        }
      }
      if (shape.tasks.empty() || running) {
        shape.waiting_since_ms = 0;
        shape.warned = false;
      } else if (shape.waiting_since_ms == 0) {
        shape.waiting_since_ms = now_ms;
      } else if (!shape.warned && now_ms - shape.waiting_since_ms > kWaitWarningMs && on_wait_) {
        shape.warned = true;
        waiting.push_back({shape.tasks.front().resources(), static_cast<int>(shape.tasks.size()),
                           now_ms - shape.waiting_since_ms});
      }
      for (auto it = shape.retries.begin(); it != shape.retries.end();) {
        if (it->first > now_ms) {
          ++it;
          continue;
        }
        proto::LeaseRequest req = std::move(it->second);
        req.clear_spillback_count();
        again.emplace_back(key, std::move(req));
        it = shape.retries.erase(it);
      }
      if (!shape.tasks.empty()) continue;
      for (auto it = shape.leases.begin(); it != shape.leases.end();) {
        if (!(*it)->busy() && now_ms - (*it)->idle_since_ms > idle_lease_ms_) {
          idle.push_back(*it);
          it = shape.leases.erase(it);
        } else {
          ++it;
        }
      }
    }
  }
  for (auto& l : idle) ReturnLease(*l, false);
  for (auto& [lease, id] : back) AskBack(lease, id);
  for (auto& [key, req] : again) RequestLeases(key, req, raylet_, 0);
  for (auto& w : waiting) on_wait_(w.shape, w.tasks, w.waited_ms);
}

void TaskSubmitter::Stop() {
  std::vector<std::shared_ptr<Lease>> all;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    for (auto& [key, shape] : shapes_) {
      for (auto& l : shape.leases) all.push_back(l);
      shape.leases.clear();
    }
  }
  for (auto& l : all) ReturnLease(*l, false);
}

}  // namespace glint::internal
