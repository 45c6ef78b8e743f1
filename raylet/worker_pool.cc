#include "raylet/worker_pool.h"

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/process.h"

namespace glint::raylet {
namespace {
constexpr char kJobEnded[] = "the job ended before a worker could start for it";
}  // namespace

absl::Status WorkerPool::Ended() const {
  // A node that stops is no fault of the work: an actor's start is tried
  // again elsewhere, as after a crash, not failed for good.
  if (stopping_) return absl::UnavailableError("the node is stopping");
  return absl::CancelledError(kJobEnded);
}

WorkerFor UseOf(const proto::LeaseRequest& req) {
  const bool rooted = !req.root_detached_actor().empty();
  if (!req.for_actor()) return rooted ? WorkerFor::kDetachedTask : WorkerFor::kTask;
  return req.detached() || rooted ? WorkerFor::kDetachedActor : WorkerFor::kActor;
}

void WorkerPool::Pop(const proto::JobInfo& job, WorkerFor use, PopCallback cb) {
  if (auto back = Serve({job, use, std::move(cb)})) {
    absl::MutexLock lock(&mu_);
    waiting_.push_back(std::move(*back));
  }
  ServeWaiting();  // a start that failed at once left room
}

std::optional<WorkerPool::Request> WorkerPool::Serve(Request r) {
  std::string worker_id;
  std::optional<WorkerInfo> idle;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, w] : workers_) {
      if (w.state == WorkerInfo::kIdle && w.job_id == r.job.job_id() && spawner_->Alive(w.pid)) {
        w.state = ForTask(r.use) ? WorkerInfo::kLeased : WorkerInfo::kActor;
        w.outlives_job = r.use == WorkerFor::kDetachedTask;
        idle = w;
        break;
      }
    }
  }
  if (idle) {
    r.cb(*idle);
    return std::nullopt;
  }
  if (spawner_->ShouldWait(r.job.job_id())) return r;  // (it may take the spawner's lock a while)
  {
    absl::MutexLock lock(&mu_);
    // A detached actor may start after its job ended (restarting, say), and
    // the work it makes gets workers.
    const bool ended = !OutlivesJob(r.use) && ended_jobs_.contains(r.job.job_id());
    if (!ended) {
      if (Full()) return r;
      worker_id = RandomId();
      WorkerInfo w;
      w.worker_id = worker_id;
      w.job_id = r.job.job_id();
      workers_[worker_id] = w;
      starting_[worker_id] = {r.use, std::move(r.cb)};
    }
  }
  if (worker_id.empty()) {
    r.cb(Ended());
    return std::nullopt;
  }
  auto pid = spawner_->Spawn(worker_id, r.job);
  PopCallback failed;
  absl::Status why = pid.status();
  bool last_of_ended_job = false;
  {
    absl::MutexLock lock(&mu_);
    auto st = starting_.find(worker_id);
    if (pid.ok() && !st->second.job_ended) {
      workers_[worker_id].pid = *pid;
      return std::nullopt;
    }
    failed = std::move(st->second.cb);
    starting_.erase(st);
    workers_.erase(worker_id);
    last_of_ended_job = LastOfEndedJobLocked(r.job.job_id());
  }
  if (last_of_ended_job) spawner_->JobEnded(r.job.job_id());
  if (pid.ok()) {  // its job ended meanwhile (KillJob did not see its pid)
    spawner_->Kill(*pid);
    why = Ended();
  }
  failed(why);
  return std::nullopt;
}

void WorkerPool::ServeWaiting() {
  // Bounded: each round takes a request off the queue, and starts it, hands
  // it an idle worker, or keeps it aside to go back in front, in order.
  std::vector<Request> kept;
  while (true) {
    Request r;
    {
      absl::MutexLock lock(&mu_);
      if (waiting_.empty() || Full()) break;
      r = std::move(waiting_.front());
      waiting_.pop_front();
    }
    if (auto back = Serve(std::move(r))) kept.push_back(std::move(*back));
  }
  if (kept.empty()) return;
  absl::MutexLock lock(&mu_);
  waiting_.insert(waiting_.begin(), std::make_move_iterator(kept.begin()), std::make_move_iterator(kept.end()));
}

void WorkerPool::Push(const std::string& worker_id, int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  auto it = workers_.find(worker_id);
  if (it == workers_.end() || it->second.state != WorkerInfo::kLeased) return;
  it->second.state = WorkerInfo::kIdle;
  it->second.outlives_job = false;
  it->second.idle_since_ms = now_ms;
}

absl::Status WorkerPool::OnRegistered(const std::string& worker_id, int port, pid_t pid,
                                      const std::string& startup_error) {
  PopCallback cb;
  absl::StatusOr<WorkerInfo> result;
  {
    absl::MutexLock lock(&mu_);
    auto it = workers_.find(worker_id);
    auto st = starting_.find(worker_id);
    if (it == workers_.end() || st == starting_.end()) {
      return absl::NotFoundError("no worker with this id is starting on this node");
    }
    cb = std::move(st->second.cb);
    WorkerFor use = st->second.use;
    starting_.erase(st);
    if (!startup_error.empty()) {
      result = absl::FailedPreconditionError(startup_error);
      // The worker exits by itself; OnExit will find nothing starting.
    } else {
      auto& w = it->second;
      if (pid > 0) w.pid = pid;
      w.address = node_address_;
      w.address.set_port(port);
      w.address.set_worker_id(worker_id);
      w.state = ForTask(use) ? WorkerInfo::kLeased : WorkerInfo::kActor;
      w.outlives_job = use == WorkerFor::kDetachedTask;
      result = w;
    }
  }
  cb(std::move(result));
  ServeWaiting();
  return absl::OkStatus();
}

