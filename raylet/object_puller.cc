#include "raylet/object_puller.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/process.h"
#include "common/rpc.h"
#include "raylet/same_host_copy.h"

namespace glint::raylet {

void ObjectPuller::Pull(const std::string& id, const proto::StoredObject& source, Done done) {
  if (store_->IsSealed(id)) return done(absl::OkStatus());
  std::shared_ptr<Transfer> t;
  {
    absl::MutexLock lock(&mu_);
    auto it = transfers_.find(id);
    if (it != transfers_.end()) {
      it->second->waiters.push_back(std::move(done));
      return;
    }
    auto offset = store_->Create(id, source.size(), {}, /*primary=*/false);
    if (!offset.ok()) {
      if (absl::IsAlreadyExists(offset.status()) && store_->IsSealed(id)) return done(absl::OkStatus());
      return done(offset.status());
    }
    if (!keep_) keep_ = std::make_unique<KeepFreedMemory>();
    t = std::make_shared<Transfer>();
    t->id = id;
    t->source = source;
    t->sources = {source.raylet()};
    t->waiters.push_back(std::move(done));
    transfers_[id] = t;
  }
  if (source.size() == 0) return Finish(t);
  bool borrow = false;
  if (same_host_copy_ && source.size() >= kLendMinBytes) {
    absl::MutexLock lock(&mu_);
    borrow = !chunks_only_.contains(source.raylet());
  }
  if (borrow) return Borrow(t);
  ReadChunks(t);
}

void ObjectPuller::ReadChunks(const std::shared_ptr<Transfer>& t) {
  absl::MutexLock lock(&t->mu);
  for (int i = 0; i < kInFlight && t->next < t->source.size(); ++i) ReadNext(t);
}

void ObjectPuller::Borrow(const std::shared_ptr<Transfer>& t) {
  proto::LendObjectRequest req;
  req.set_object_id(t->id);
  req.set_requester(self_);
  req.set_lease_ms(kLoanMs);
  const absl::Time asked = absl::Now();
  const std::string& lender = t->source.raylet();
  CallAsync(queue_, raylet_stubs_.Get(lender), &proto::RayletService::Stub::PrepareAsyncLendObject, std::move(req),
            10000, [this, t, asked](const absl::Status& s, proto::LendObjectReply& lent) {
              const std::string& lender = t->source.raylet();
              const bool elsewhere = s.ok() && lent.found() && lent.host_id() != HostId();
              if (absl::IsFailedPrecondition(s) || absl::IsUnimplemented(s) || elsewhere) ChunksOnly(lender);
              if (!s.ok() || !lent.found() || elsewhere) {
                if (elsewhere) GiveBackLoan(lender, t->id, lent.client());
                return ReadChunks(t);  // spilled there, or not lendable: chunks
              }
              auto copy = [this, t, asked, lent = std::move(lent)] { CopyLent(t, lent, asked); };
              if (!PostCopy(std::move(copy))) ReadChunks(t);  // stopping: fails at once
            });
}

void ObjectPuller::CopyLent(const std::shared_ptr<Transfer>& t, const proto::LendObjectReply& lent, absl::Time asked) {
  auto copy = std::make_shared<LentCopy>();
  copy->t = t;
  copy->lent = lent;
  copy->asked = asked;
  auto arena = lent.size() == t->source.size() ? LentArena::Open(lent)
                                               : absl::DataLossError("the lent object has another size");
  if (!arena.ok()) {
    copy->status = arena.status();
    return EndCopy(copy);
  }
  copy->arena = std::move(*arena);
  // A large object in parts, one per copying thread: the copy is the
  // kernel's and runs at memory speed, so threads add up.
  const int64_t size = lent.size();
  const int parts = static_cast<int>(std::clamp<int64_t>(size / kCopyPartMinBytes, 1, kCopiers));
  copy->parts_left = parts;
  for (int i = parts - 1; i >= 0; --i) {
    const int64_t from = size / parts * i, to = i == parts - 1 ? size : size / parts * (i + 1);
    auto part = [this, copy, from, to] { CopyPart(copy, from, to - from); };
    if (i == 0 || !PostCopy(part)) part();  // the first here; any when stopping (fails at once)
  }
}

void ObjectPuller::CopyPart(const std::shared_ptr<LentCopy>& copy, int64_t offset, int64_t length) {
  absl::Status s;
  {
    absl::MutexLock lock(&copy_mu_);
    if (stopped_) s = absl::CancelledError("the raylet is stopping");
  }
  if (s.ok()) s = copy->arena->CopyPart(store_, copy->t->id, offset, length);
  {
    absl::MutexLock lock(&copy->mu);
    if (copy->status.ok()) copy->status = s;
    if (--copy->parts_left > 0) return;
  }
  EndCopy(copy);  // the last part to end
}

void ObjectPuller::EndCopy(const std::shared_ptr<LentCopy>& copy) {
  const auto& t = copy->t;
  absl::Status s = copy->status;  // every part has ended
  copy->arena.reset();
  // The lender keeps the pin for kLoanMs from when it was asked: a copy
  // that ended later may have read a range already reused.
  if (s.ok() && absl::Now() - copy->asked >= absl::Milliseconds(kLoanMs)) {
    s = absl::DeadlineExceededError("the copy outlasted its loan");
  }
  GiveBackLoan(t->source.raylet(), t->id, copy->lent.client());
  if (s.ok() || absl::IsCancelled(s)) {
    absl::MutexLock lock(&t->mu);
    t->next = t->source.size();
    t->error = s;
  } else {
    LOG(WARNING) << "copying object " << ShortHex(t->id) << " from " << t->source.raylet() << " through memory failed ("
                 << s << "); reading it in chunks";
    if (absl::IsFailedPrecondition(s)) ChunksOnly(t->source.raylet());
    return ReadChunks(t);
  }
  Finish(t);
}

void ObjectPuller::ChunksOnly(const std::string& source) {
  absl::MutexLock lock(&mu_);
  if (chunks_only_.size() >= kMaxCachedTargets) chunks_only_.clear();  // bounded; asked again at worst
  chunks_only_.insert(source);
}

void ObjectPuller::GiveBackLoan(const std::string& lender, const std::string& id, const std::string& client) {
  proto::PinObjectRequest req;
  req.set_object_id(id);
  req.set_client(client);
  // Unanswered, the loan ends with its lease.
  CallAsync(queue_, raylet_stubs_.Get(lender), &proto::RayletService::Stub::PrepareAsyncUnpinObject, std::move(req),
            5000, [](const absl::Status&, proto::UnpinObjectReply&) {});
}

bool ObjectPuller::PostCopy(std::function<void()> copy) {
  absl::MutexLock lock(&copy_mu_);
  if (stopped_) return false;
  copies_.push_back(std::move(copy));
  if (copiers_.size() < kCopiers) {
    copiers_.emplace_back([this] {
      SetThreadName("glint-copier");
      for (;;) {
        std::function<void()> next;
        {
          absl::MutexLock lock(&copy_mu_);
          copy_mu_.Await(absl::Condition(
              +[](ObjectPuller* p)
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->copy_mu_) { return p->stopped_ || !p->copies_.empty(); },
              this));
          if (copies_.empty()) return;
          next = std::move(copies_.front());
          copies_.pop_front();
        }
        next();
      }
    });
  }
  return true;
}

