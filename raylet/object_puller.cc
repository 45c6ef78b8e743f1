#include "raylet/object_puller.h"

#include <algorithm>

#include "common/ids.h"
#include "common/logging.h"

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
    t = std::make_shared<Transfer>();
    t->id = id;
    t->source = source;
    t->waiters.push_back(std::move(done));
    transfers_[id] = t;
  }
  if (source.size() == 0) return Finish(t);
  absl::MutexLock lock(&t->mu);
  for (int i = 0; i < kInFlight && t->next < source.size(); ++i) ReadNext(t);
}

void ObjectPuller::ReadNext(const std::shared_ptr<Transfer>& t) {
  proto::ReadObjectChunkRequest req;
  req.set_object_id(t->id);
  req.set_offset(t->next);
  req.set_length(std::min(kChunkBytes, t->source.size() - t->next));
  req.set_requester(self_);
  const int64_t offset = req.offset(), length = req.length();
  t->next += length;
  ++t->in_flight;
  CallAsync(queue_, raylets_->Get(t->source.raylet()), &proto::RayletService::Stub::PrepareAsyncReadObjectChunk,
            std::move(req), 60000,
            [this, t, offset, length](const absl::Status& s, proto::ReadObjectChunkReply& rp) {
              bool last = false;
              {
                absl::MutexLock lock(&t->mu);
                --t->in_flight;
                if (t->error.ok()) {
                  if (!s.ok()) {
                    t->error = s;
                  } else if (static_cast<int64_t>(rp.data().size()) != length ||
                             rp.total_size() != t->source.size()) {
                    t->error = absl::DataLossError("a chunk came back with the wrong size");
                  } else {
                    t->error = store_->Write(t->id, offset, rp.data());
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
  }
  for (auto& w : waiters) w(result);
}

}  // namespace glint::raylet
