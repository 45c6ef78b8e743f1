#include "gcs/task_table.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "common/task_event_merge.h"
#include "common/utf8.h"

namespace glint::gcs {

void TaskTable::Merge(const proto::TaskEvent& from, Record* into) {
  // The task's own report of its end wins over the GCS's guess.
  bool retry = from.attempt() > into->task.attempt();
  bool took = MergeTaskEvent(from, &into->task, /*take_end=*/into->ended_by_gcs && !retry);
  if (retry || (took && TaskEnded(from.state()))) into->ended_by_gcs = false;
  if (into->task.error_message().size() > kMaxErrorBytes) {
    *into->task.mutable_error_message() = ToUtf8(into->task.error_message(), kMaxErrorBytes);
  }
}

void TaskTable::Add(const google::protobuf::RepeatedPtrField<proto::TaskEvent>& events) {
  absl::MutexLock lock(&mu_);
  for (auto& event : events) {
    if (event.task_id().empty()) continue;
    auto [it, added] = records_.try_emplace(event.task_id());
    if (added) order_.push_back(event.task_id());
    Merge(event, &it->second);
  }
  Evict();
}

void TaskTable::Add(const proto::TaskEvent& event) {
  google::protobuf::RepeatedPtrField<proto::TaskEvent> one;
  *one.Add() = event;
  Add(one);
}

void TaskTable::AddDropped(int64_t n) {
  if (n <= 0) return;
  absl::MutexLock lock(&mu_);
  dropped_ += n;
}

void TaskTable::Evict() {
  while (records_.size() > max_tasks_ && !order_.empty()) {
    records_.erase(order_.front());
    order_.pop_front();
    ++dropped_;
  }
}

template <typename Match>
void TaskTable::FailWhere(Match match, int64_t now_ms, proto::ErrorType type, const std::string& why) {
  absl::MutexLock lock(&mu_);
  for (auto& [id, r] : records_) {
    if (TaskEnded(r.task.state()) || !match(r.task)) continue;
    r.task.set_state(proto::FAILED);
    r.task.set_ended_ms(now_ms);
    r.task.set_error_type(proto::ErrorType_Name(type));
    r.task.set_error_message(ToUtf8(why, kMaxErrorBytes));
    r.ended_by_gcs = true;
  }
}

void TaskTable::FailJob(const std::string& job_id, int64_t now_ms, const std::string& why) {
  if (job_id.empty()) return;
  // What a detached actor made goes on after its job.
  FailWhere([&](const proto::TaskEvent& t) { return t.job_id() == job_id && !t.outlives_job(); }, now_ms,
            proto::SYSTEM_ERROR, why);
}

void TaskTable::FailWorker(const std::string& worker_id, int64_t now_ms, const std::string& why) {
  if (worker_id.empty()) return;
  FailWhere([&](const proto::TaskEvent& t) { return t.state() == proto::RUNNING && t.worker_id() == worker_id; },
            now_ms, proto::WORKER_CRASHED, why);
}

void TaskTable::FailNode(const std::string& node_id, int64_t now_ms, const std::string& why) {
  if (node_id.empty()) return;
  FailWhere([&](const proto::TaskEvent& t) { return t.state() == proto::RUNNING && t.node_id() == node_id; },
            now_ms, proto::WORKER_CRASHED, why);
}

proto::ListTasksReply TaskTable::List(const std::string& job_id, proto::TaskState state, int limit) {
  if (limit <= 0) limit = kDefaultListed;
  limit = std::min(limit, kMaxListed);
  proto::ListTasksReply reply;
  absl::MutexLock lock(&mu_);
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    auto r = records_.find(*it);
    if (r == records_.end()) continue;
    const auto& t = r->second.task;
    if (!job_id.empty() && t.job_id() != job_id) continue;
    if (state != proto::TASK_STATE_NONE && t.state() != state) continue;
    reply.set_total(reply.total() + 1);
    if (reply.tasks_size() < limit) *reply.add_tasks() = t;
  }
  reply.set_dropped(dropped_);
  return reply;
}

proto::SummarizeTasksReply TaskTable::Summarize(const std::string& job_id) {
  std::map<std::pair<std::string, proto::TaskType>, proto::TaskSummary> by_name;
  proto::SummarizeTasksReply reply;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, r] : records_) {
      const auto& t = r.task;
      if (!job_id.empty() && t.job_id() != job_id) continue;
      auto& s = by_name[{t.name(), t.type()}];
      s.set_total(s.total() + 1);
      ++(*s.mutable_state_counts())[proto::TaskState_Name(t.state())];
    }
    reply.set_dropped(dropped_);
  }
  std::vector<proto::TaskSummary> sorted;
  for (auto& [key, s] : by_name) {
    s.set_name(key.first);
    s.set_type(key.second);
    reply.set_total(reply.total() + s.total());
    sorted.push_back(std::move(s));
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const proto::TaskSummary& a, const proto::TaskSummary& b) { return a.total() > b.total(); });
  for (auto& s : sorted) *reply.add_summaries() = std::move(s);
  return reply;
}

size_t TaskTable::size() {
  absl::MutexLock lock(&mu_);
  return records_.size();
}

}  // namespace glint::gcs
