#include "client/src/objects/node_store.h"


#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/src/errors.h"
#include "common/ids.h"

namespace glint::internal {
namespace {
using Stub = proto::RayletService::Stub;
}  // namespace

absl::Status NodeStore::Connect(const std::string& raylet, const std::string& node_id, const std::string& client,
                                const std::string& job_id) {
  raylet_ = raylet;
  node_id_ = node_id;
  client_ = client;
  job_id_ = job_id;
  proto::GetStoreInfoReply reply;
  // A node busy starting many workers may take a while to answer.
  if (auto s = BlockingCall(queue_, raylets_->Get(raylet), &Stub::PrepareAsyncGetStoreInfo, {}, 30000, &reply,
                            /*wait_for_ready=*/true);
      !s.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot reach the raylet at ", raylet, ": ", s.message()));
  }
  const auto& info = reply.info();
  if (info.inline_threshold() > 0) inline_threshold_ = static_cast<size_t>(info.inline_threshold());
  auto arena = MappedFile::OpenForWrite(info.arena(), static_cast<size_t>(info.capacity()));
  if (!arena.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot map the node's object store: ", arena.status().message()));
  }
  arena_ = *arena;
  absl::MutexLock lock(&unpinner_->mu);
  unpinner_->queue = queue_;
  unpinner_->raylet = raylets_->Get(raylet_);
  return absl::OkStatus();
}

proto::ObjectValue NodeStore::Store(const std::string& id, size_t size, const std::function<void(char*)>& write,
                                     const proto::Address& owner) {
  proto::CreateObjectRequest req;
  req.set_object_id(id);
  req.set_size(static_cast<int64_t>(size));
  req.set_owner(AddrString(owner));
  req.set_owner_worker_id(owner.worker_id());
  req.set_job_id(job_id_);
  auto raylet = raylets_->Get(raylet_);
  proto::CreateObjectReply reply;
  absl::Status s;
  // A full store may make room as others free objects: retry for a while.
  absl::Time give_up = absl::Now() + absl::Milliseconds(full_wait_ms_);
  int64_t pause_ms = 10;
  for (int attempt = 0;; ++attempt) {
    s = BlockingCall(queue_, raylet, &Stub::PrepareAsyncCreateObject, req, 60000, &reply);
    if (absl::IsAlreadyExists(s) && attempt == 0) {
      Free(id, {});  // a retried call's earlier result: replaced
      continue;
    }
    if (!absl::IsResourceExhausted(s) || absl::Now() >= give_up) break;
    absl::SleepFor(absl::Milliseconds(pause_ms));
    pause_ms = std::min<int64_t>(pause_ms * 2, 200);
  }
  auto fail = [&](proto::ErrorType type, const std::string& why) {
    return ErrorValue(type, absl::StrCat("cannot store an object of ", size, " bytes on node ",
                                         ShortHex(node_id_), ": ", why));
  };
  if (!s.ok()) {
    return fail(absl::IsResourceExhausted(s) ? proto::OBJECT_STORE_FULL : proto::SYSTEM_ERROR,
                std::string(s.message()));
  }
  if (reply.offset() < 0 || reply.offset() + static_cast<int64_t>(size) > static_cast<int64_t>(arena_->size())) {
    return fail(proto::SYSTEM_ERROR, "the raylet gave a place outside its store");
  }
  write(arena_->data() + reply.offset());
  proto::SealObjectRequest seal;
  seal.set_object_id(id);
  proto::SealObjectReply sealed;
  if (auto ss = BlockingCall(queue_, raylet, &Stub::PrepareAsyncSealObject, std::move(seal), 60000, &sealed);
      !ss.ok()) {
    return fail(proto::SYSTEM_ERROR, std::string(ss.message()));
  }
  proto::ObjectValue v;
  auto* st = v.mutable_stored();
  st->set_node_id(node_id_);
  st->set_raylet(raylet_);
  st->set_size(static_cast<int64_t>(size));
  return v;
}

void NodeStore::Free(const std::string& id, const proto::StoredObject& s) {
  proto::FreeObjectsRequest req;
  req.add_object_ids(id);
  const std::string& where = s.raylet().empty() ? raylet_ : s.raylet();
  SendOneWay(queue_, raylets_->Get(where), &Stub::PrepareAsyncFreeObjects, std::move(req), 10000,
             absl::StrCat("freeing object ", ShortHex(id), " on ", where));
}

bool NodeStore::IsLocal(const proto::ObjectValue& v) const {
  return !v.has_stored() || v.stored().node_id() == node_id_;
}

namespace {
proto::ObjectValue PullError(const std::string& id, const proto::StoredObject& s, const absl::Status& st) {
  if (absl::IsResourceExhausted(st)) {
    return ErrorValue(proto::OBJECT_STORE_FULL,
                      absl::StrCat("no room on this node for object ", ShortHex(id), ": ", st.message()));
  }
  return ErrorValue(proto::OBJECT_LOST, absl::StrCat("object ", ShortHex(id), " cannot be copied from node ",
                                                     ShortHex(s.node_id()), " (", s.raylet(), "): ", st.message()));
}
}  // namespace

void NodeStore::Pull(const std::string& id, const proto::StoredObject& s,
                   std::function<void(std::optional<proto::ObjectValue>)> done) {
  proto::PullObjectRequest req;
  req.set_object_id(id);
  *req.mutable_source() = s;
  CallAsync(queue_, raylets_->Get(raylet_), &Stub::PrepareAsyncPullObject, std::move(req), 0,
            [id, s, done = std::move(done)](const absl::Status& st, proto::PullObjectReply&) {
              if (st.ok()) return done(std::nullopt);
              done(PullError(id, s, st));
            });
}

std::optional<proto::ObjectValue> NodeStore::PullSync(const std::string& id, const proto::StoredObject& s) {
  proto::PullObjectRequest req;
  req.set_object_id(id);
  *req.mutable_source() = s;
  proto::PullObjectReply reply;
  auto st = BlockingCall(queue_, raylets_->Get(raylet_), &Stub::PrepareAsyncPullObject, std::move(req), 0, &reply);
  if (st.ok()) return std::nullopt;
  return PullError(id, s, st);
}

bool NodeStore::Pin(const std::string& id, Bytes* out, std::optional<proto::ObjectValue>* error) {
  proto::PinObjectRequest req;
  req.set_object_id(id);
  req.set_client(client_);
  proto::PinObjectReply reply;
  if (auto s = BlockingCall(queue_, raylets_->Get(raylet_), &Stub::PrepareAsyncPinObject, req, 30000, &reply);
      !s.ok()) {
    *error = ErrorValue(proto::SYSTEM_ERROR, absl::StrCat("cannot reach this node's raylet: ", s.message()));
    return false;
  }
  if (!reply.found()) return false;
  // Unpinned when the last holder of the bytes lets go (while this process
  // still runs; after Stop() the raylet drops its pins itself).
  struct Pin {
    proto::PinObjectRequest req;
    std::shared_ptr<Unpinner> unpinner;
    std::shared_ptr<MappedFile> file;  // the arena, or a spilled object's own file
    ~Pin() {
      absl::MutexLock lock(&unpinner->mu);
      if (!unpinner->queue) return;
      std::string what = absl::StrCat("unpinning object ", ShortHex(req.object_id()));
      SendOneWay(unpinner->queue, unpinner->raylet, &Stub::PrepareAsyncUnpinObject, std::move(req), 10000,
                 std::move(what));
    }
  };
  auto pin = std::make_shared<Pin>();
  pin->req = std::move(req);
  pin->unpinner = unpinner_;
  if (reply.offset() >= 0) {
    if (reply.offset() + reply.size() > static_cast<int64_t>(arena_->size())) {
      *error = ErrorValue(proto::SYSTEM_ERROR, "the raylet gave a place outside its store");
      return false;
    }
    pin->file = arena_;
    *out = Bytes(pin, arena_->data() + reply.offset(), static_cast<size_t>(reply.size()));
    return true;
  }
  auto file = MappedFile::Open(reply.spill_path());
  if (!file.ok()) {
    *error = ErrorValue(proto::SYSTEM_ERROR, std::string(file.status().message()));
    return false;
  }
  pin->file = *file;
  *out = Bytes(pin, pin->file->data(), pin->file->size());
  return true;
}

bool NodeStore::Materialize(const std::string& id, proto::ObjectValue& v, Bytes* out) {
  if (v.error().type() != proto::ERROR_NONE) return false;
  if (!v.has_stored()) {
    *out = Bytes(std::move(*v.mutable_data()));
    return true;
  }
  const proto::StoredObject s = v.stored();
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::optional<proto::ObjectValue> error;
    if (Pin(id, out, &error)) return true;
    if (error) {
      v = std::move(*error);
      return false;
    }
    if (s.node_id() == node_id_ || attempt > 0) break;
    if (auto failed = PullSync(id, s)) {
      v = std::move(*failed);
      return false;
    }
  }
  v = ErrorValue(proto::OBJECT_LOST, absl::StrCat("object ", ShortHex(id), " is no longer in the object store of node ",
                                                  ShortHex(s.node_id()), " (freed, or lost with its node)"));
  return false;
}

void NodeStore::Stop() {
  absl::MutexLock lock(&unpinner_->mu);
  unpinner_->queue = nullptr;
  unpinner_->raylet = nullptr;
}

}  // namespace glint::internal
