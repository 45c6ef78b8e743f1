#include "client/src/task_events.h"

#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "common/logging.h"
#include "common/rpc.h"
#include "common/task_event_merge.h"
#include "common/utf8.h"

namespace glint::internal {

TaskEvents::TaskEvents(ClientQueue* queue, const std::string& gcs_address, std::string node_id, std::string worker_id,
                       pid_t pid)
    : queue_(queue),
      stub_(MakeStub<proto::TaskEventService>(gcs_address)),
      node_id_(std::move(node_id)),
      worker_id_(std::move(worker_id)),
      pid_(pid) {}

void TaskEvents::Submitted(const proto::TaskSpec& spec, int64_t now_ms) {
  Record(spec.task_id(), &spec, proto::PENDING, /*here=*/false, now_ms, nullptr);
}

void TaskEvents::Done(const std::string& task_id, const proto::TaskSpec* spec, const proto::ObjectValue& result,
                      int64_t now_ms) {
  Record(task_id, spec, result.error().type() == proto::ERROR_NONE ? proto::FINISHED : proto::FAILED, /*here=*/false,
         now_ms, &result);
}

void TaskEvents::Started(const proto::TaskSpec& spec, int64_t now_ms) {
  Record(spec.task_id(), &spec, proto::RUNNING, /*here=*/true, now_ms, nullptr);
}

void TaskEvents::Ended(const proto::TaskSpec& spec, const proto::ObjectValue& result, int64_t now_ms) {
  Record(spec.task_id(), &spec, result.error().type() == proto::ERROR_NONE ? proto::FINISHED : proto::FAILED,
         /*here=*/true, now_ms, &result);
}

bool TaskEvents::Id::Set(const std::string& id) {
  if (id.size() > bytes.size()) return false;
  size = static_cast<uint8_t>(id.size());
  std::memcpy(bytes.data(), id.data(), id.size());
  return true;
}

void TaskEvents::Record(const std::string& task_id, const proto::TaskSpec* spec, proto::TaskState state, bool here,
                        int64_t now_ms, const proto::ObjectValue* result) {
  absl::MutexLock lock(&mu_);
  if (events_.size() >= kMaxBuffered) {
    ++dropped_;
    return;
  }
  Event e;
  e.state = state;
  e.here = here;
  e.ms = now_ms;
  bool ok = e.task_id.Set(task_id);
  if (spec) {
    auto name = names_.find(spec->function_name());
    if (name == names_.end() && names_.size() < kMaxNames) {
      // A registered name is the C++ spelling of a function: UTF-8 as a rule.
      name = names_.insert(IsUtf8(spec->function_name()) ? spec->function_name() : ToUtf8(spec->function_name())).first;
    }
    ok = ok && name != names_.end() && e.job_id.Set(spec->job_id()) &&
         (spec->type() == proto::NORMAL_TASK || e.actor_id.Set(spec->actor_id()));
    if (ok) e.name = &*name;
    e.type = spec->type();
    e.attempt = spec->attempt();
    e.outlives_job = !spec->root_detached_actor().empty();
  }
  if (!ok) {
    ++dropped_;
    return;
  }
  if (result && result->error().type() != proto::ERROR_NONE) {
    e.error_type = proto::ErrorType_Name(result->error().type());
    e.error_message = ToUtf8(result->error().message(), kMaxErrorBytes);  // what user code threw: any bytes
  }
  events_.push_back(std::move(e));
}

proto::AddTaskEventsRequest TaskEvents::TakeReport() {
  std::vector<Event> events;
  proto::AddTaskEventsRequest req;
  {
    absl::MutexLock lock(&mu_);
    events.swap(events_);
    events_.reserve(events.size());
    req.set_dropped(std::exchange(dropped_, 0));
  }
  // Names stay in names_ for good: reading them here, off the lock, is safe.
  absl::flat_hash_map<std::string, int> index;  // task id -> its event in the report
  for (auto& e : events) {
    proto::TaskEvent t;
    t.set_task_id(e.task_id.str());
    t.set_job_id(e.job_id.str());
    if (e.name) t.set_name(*e.name);
    t.set_actor_id(e.actor_id.str());
    t.set_type(e.type);
    t.set_state(e.state);
    t.set_attempt(e.attempt);
    t.set_outlives_job(e.outlives_job);
    if (e.state == proto::PENDING) t.set_submitted_ms(e.ms);
    if (e.state == proto::RUNNING) t.set_started_ms(e.ms);
    if (TaskEnded(e.state)) t.set_ended_ms(e.ms);
    if (e.here) {
      t.set_node_id(node_id_);
      t.set_worker_id(worker_id_);
      t.set_worker_pid(pid_);
    }
    t.set_error_type(std::move(e.error_type));
    t.set_error_message(std::move(e.error_message));
    auto [it, added] = index.try_emplace(t.task_id(), req.events_size());
    if (added) {
      *req.add_events() = std::move(t);
    } else {
      MergeTaskEvent(t, req.mutable_events(it->second));
    }
  }
  return req;
}

void TaskEvents::Flush(int64_t now_ms, bool now) {
  {
    absl::MutexLock lock(&mu_);
    if (in_flight_ || (events_.empty() && dropped_ == 0)) return;
    if (!now && now_ms - last_flush_ms_ < kFlushMs) return;
    in_flight_ = true;
    last_flush_ms_ = now_ms;
  }
  auto req = TakeReport();
  int64_t sent = req.events_size();
  CallAsync(queue_, stub_, &proto::TaskEventService::Stub::PrepareAsyncAddTaskEvents, std::move(req), 10000,
            [this, sent](const absl::Status& s, proto::AddTaskEventsReply&) {
              absl::MutexLock lock(&mu_);
              in_flight_ = false;
              if (s.ok()) {
                lost_said_ = false;
              } else {
                dropped_ += sent;
                if (!std::exchange(lost_said_, true)) LOG(WARNING) << "task events did not reach the GCS: " << s.message();
              }
            });
}

void TaskEvents::Stop(int64_t timeout_ms) {
  {
    absl::MutexLock lock(&mu_);
    if (events_.empty() && dropped_ == 0) return;
  }
  proto::AddTaskEventsReply reply;
  auto s = BlockingCall(queue_, stub_.get(), &proto::TaskEventService::Stub::PrepareAsyncAddTaskEvents, TakeReport(),
                        timeout_ms, &reply);
  if (!s.ok()) LOG(WARNING) << "the last task events did not reach the GCS: " << s.message();
}

}  // namespace glint::internal
