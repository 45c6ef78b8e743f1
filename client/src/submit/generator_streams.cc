#include "client/src/submit/generator_streams.h"

#include <algorithm>
#include <utility>

#include "client/src/errors.h"
#include "common/ids.h"
#include "common/queue_poller.h"

namespace glint::internal {

void GeneratorStreams::Stream::Arrived(int64_t i) {
  if (i != contiguous + 1) {
    past.insert(i);
    return;
  }
  ++contiguous;
  while (past.erase(contiguous + 1) > 0) ++contiguous;
}

void GeneratorStreams::Start(const std::string& task_id, int backpressure) {
  {
    absl::MutexLock lock(&mu_);
    streams_[task_id].backpressure = std::max(0, backpressure);
  }
  store_->OnReady(ReturnObjectId(task_id, 0),
                  [this, task_id](const proto::ObjectValue& end) { OnEnd(task_id, end); });
}

void GeneratorStreams::OnItem(const std::string& task_id, proto::PushTaskReply& item,
                              const std::shared_ptr<CallSink>& via) {
  const int64_t index = item.item_index();
  const std::string id = GeneratorItemId(task_id, index);
  enum { kNew, kDuplicate, kUnknown } kind;
  int64_t consumed = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(task_id);
    if (it == streams_.end() || (it->second.total >= 0 && index > it->second.total)) {
      kind = kUnknown;
    } else if (it->second.Has(index)) {
      // A retry streams from the first item again; its worker learns how far
      // the consumer got (it counts from zero).
      kind = kDuplicate;
      if (it->second.backpressure > 0) consumed = it->second.consumed;
    } else {
      kind = kNew;
    }
  }
  if (kind == kDuplicate) {
    if (consumed > 0) SendAck(via, task_id, consumed, false);
    return;
  }
  // Stored before it can be handed out; one nobody will take is freed at
  // once (with its copy in a node's store, if any).
  store_->Put(id, std::move(*item.mutable_result()), /*owned=*/true);
  if (kind == kUnknown) {
    store_->Release(id, true);
    return;
  }
  std::vector<std::function<void()>> ready;
  bool release = false, close = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(task_id);
    if (it == streams_.end()) {
      release = true;
    } else {
      auto& s = it->second;
      close = s.dropped && s.via.expired();  // the first item of a dropped stream: now we know where to say so
      s.via = via;
      s.Arrived(index);
      release = s.dropped || s.cancelled;  // nobody will take it
      if (!release && s.Ready()) ready.swap(s.on_ready);
    }
  }
  if (release) store_->Release(id, true);
  if (close) SendAck(via, task_id, 0, true);
  Notify(std::move(ready));
}

void GeneratorStreams::OnEnd(const std::string& task_id, const proto::ObjectValue& end) {
  int64_t n;
  bool failed = end.error().type() != proto::ERROR_NONE;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(task_id);
    if (it == streams_.end()) return;
    auto& s = it->second;
    // The worker counted what it sent; an error made here (the stream
    // broke) counts what arrived.
    n = std::max(end.generator_items(), s.past.empty() ? s.contiguous : *s.past.rbegin());
    if (s.dropped) {
      streams_.erase(it);
      return;
    }
    failed = failed && !s.cancelled;  // a cancel: Next says so itself
  }
  if (failed) {  // one more item: the error, for its Get to throw
    proto::ObjectValue error = end;
    error.clear_generator_items();
    store_->Put(GeneratorItemId(task_id, n + 1), std::move(error), /*owned=*/true);
  }
  std::vector<std::function<void()>> ready;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(task_id);
    if (it == streams_.end()) return;
    auto& s = it->second;
    if (failed) s.Arrived(n + 1);
    s.total = n + (failed ? 1 : 0);
    if (s.Ready()) ready.swap(s.on_ready);
  }
  Notify(std::move(ready));
}

absl::StatusOr<std::optional<RefData>> GeneratorStreams::Next(const std::string& task_id, absl::Time deadline) {
  std::weak_ptr<CallSink> via;
  int64_t index;
  {
    QueuePoller::BlockingScope blocking;  // in a task: the items come in on the cover thread
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(task_id);
    if (it == streams_.end()) return absl::NotFoundError("this process has no such generator");
    Stream* s = &it->second;  // node_hash_map: stays put; not dropped while a consumer is here
    if (!mu_.AwaitWithDeadline(absl::Condition(s, &Stream::Ready), deadline)) {
      return absl::DeadlineExceededError("no item came within the timeout");
    }
    if (s->cancelled) return ErrorStatus(proto::TASK_CANCELLED, "the generator was cancelled (glint::Cancel)");
    if (s->consumed >= s->contiguous) return std::optional<RefData>();  // the end
    index = ++s->consumed;
    if (s->backpressure > 0) via = s->via;
  }
  if (!via.expired()) SendAck(via, task_id, index, false);
  return std::optional<RefData>(RefData{GeneratorItemId(task_id, index), self_});
}

bool GeneratorStreams::IsReady(const std::string& task_id) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(task_id);
  return it == streams_.end() || it->second.Ready();  // an unknown one: Next says so at once
}

void GeneratorStreams::OnReady(const std::string& task_id, std::function<void()> fn) {
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(task_id);
    if (it != streams_.end() && !it->second.Ready()) {
      it->second.on_ready.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

void GeneratorStreams::Drop(const std::string& task_id) {
  std::vector<int64_t> untaken;
  std::weak_ptr<CallSink> via;
  bool running;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(task_id);
    if (it == streams_.end() || it->second.dropped) return;
    auto& s = it->second;
    s.dropped = true;
    s.on_ready.clear();
    for (int64_t i = s.consumed + 1; i <= s.contiguous; ++i) untaken.push_back(i);
    untaken.insert(untaken.end(), s.past.begin(), s.past.end());
    running = s.total < 0;
    via = s.via;
    if (!running) streams_.erase(it);  // else OnEnd forgets it
  }
  for (int64_t i : untaken) store_->Release(GeneratorItemId(task_id, i), true);
  if (running) SendAck(via, task_id, 0, /*close=*/true);
}

void GeneratorStreams::Cancelled(const std::string& task_id) {
  std::vector<std::function<void()>> ready;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(task_id);
    if (it == streams_.end()) return;
    it->second.cancelled = true;
    ready.swap(it->second.on_ready);
  }
  Notify(std::move(ready));
}

void GeneratorStreams::Notify(std::vector<std::function<void()>> fns) {
  for (auto& f : fns) f();
}

void GeneratorStreams::SendAck(const std::weak_ptr<CallSink>& via, const std::string& task_id, int64_t consumed,
                               bool close) {
  auto stream = via.lock();
  if (!stream) return;
  proto::GeneratorAck ack;
  ack.set_task_id(task_id);
  ack.set_consumed(consumed);
  ack.set_close(close);
  stream->Ack(ack);
}

}  // namespace glint::internal
