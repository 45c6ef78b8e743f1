#include "raylet/object_puller.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/rpc.h"

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
  absl::MutexLock lock(&t->mu);
  for (int i = 0; i < kInFlight && t->next < source.size(); ++i) ReadNext(t);
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
