#include "client/src/node_store.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/src/errors_convert.h"
#include "common/ids.h"

namespace glint::internal {

absl::Status NodeStore::Connect(const std::string& raylet, const std::string& node_id, const std::string& client,
                                const std::string& job_id) {
  raylet_ = raylet;
  node_id_ = node_id;
  client_ = client;
  job_id_ = job_id;
  proto::GetStoreInfoReply reply;
  grpc::ClientContext ctx;
  SetDeadlineMs(&ctx, 5000);
  if (auto s = raylets_->Get(raylet)->GetStoreInfo(&ctx, {}, &reply); !s.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot reach the raylet at ", raylet, ": ", s.error_message()));
  }
  const auto& info = reply.info();
  if (info.inline_threshold() > 0) inline_threshold_ = static_cast<size_t>(info.inline_threshold());
  auto arena = MappedFile::OpenForWrite(info.arena(), static_cast<size_t>(info.capacity()));
  if (!arena.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot map the node's object store: ", arena.status().message()));
  }
  arena_ = *arena;
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
  auto* raylet = raylets_->Get(raylet_);
  proto::CreateObjectReply reply;
  grpc::Status s;
  // A full store may make room as others free objects: retry for a while.
  absl::Time give_up = absl::Now() + absl::Milliseconds(full_wait_ms_);
  int64_t pause_ms = 10;
  for (int attempt = 0;; ++attempt) {
    grpc::ClientContext ctx;
    SetDeadlineMs(&ctx, 60000);
    s = raylet->CreateObject(&ctx, req, &reply);
    if (s.error_code() == grpc::StatusCode::ALREADY_EXISTS && attempt == 0) {
      Free(id, {});  // a retried call's earlier result: replaced
      continue;
    }
    if (s.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED || absl::Now() >= give_up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    pause_ms = std::min<int64_t>(pause_ms * 2, 200);
  }
  auto fail = [&](proto::ErrorType type, const std::string& why) {
    return ErrorValue(type, absl::StrCat("cannot store an object of ", size, " bytes on node ",
                                         ShortHex(node_id_), ": ", why));
  };
  if (!s.ok()) {
    return fail(s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ? proto::OBJECT_STORE_FULL
                                                                        : proto::SYSTEM_ERROR,
                s.error_message());
  }
  if (reply.offset() < 0 || reply.offset() + static_cast<int64_t>(size) > static_cast<int64_t>(arena_->size())) {
    return fail(proto::SYSTEM_ERROR, "the raylet gave a place outside its store");
  }
  write(arena_->data() + reply.offset());
  proto::SealObjectRequest seal;
  seal.set_object_id(id);
  proto::SealObjectReply sealed;
  grpc::ClientContext sctx;
  SetDeadlineMs(&sctx, 60000);
  if (auto ss = raylet->SealObject(&sctx, seal, &sealed); !ss.ok()) return fail(proto::SYSTEM_ERROR, ss.error_message());
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
  auto* stub = raylets_->Get(s.raylet().empty() ? raylet_ : s.raylet());
  CallAsync<proto::FreeObjectsRequest, proto::FreeObjectsReply>(
      std::move(req), 10000,
      [stub](auto* c, const auto& rq, auto* cq) { return stub->PrepareAsyncFreeObjects(c, rq, cq); },
      [](const grpc::Status&, proto::FreeObjectsRequest&, proto::FreeObjectsReply&) {});
}

bool NodeStore::IsLocal(const proto::ObjectValue& v) const {
  return !v.has_stored() || v.stored().node_id() == node_id_;
}

namespace {
proto::ObjectValue PullError(const std::string& id, const proto::StoredObject& s, const grpc::Status& st) {
  if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    return ErrorValue(proto::OBJECT_STORE_FULL, absl::StrCat("no room on this node for object ", ShortHex(id),
                                                             ": ", st.error_message()));
  }
  return ErrorValue(proto::OBJECT_LOST, absl::StrCat("object ", ShortHex(id), " cannot be copied from node ",
                                                     ShortHex(s.node_id()), " (", s.raylet(),
                                                     "): ", st.error_message()));
}
}  // namespace

void NodeStore::Pull(const std::string& id, const proto::StoredObject& s,
                   std::function<void(std::optional<proto::ObjectValue>)> done) {
  proto::PullObjectRequest req;
  req.set_object_id(id);
  *req.mutable_source() = s;
  auto* stub = raylets_->Get(raylet_);
  CallAsync<proto::PullObjectRequest, proto::PullObjectReply>(
      std::move(req), 0,
      [stub](auto* c, const auto& rq, auto* cq) { return stub->PrepareAsyncPullObject(c, rq, cq); },
      [done = std::move(done)](const grpc::Status& st, proto::PullObjectRequest& rq, proto::PullObjectReply&) {
        if (st.ok()) return done(std::nullopt);
        done(PullError(rq.object_id(), rq.source(), st));
      });
}

std::optional<proto::ObjectValue> NodeStore::PullSync(const std::string& id, const proto::StoredObject& s) {
  proto::PullObjectRequest req;
  req.set_object_id(id);
  *req.mutable_source() = s;
  proto::PullObjectReply reply;
  grpc::ClientContext ctx;
  auto st = raylets_->Get(raylet_)->PullObject(&ctx, req, &reply);
  if (st.ok()) return std::nullopt;
  return PullError(id, s, st);
}

bool NodeStore::Pin(const std::string& id, Bytes* out, std::optional<proto::ObjectValue>* error) {
  proto::PinObjectRequest req;
  req.set_object_id(id);
  req.set_client(client_);
  proto::PinObjectReply reply;
  grpc::ClientContext ctx;
  SetDeadlineMs(&ctx, 30000);
  auto* raylet = raylets_->Get(raylet_);
  if (auto s = raylet->PinObject(&ctx, req, &reply); !s.ok()) {
    *error = ErrorValue(proto::SYSTEM_ERROR, "cannot reach this node's raylet: " + s.error_message());
    return false;
  }
  if (!reply.found()) return false;
  // Unpinned when the last holder of the bytes lets go.
  struct Pin {
    proto::PinObjectRequest req;
    proto::RayletService::Stub* raylet;
    std::shared_ptr<MappedFile> file;  // a spilled object's own file
    ~Pin() {
      CallAsync<proto::PinObjectRequest, proto::UnpinObjectReply>(
          std::move(req), 10000,
          [stub = raylet](auto* c, const auto& rq, auto* cq) { return stub->PrepareAsyncUnpinObject(c, rq, cq); },
          [](const grpc::Status&, proto::PinObjectRequest&, proto::UnpinObjectReply&) {});
    }
  };
  auto pin = std::make_shared<Pin>();
  pin->req = std::move(req);
  pin->raylet = raylet;
  if (reply.offset() >= 0) {
    if (reply.offset() + reply.size() > static_cast<int64_t>(arena_->size())) {
      *error = ErrorValue(proto::SYSTEM_ERROR, "the raylet gave a place outside its store");
      return false;
    }
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

}  // namespace glint::internal
