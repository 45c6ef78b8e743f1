#include "client/src/objects/object_getter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/src/errors.h"
#include "common/ids.h"
#include "common/queue_poller.h"

namespace glint::internal {
namespace {
absl::Time Deadline(int64_t timeout_ms) {
  return timeout_ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout_ms);
}
int64_t RemainingMs(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  return std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
}
// How often one read has a lost object made again before it gives up.
constexpr int kMaxRebuilds = 3;
}  // namespace

void ObjectGetter::PutAnswer(const RefData& ref, const absl::Status& s, proto::GetObjectReply& reply) {
  if (!s.ok()) {
    store_->Put(ref.id, ErrorValue(proto::OWNER_DIED, absl::StrCat("the owner of object ", ShortHex(ref.id), " at ",
                                                                   ref.owner, " is unreachable: ", s.message())));
  } else if (reply.unknown()) {
    store_->Put(ref.id, ErrorValue(proto::OBJECT_LOST, absl::StrCat("the owner at ", ref.owner, " has no object ",
                                                                    ShortHex(ref.id))));
  } else {
    store_->Put(ref.id, std::move(*reply.mutable_value()));
  }
}

void ObjectGetter::Fetch(const RefData& ref) {
  if (!store_->Expect(ref.id)) return;  // known here: owned, cached or being fetched
  if (ref.owner == self_) {
    store_->Put(ref.id, ErrorValue(proto::OBJECT_LOST, "this process owns no object " + IdHex(ref.id)));
    return;
  }
  owners_->GetObject(ref.owner, ref.id, 0, [this, ref](const absl::Status& s, proto::GetObjectReply& reply) {
    PutAnswer(ref, s, reply);
  });
}

std::optional<proto::ObjectValue> ObjectGetter::Recover(const RefData& ref, const proto::StoredObject& lost) {
  if (ref.owner == self_) return rebuild_(ref.id, lost);
  // The first here to find the copy lost asks the owner, which makes the
  // object again (or says why it cannot); the others wait for its answer.
  if (store_->Reopen(ref.id, lost.node_id())) {
    owners_->RecoverObject(ref.owner, ref.id, lost, [this, ref](const absl::Status& s, proto::GetObjectReply& reply) {
      PutAnswer(ref, s, reply);
    });
  }
  return std::nullopt;
}

std::optional<proto::ObjectValue> ObjectGetter::Read(const RefData& ref, int64_t timeout_ms, Bytes* out,
                                                     const proto::StoredObject* known) {
  std::optional<proto::ObjectValue> v;
  if (known) {
    v.emplace();
    *v->mutable_stored() = *known;
  } else {
    v = Get(ref, timeout_ms);
  }
  if (!v) return v;
  if (!v->has_stored()) {  // inline (or an error): nothing to lose; the hot path
    node_store_->Materialize(ref.id, *v, out);
    return v;
  }
  // A stored value: reading it takes a round trip to the raylet anyway.
  absl::Time deadline = Deadline(timeout_ms);
  for (int rebuilds = 0; v; ++rebuilds) {
    bool stored = v->has_stored();
    proto::StoredObject where = v->stored();
    if (node_store_->Materialize(ref.id, *v, out)) return v;
    if (!stored || v->error().type() != proto::OBJECT_LOST || rebuilds == kMaxRebuilds) return v;
    if (auto why_not = Recover(ref, where)) return why_not;
    v = Get(ref, RemainingMs(deadline));
  }
  return v;
}

std::optional<proto::ObjectValue> ObjectGetter::Get(const RefData& ref, int64_t timeout_ms) {
  if (auto v = store_->TryGet(ref.id)) return v;
  Fetch(ref);
  QueuePoller::BlockingScope blocking;  // in a task: the reply comes in on the cover thread
  absl::Time deadline = Deadline(timeout_ms);
  // Most waits (an actor call's reply) are over before telling the node
  // about them (two round trips) would pay off.
  auto v = store_->Get(ref.id, std::min(deadline, absl::Now() + kBlockedAfter));
  if (v || absl::Now() >= deadline) return v;
  if (on_blocked_) on_blocked_(true);
  v = store_->Get(ref.id, deadline);
  if (on_blocked_) on_blocked_(false);
  return v;
}

std::vector<bool> ObjectGetter::Wait(const std::vector<RefData>& refs, int num_returns, int64_t timeout_ms,
                                     bool fetch_local) {
  std::vector<std::string> ids;
  for (auto& r : refs) {
    Fetch(r);
    ids.push_back(r.id);
  }
  size_t n = std::clamp<size_t>(num_returns < 0 ? 0 : num_returns, 0, refs.size());
  absl::Time deadline = Deadline(timeout_ms);
  QueuePoller::BlockingScope blocking;
  // With fetch_local, stored values count once copied here: the store hands
  // back those to copy as they become ready, and the pulls run in parallel.
  while (true) {
    std::vector<std::pair<std::string, proto::StoredObject>> to_pull;
    auto ready = store_->Wait(ids, n, deadline, fetch_local ? &to_pull : nullptr);
    if (to_pull.empty()) return ready;
    for (auto& [id, stored] : to_pull) {
      // A failed copy counts as done: Get() reports why.
      node_store_->Pull(id, stored, [this, id = id](std::optional<proto::ObjectValue>) { store_->MarkLocal(id); });
    }
  }
}

void ObjectGetter::OnReady(const RefData& ref, std::function<void()> fn) {
  Fetch(ref);
  // A value stored on another node is copied here first, so `fn` can map it.
  store_->OnReady(ref.id, [this, id = ref.id, fn = std::move(fn)](const proto::ObjectValue& v) {
    if (v.error().type() != proto::ERROR_NONE || node_store_->IsLocal(v)) return fn();
    node_store_->Pull(id, v.stored(), [this, id, fn](std::optional<proto::ObjectValue>) {
      store_->MarkLocal(id);
      fn();
    });
  });
}

}  // namespace glint::internal