std::optional<WorkerInfo> WorkerPool::OnExit(pid_t pid, const std::string& reason) {
  PopCallback cb;
  bool job_ended = false;
  std::optional<WorkerInfo> out;
  std::string ended_job;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = workers_.begin(); it != workers_.end(); ++it) {
      if (it->second.pid != pid) continue;
      out = it->second;
      if (auto st = starting_.find(it->first); st != starting_.end()) {
        cb = std::move(st->second.cb);
        job_ended = st->second.job_ended;
        starting_.erase(st);
      }
      workers_.erase(it);
      break;
    }
    if (out && LastOfEndedJobLocked(out->job_id)) ended_job = out->job_id;
  }
  if (!ended_job.empty()) spawner_->JobEnded(ended_job);
  if (cb) {
    // Killed by KillJob: its job ended (or its node stops), no crash.
    cb(job_ended ? Ended()
                 : absl::UnavailableError(absl::StrCat("the worker process exited before it was ready (", reason, ")")));
    ServeWaiting();
  }
  return out;
}

void WorkerPool::ReapIdle(int64_t now_ms, int64_t idle_ms) {
  std::vector<pid_t> victims;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, w] : workers_) {
      if (w.state == WorkerInfo::kIdle && now_ms - w.idle_since_ms > idle_ms) {
        victims.push_back(w.pid);
        w.state = WorkerInfo::kLeased;  // not handed out again; gone once reaped
      }
    }
  }
  for (pid_t p : victims) spawner_->Kill(p);
}

bool WorkerPool::HasWorkersLocked(const std::string& job_id) const {
  for (const auto& [id, w] : workers_) {
    if (w.job_id == job_id) return true;
  }
  return false;
}

bool WorkerPool::LastOfEndedJobLocked(const std::string& job_id) {
  if (!lingering_.contains(job_id) || HasWorkersLocked(job_id)) return false;
  lingering_.erase(job_id);
  return true;
}

void WorkerPool::KillJob(const std::string& job_id) {
  std::vector<pid_t> victims;
  std::vector<PopCallback> dropped;
  bool linger = false;
  {
    absl::MutexLock lock(&mu_);
    if (!job_id.empty()) ended_jobs_.Insert(job_id);
    if (job_id.empty()) stopping_ = true;
    // What ends with the job: all of it when the node stops; else all but
    // its detached actors and the work they make (they outlive the job,
    // even those whose worker is still on its way when it ends).
    auto ends = [&job_id](const std::string& job, WorkerFor use) {
      return job_id.empty() || (job == job_id && !OutlivesJob(use));
    };
    for (auto& [id, st] : starting_) {
      auto w = workers_.find(id);
      if (w != workers_.end() && ends(w->second.job_id, st.use)) st.job_ended = true;
    }
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (!ends(it->job.job_id(), it->use)) {
        ++it;
        continue;
      }
      dropped.push_back(std::move(it->cb));
      it = waiting_.erase(it);
    }
    // Started actors die through the GCS, which kills those not detached.
    for (auto& [id, w] : workers_) {
      if (w.pid <= 0) continue;
      if (!job_id.empty()) {
        if (w.job_id != job_id || w.state == WorkerInfo::kActor) continue;
        if (w.state == WorkerInfo::kLeased && w.outlives_job) continue;
        auto st = starting_.find(id);
        if (st != starting_.end() && !st->second.job_ended) continue;
      }
      victims.push_back(w.pid);
    }
    // Until its last worker exits (OnExit), what the job kept for starting
    // workers stays: its detached actors' work after it is still forked.
    linger = !job_id.empty() && HasWorkersLocked(job_id);
    if (linger) lingering_.insert(job_id);
  }
  for (pid_t p : victims) spawner_->Kill(p);
  if (!linger) spawner_->JobEnded(job_id);
  for (auto& cb : dropped) cb(Ended());
}

bool WorkerPool::Kill(const std::string& worker_id) {
  pid_t pid = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = workers_.find(worker_id);
    if (it == workers_.end()) return false;
    pid = it->second.pid;
  }
  if (pid > 0) spawner_->Kill(pid);
  return pid > 0;
}

std::optional<WorkerInfo> WorkerPool::Get(const std::string& worker_id) {
  absl::MutexLock lock(&mu_);
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return std::nullopt;
  return it->second;
}

std::vector<WorkerInfo> WorkerPool::List(size_t limit, bool* truncated) {
  absl::MutexLock lock(&mu_);
  std::vector<WorkerInfo> out;
  for (auto& [id, w] : workers_) {
    if (out.size() >= limit) break;
    out.push_back(w);
  }
  *truncated = workers_.size() > out.size();
  return out;
}

std::array<int, 4> WorkerPool::CountByState() {
  absl::MutexLock lock(&mu_);
  std::array<int, 4> out{};
  for (auto& [id, w] : workers_) out[w.state]++;
  return out;
}

size_t WorkerPool::Waiting() {
  absl::MutexLock lock(&mu_);
  return waiting_.size();
}

int64_t WorkerPool::Size() {
  absl::MutexLock lock(&mu_);
  return workers_.size();
}

std::vector<pid_t> WorkerPool::Pids() {
  absl::MutexLock lock(&mu_);
  std::vector<pid_t> pids;
  for (auto& [id, w] : workers_) {
    if (w.pid > 0) pids.push_back(w.pid);
  }
  return pids;
}

}  // namespace glint::raylet
