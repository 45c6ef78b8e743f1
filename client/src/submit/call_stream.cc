#include "client/src/submit/call_stream.h"

#include <algorithm>
#include <vector>

#include "common/rpc.h"

namespace glint::internal {
namespace {
// Calls in one message at most; a message also stops growing at kBatchBytes
// (a lone call goes alone whatever its size).
constexpr int kMaxBatch = 256;
}  // namespace

std::shared_ptr<CallStream> CallStream::Open(ClientQueue* queue, proto::WorkerService::Stub* stub,
                                             const std::string& lease_id, DoneFn done, ItemFn items) {
  auto s = std::make_shared<CallStream>(std::move(done), std::move(items));
  if (!lease_id.empty()) s->ctx.AddMetadata(kLeaseIdMetadataKey, lease_id);
  absl::MutexLock lock(&s->mu_);
  s->self_ = s;
  s->ops_ = 1;  // the start
  queue->Begin(s.get(), [&](grpc::CompletionQueue* cq) {
    s->rw_ = stub->PrepareAsyncPushTasks(&s->ctx, cq);
    s->rw_->StartCall(&s->start_tag_);
  });
  return s;
}

bool CallStream::Send(proto::TaskSpec& task) {
  absl::MutexLock lock(&mu_);
  if (ended_ || closing_) return false;
  queued_.push_back(std::make_unique<proto::TaskSpec>(std::move(task)));
  WriteLocked();
  return true;
}

void CallStream::Close() {
  absl::MutexLock lock(&mu_);
  closing_ = true;
  WriteLocked();
}

void CallStream::Ack(const proto::GeneratorAck& ack) {
  absl::MutexLock lock(&mu_);
  if (ended_ || writes_done_) return;
  // A later ack of the same generator supersedes one not written yet.
  for (auto& a : acks_) {
    if (a.task_id() == ack.task_id()) {
      a.set_consumed(std::max(a.consumed(), ack.consumed()));
      a.set_close(a.close() || ack.close());
      return;
    }
  }
  acks_.push_back(ack);
  WriteLocked();
}

bool CallStream::HasLocked(const std::string& task_id) const {
  return sent_.contains(task_id) ||
         std::any_of(queued_.begin(), queued_.end(), [&](const auto& t) { return t->task_id() == task_id; });
}

bool CallStream::Has(const std::string& task_id) const {
  absl::MutexLock lock(&mu_);
  return HasLocked(task_id);
}

bool CallStream::Cancel(const proto::CancelRequest& cancel) {
  absl::MutexLock lock(&mu_);
  if (ended_ || writes_done_ || !HasLocked(cancel.task_id())) return false;
  cancels_.push_back(cancel);
  WriteLocked();
  return true;
}

bool CallStream::ended() const {
  absl::MutexLock lock(&mu_);
  return ended_;
}

void CallStream::WriteLocked() {
  if (!started_ || writing_ || ended_ || writes_done_) return;
  if (queued_.empty() && acks_.empty() && cancels_.empty()) {
    if (closing_) {  // WritesDone counts as the one write in flight
      writes_done_ = writing_ = true;
      ++ops_;
      rw_->WritesDone(&write_tag_);
    }
    return;
  }
  // The message borrows the queued specs: Write serializes it before it
  // returns, and sent_ keeps them for the replies (or a retry).
  auto* tasks = out_.mutable_tasks();
  int64_t bytes = 0;
  for (int n = 0; n < kMaxBatch && !queued_.empty() && bytes < kBatchBytes; ++n) {
    auto t = std::move(queued_.front());
    queued_.pop_front();
    if (!queued_.empty()) bytes += static_cast<int64_t>(t->ByteSizeLong());  // a lone call needs no count
    tasks->AddAllocated(t.get());
    std::string id = t->task_id();
    sent_[std::move(id)] = std::move(t);
  }
  for (auto& a : acks_) out_.add_acks()->Swap(&a);
  acks_.clear();
  for (auto& c : cancels_) out_.add_cancels()->Swap(&c);
  cancels_.clear();
  writing_ = true;
  ++ops_;
  rw_->Write(out_, &write_tag_);
  while (!tasks->empty()) (void)tasks->ReleaseLast();
  out_.clear_acks();
  out_.clear_cancels();
}

void CallStream::OnStart(bool ok) {
  absl::MutexLock lock(&mu_);
  if (ok) {  // the start's event becomes the reads'
    started_ = true;
    rw_->Read(&in_, &read_tag_);
    WriteLocked();
    return;
  }
  ended_ = true;
  rw_->Finish(&status_, &finish_tag_);
}

void CallStream::OnRead(bool ok) {
  proto::PushTaskReplyBatch got;
  std::vector<std::unique_ptr<proto::TaskSpec>> tasks;
  std::vector<int> items;  // which replies are generator items of our calls
  {
    absl::MutexLock lock(&mu_);
    if (!ok) {  // the stream is over: get its status
      ended_ = true;
      rw_->Finish(&status_, &finish_tag_);
      return;
    }
    got.Swap(&in_);
    tasks.reserve(got.replies_size());
    for (auto& r : got.replies()) {
      auto it = sent_.find(r.task_id());
      if (it == sent_.end() || r.item_index() > 0) {  // not a call of ours (ignored), or an item
        if (it != sent_.end()) items.push_back(static_cast<int>(tasks.size()));
        tasks.emplace_back();
        continue;
      }
      tasks.push_back(std::move(it->second));
      sent_.erase(it);
    }
    rw_->Read(&in_, &read_tag_);
  }
  std::shared_ptr<CallSink> self = items.empty() ? nullptr : shared_from_this();
  size_t next_item = 0;
  for (int i = 0; i < got.replies_size(); ++i) {
    auto& r = *got.mutable_replies(i);
    if (tasks[i]) {
      done_(*tasks[i], absl::OkStatus(), r);
    } else if (next_item < items.size() && items[next_item] == i) {
      ++next_item;
      if (items_) items_(r.task_id(), r, self);
    }
  }
}

void CallStream::OnWrite(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    --ops_;
    writing_ = false;
    if (ok) WriteLocked();  // a failed write: the read fails too, and ends the stream
  }
  Release();
}

void CallStream::OnFinish(bool) {
  std::vector<std::unique_ptr<proto::TaskSpec>> failed;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    --ops_;
    ended_ = true;
    for (auto& [id, t] : sent_) failed.push_back(std::move(t));
    sent_.clear();
    for (auto& t : queued_) failed.push_back(std::move(t));
    queued_.clear();
    status = status_.ok() ? absl::UnavailableError("the worker closed the call stream") : FromGrpc(status_);
  }
  std::sort(failed.begin(), failed.end(),
            [](const auto& a, const auto& b) { return a->sequence_number() < b->sequence_number(); });
  proto::PushTaskReply none;
  for (auto& t : failed) done_(*t, status, none);
  Release();
}

void CallStream::Release() {
  std::shared_ptr<CallStream> last;
  {
    absl::MutexLock lock(&mu_);
    if (ops_ > 0 || !ended_ || !self_) return;
    last = std::move(self_);
  }
  queue_->Remove(this);
  // `last` may be the final reference: the stream goes with it.
}

}  // namespace glint::internal
