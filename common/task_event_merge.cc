#include "common/task_event_merge.h"

namespace glint {
namespace {

template <typename T>
void FillIfEmpty(const T& from, T* into) {
  if (*into == T() && from != T()) *into = from;
}

}  // namespace

bool MergeTaskEvent(const proto::TaskEvent& from, proto::TaskEvent* t, bool take_end) {
  if (from.attempt() > t->attempt()) {
    t->Clear();  // a retry: its record starts again
  } else if (from.attempt() < t->attempt()) {
    return false;  // late news of an earlier attempt
  }
  bool was_empty = t->task_id().empty();
  if (was_empty) {
    t->set_task_id(from.task_id());
    t->set_type(from.type());
  }
  t->set_attempt(from.attempt());
  FillIfEmpty(from.job_id(), t->mutable_job_id());
  FillIfEmpty(from.name(), t->mutable_name());
  FillIfEmpty(from.actor_id(), t->mutable_actor_id());
  FillIfEmpty(from.node_id(), t->mutable_node_id());
  FillIfEmpty(from.worker_id(), t->mutable_worker_id());
  if (t->worker_pid() == 0) t->set_worker_pid(from.worker_pid());
  if (from.outlives_job()) t->set_outlives_job(true);
  if (t->submitted_ms() == 0) t->set_submitted_ms(from.submitted_ms());
  if (t->started_ms() == 0) t->set_started_ms(from.started_ms());
  bool take = from.state() > t->state() && !(TaskEnded(t->state()) && TaskEnded(from.state()));
  if (TaskEnded(from.state()) && take_end) take = true;
  if (!take) return false;
  t->set_state(from.state());
  if (TaskEnded(from.state())) {
    t->set_ended_ms(from.ended_ms());
    t->set_error_type(from.error_type());
    t->set_error_message(from.error_message());
  }
  return true;
}

}  // namespace glint
