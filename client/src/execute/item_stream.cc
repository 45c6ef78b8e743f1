#include "client/src/execute/item_stream.h"

#include <algorithm>
#include <utility>

#include "client/src/objects/reference_counter.h"
#include "common/ids.h"
#include "common/queue_poller.h"

namespace glint::internal {

ItemStream::~ItemStream() { DiscardNext({}); }

void ItemStream::DiscardNext(const std::vector<RefData>& held) {
  if (!stored_next_ && held.empty()) return;
  int64_t index;
  {
    absl::MutexLock lock(&mu_);
    index = emitted_ + 1;  // as StoreNext stored it
  }
  proto::ObjectValue value;
  if (stored_next_) value = *std::exchange(stored_next_, std::nullopt);
  discard_(spec_, GeneratorItemId(spec_.task_id(), index), value, held, /*handed_over=*/false);
}

bool ItemStream::Send(std::string data, std::vector<RefData> contained) {
  int64_t index = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!closed_) index = ++emitted_;
  }
  if (index == 0) {
    DiscardNext(contained);  // the close came while it was being made
    return false;
  }
  proto::PushTaskReply reply;
  reply.set_item_index(index);
  auto* value = reply.mutable_result();
  if (stored_next_) {
    *value = *std::exchange(stored_next_, std::nullopt);
  } else {
    value->set_data(std::move(data));
  }
  ListContained(value, contained);
  const std::string id = GeneratorItemId(spec_.task_id(), index);
  store_(spec_, id, value);
  if (send_(reply)) return true;
  discard_(spec_, id, *value, contained, /*handed_over=*/true);  // the caller's stream is gone
  Close();
  return false;
}

bool ItemStream::StoreNext(size_t size, const std::function<void(char*)>& write) {
  int64_t index;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return false;
    index = emitted_ + 1;  // what Send gives it
  }
  stored_next_ = pack_(index, size, write);
  return stored_next_.has_value();
}

bool ItemStream::Emit(std::string data, std::vector<RefData> contained) {
  if (!Send(std::move(data), std::move(contained))) return false;
  absl::MutexLock lock(&mu_);
  if (!MayGoOn()) {
    QueuePoller::BlockingScope blocking;  // the acks come in on the cover thread
    mu_.Await(absl::Condition(this, &ItemStream::MayGoOn));
  }
  return !closed_;
}

bool ItemStream::EmitAsync(std::string data, std::vector<RefData> contained, std::function<void(bool)> later) {
  if (!Send(std::move(data), std::move(contained))) {
    later(false);
    return false;
  }
  absl::MutexLock lock(&mu_);
  if (closed_) {
    later(false);
    return false;
  }
  if (MayGoOn()) return true;
  waiting_ = std::move(later);
  return false;
}

void ItemStream::OnAck(int64_t consumed, bool close) {
  std::function<void(bool)> resume;
  bool go_on;
  {
    absl::MutexLock lock(&mu_);
    if (close) closed_ = true;
    consumed_ = std::max(consumed_, consumed);  // a retry's worker hears how far the consumer got
    if (!waiting_ || !MayGoOn()) return;
    resume = std::exchange(waiting_, nullptr);
    go_on = !closed_;
  }
  resume(go_on);
}

void ItemStream::Close() { OnAck(0, /*close=*/true); }

int64_t ItemStream::emitted() const {
  absl::MutexLock lock(&mu_);
  return emitted_;
}

void RunningGenerators::Add(const std::string& task_id, const void* stream, std::shared_ptr<ItemStream> items) {
  absl::MutexLock lock(&mu_);
  running_[task_id] = {stream, std::move(items)};
}

void RunningGenerators::Remove(const std::string& task_id) {
  absl::MutexLock lock(&mu_);
  running_.erase(task_id);
}

void RunningGenerators::OnAck(const void* stream, const proto::GeneratorAck& ack) {
  std::shared_ptr<ItemStream> items;
  {
    absl::MutexLock lock(&mu_);
    auto it = running_.find(ack.task_id());
    if (it == running_.end() || it->second.stream != stream) return;  // over, or not the caller's
    items = it->second.items;
  }
  items->OnAck(ack.consumed(), ack.close());
}

void RunningGenerators::Close(const std::string& task_id) {
  std::shared_ptr<ItemStream> items;
  {
    absl::MutexLock lock(&mu_);
    auto it = running_.find(task_id);
    if (it == running_.end()) return;
    items = it->second.items;
  }
  items->Close();
}

void RunningGenerators::EndStream(const void* stream) {
  std::vector<std::shared_ptr<ItemStream>> ended;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, r] : running_) {
      if (r.stream == stream) ended.push_back(r.items);
    }
  }
  for (auto& items : ended) items->Close();
}

}  // namespace glint::internal