void ObjectPuller::Stop() {
  std::vector<std::thread> copiers;
  {
    absl::MutexLock lock(&copy_mu_);
    stopped_ = true;
    copiers.swap(copiers_);
  }
  for (auto& c : copiers) c.join();
}

void ObjectPuller::ReadNext(const std::shared_ptr<Transfer>& t) {
  const int64_t offset = t->next, length = std::min(kChunkBytes, t->source.size() - t->next);
  t->next += length;
  // Until the first chunk is in, only the primary is known.
  Read(t, offset, length, t->sources[t->turn++ % t->sources.size()]);
}

void ObjectPuller::Read(const std::shared_ptr<Transfer>& t, int64_t offset, int64_t length, const std::string& from) {
  proto::ReadObjectChunkRequest req;
  req.set_object_id(t->id);
  req.set_offset(offset);
  req.set_length(length);
  req.set_requester(self_);
  ++t->in_flight;
  grpc::ByteBuffer request;
  bool own = false;
  (void)grpc::SerializationTraits<proto::ReadObjectChunkRequest>::Serialize(req, &request, &own);
  auto lane = absl::StrCat("transfer lane ", offset / kChunkBytes % kLanes);
  CallAsync(queue_, chunk_stubs_.Get(from, lane), &ChunkStub::PrepareAsyncRead, std::move(request), 60000,
            [this, t, offset, length, from](const absl::Status& s, grpc::ByteBuffer& reply) {
              const bool from_primary = from == t->source.raylet();
              std::vector<std::string> holders;
              absl::Status st =
                  s.ok() ? WriteChunkReply(&reply, store_, t->id, offset, length, t->source.size(),
                                           offset == 0 && from_primary ? &holders : nullptr)
                         : s;
              bool last = false;
              {
                absl::MutexLock lock(&t->mu);
                --t->in_flight;
                if (!st.ok() && !from_primary && t->error.ok()) {
                  VLOG(1) << "reading a chunk of " << ShortHex(t->id) << " from " << from << " failed (" << st
                          << "); reading it from the primary";
                  t->sources.erase(std::remove(t->sources.begin(), t->sources.end(), from), t->sources.end());
                  Read(t, offset, length, t->source.raylet());
                  return;
                }
                if (t->error.ok()) t->error = st;
                for (auto& h : holders) {
                  if (h != self_ && std::find(t->sources.begin(), t->sources.end(), h) == t->sources.end()) {
                    t->sources.push_back(std::move(h));
                  }
                }
                if (t->error.ok() && t->next < t->source.size()) {
                  ReadNext(t);
                } else {
                  last = t->in_flight == 0;
                }
              }
              if (last) Finish(t);
            });
}

void ObjectPuller::Finish(const std::shared_ptr<Transfer>& t) {
  absl::Status result;
  {
    absl::MutexLock lock(&t->mu);
    result = t->error;
  }
  if (result.ok()) {
    result = store_->Seal(t->id);
  } else {
    store_->Abort(t->id);
    LOG(WARNING) << "pulling object " << ShortHex(t->id) << " from " << t->source.raylet() << " failed: " << result;
  }
  std::vector<Done> waiters;
  {
    absl::MutexLock lock(&mu_);
    waiters.swap(t->waiters);
    transfers_.erase(t->id);
    last_pull_end_ms_ = NowMs();
  }
  for (auto& w : waiters) w(result);
}

void ObjectPuller::GiveBackIdleMemory(int64_t now_ms) {
  std::unique_ptr<KeepFreedMemory> keep;
  {
    absl::MutexLock lock(&mu_);
    if (!keep_ || !transfers_.empty() || now_ms - last_pull_end_ms_ < kKeepMemoryMs) return;
    keep = std::move(keep_);
  }
  // Goes out of this scope unlocked: giving memory back takes a while.
}

}  // namespace glint::raylet
