#include "client/src/execute/call_scheduler.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"

#include "common/limits.h"
#include "common/logging.h"
#include "common/process.h"

namespace glint::internal {
namespace {
// The scheduler whose Loop runs on this thread, while it is between calls.
thread_local const CallScheduler* t_idle_loop = nullptr;
}  // namespace

void CallScheduler::Start() {
  absl::MutexLock lock(&mu_);
  StartThread([this] { Loop(); });
}

void CallScheduler::StartThread(std::function<void()> body) {
  ++running_;
  threads_.emplace_back([this, body = std::move(body)] {
    SetThreadName("glint-exec");
    body();
    absl::MutexLock lock(&mu_);
    --running_;
  });
}

void CallScheduler::AddThreads(int n) {
  absl::MutexLock lock(&mu_);
  for (int i = 0; i < n; ++i) StartThread([this] { Loop(); });
}

void CallScheduler::MakeGroups(const std::map<std::string, int>& groups) {
  absl::MutexLock lock(&mu_);
  for (auto& [name, limit] : groups) {
    groups_[name];
    for (int i = 0; i < limit; ++i) StartThread([this, name = name] { GroupLoop(name); });
  }
  has_groups_ = true;
}

IncomingCall* CallScheduler::Withdraw(const std::string& task_id) {
  absl::MutexLock lock(&mu_);
  auto it = std::find_if(ready_.begin(), ready_.end(), [&](IncomingCall* c) {
    return c->task().type() == proto::NORMAL_TASK && c->task().task_id() == task_id;
  });
  if (it == ready_.end()) return nullptr;
  IncomingCall* call = *it;
  ready_.erase(it);
  return call;
}

void CallScheduler::AdmitLocked(IncomingCall* call, std::vector<IncomingCall*>* refused) {
  const auto& spec = call->task();
  if (spec.type() != proto::ACTOR_TASK) {
    ready_.push_back(call);
    return;
  }
  if (spec.caller_id().size() > kMaxIdBytes) {
    refused->push_back(call);
    return;
  }
  auto [entry, is_new] = callers_.try_emplace(spec.caller_id());
  auto& c = entry->second;
  c.last_call = ++admitted_;
  if (is_new && forgotten_.contains(spec.caller_id())) c.next = spec.sequence_number();
  if (spec.sequence_number() > c.next) {
    auto bytes = static_cast<int64_t>(call->req.ByteSizeLong());
    if (early_calls_ >= kMaxEarlyCalls || early_bytes_ + bytes > kMaxEarlyBytes ||
        !c.early.emplace(spec.sequence_number(), Early{call, absl::Now()}).second) {
      refused->push_back(call);
      return;
    }
    ++early_calls_;
    early_bytes_ += bytes;
    return;
  }
  // In order (or a resend of an older one): run it, then any that it unblocks.
  ready_.push_back(call);
  if (spec.sequence_number() == c.next) {
    ++c.next;
    for (auto it = c.early.begin(); it != c.early.end() && it->first == c.next; it = c.early.erase(it)) {
      ready_.push_back(it->second.call);
      --early_calls_;
      early_bytes_ -= static_cast<int64_t>(it->second.call->req.ByteSizeLong());
      ++c.next;
    }
  }
}

void CallScheduler::ExpireEarlyLocked(absl::Time now, std::vector<IncomingCall*>* expired) {
  if (early_calls_ == 0 || now - last_expiry_ < std::min(absl::Seconds(1), early_call_wait_)) return;
  last_expiry_ = now;
  for (auto& [id, c] : callers_) {
    for (auto it = c.early.begin(); it != c.early.end();) {
      if (now - it->second.since < early_call_wait_) {
        ++it;
        continue;
      }
      expired->push_back(it->second.call);
      --early_calls_;
      early_bytes_ -= static_cast<int64_t>(it->second.call->req.ByteSizeLong());
      it = c.early.erase(it);
    }
  }
}

void CallScheduler::ForgetIdleCallersLocked() {
  std::vector<std::pair<uint64_t, std::string>> idle;
  for (const auto& [id, c] : callers_) {
    if (c.early.empty()) idle.emplace_back(c.last_call, id);
  }
  auto half = idle.begin() + static_cast<std::ptrdiff_t>(idle.size() / 2);
  std::nth_element(idle.begin(), half, idle.end());
  for (auto it = idle.begin(); it != half; ++it) {
    callers_.erase(it->second);
    forgotten_.Insert(it->second);
  }
}

void CallScheduler::Admit(std::vector<IncomingCall*>& calls) {
  size_t wake = 0;
  std::vector<IncomingCall*> refused, expired;
  {
    absl::MutexLock lock(&mu_);
    for (auto* c : calls) AdmitLocked(c, &refused);
    if (early_calls_ > 0) ExpireEarlyLocked(absl::Now(), &expired);
    if (callers_.size() > kMaxCallers) ForgetIdleCallersLocked();
    wake = std::min(ready_.size(), threads_.size());
  }
  for (auto* c : expired) {
    refuse_(c, absl::StrCat("call ", c->task().sequence_number(), " of its caller waited ",
                            absl::FormatDuration(early_call_wait_), " for earlier ones that never came"));
  }
  for (auto* c : refused) {
    if (c->task().caller_id().size() > kMaxIdBytes) {
      refuse_(c, absl::StrCat("the call's caller id is longer than ", kMaxIdBytes, " bytes"));
      continue;
    }
    refuse_(c, absl::StrCat("call ", c->task().sequence_number(), " of its caller came before earlier ones that ",
                            "have not, and this worker holds no more such calls (", kMaxEarlyCalls, " calls or ",
                            kMaxEarlyBytes >> 20, " MiB), or holds one of that number already"));
  }
  // An idle queue thread that took these off the wire runs one itself.
  if (t_idle_loop == this && wake > 0) --wake;
  for (size_t i = 0; i < wake; ++i) poller_->Wake();
}

void CallScheduler::Loop() {
  poller_->MarkPollerThread();
  while (true) {
    IncomingCall* call = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (!ready_.empty()) {
        call = ready_.front();
        ready_.pop_front();
      }
    }
    if (call) {
      auto start = std::chrono::steady_clock::now();
      dispatch_(call);
      // After a call long enough for more to come meanwhile (a cancel of
      // the next one, say), read what came before running the next: a
      // few microseconds, paid only after calls of a millisecond or more.
      if (std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(1)) {
        for (int i = 0; i < 64 && poller_->PollOnce(absl::Now()) == QueuePoller::kRan; ++i) {
        }
      }
      continue;
    }
    t_idle_loop = this;
    auto r = poller_->PollOnce(absl::InfiniteFuture());
    t_idle_loop = nullptr;
    if (r == QueuePoller::kShutdown) return;  // the queue is shut down and drained
  }
}

void CallScheduler::RunInGroup(const std::string& group, IncomingCall* call) {
  absl::MutexLock lock(&mu_);
  groups_[group].push_back(call);
}

void CallScheduler::GroupLoop(const std::string& name) {
  while (true) {
    IncomingCall* call;
    {
      absl::MutexLock lock(&mu_);
      auto& q = groups_[name];
      auto ready = [this, &q]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !q.empty() || stopping_; };
      mu_.Await(absl::Condition(&ready));
      if (q.empty()) return;  // stopping
      call = q.front();
      q.pop_front();
    }
    run_(call);
  }
}

void CallScheduler::Stop(absl::Duration grace) {
  std::vector<std::thread> threads;
  bool all_ended;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    auto ended = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return running_ == 0; };
    all_ended = mu_.AwaitWithTimeout(absl::Condition(&ended), grace);
    threads.swap(threads_);
  }
  for (auto& t : threads) {
    if (all_ended && t.get_id() != std::this_thread::get_id()) {
      t.join();
    } else {
      t.detach();
    }
  }
  if (!all_ended) LOG(WARNING) << "executor threads still in user code are left to the process's exit";
}

}  // namespace glint::internal
