#include "gcs/kv_service.h"

#include "common/server_call.h"

namespace glint::gcs {

void KvService::Serve(grpc::ServerCompletionQueue* cq) {
  using S = proto::KvService::AsyncService;
  ServeUnary(this, cq, &S::RequestPut, this, &KvService::Put);
  ServeUnary(this, cq, &S::RequestGet, this, &KvService::Get);
  ServeUnary(this, cq, &S::RequestDelete, this, &KvService::Delete);
  ServeUnary(this, cq, &S::RequestKeys, this, &KvService::Keys);
}

absl::Status KvService::Put(const proto::KvPutRequest& req, proto::KvPutReply* reply) {
  auto added = table_->Put(req.ns(), req.key(), req.value(), req.overwrite());
  if (added.ok()) reply->set_added(*added);
  return added.status();
}

absl::Status KvService::Get(const proto::KvGetRequest& req, proto::KvGetReply* reply) {
  if (req.exists_only()) {
    auto found = table_->Contains(req.ns(), req.key());
    if (found.ok()) reply->set_found(*found);
    return found.status();
  }
  auto value = table_->Get(req.ns(), req.key());
  if (value.ok() && value->has_value()) {
    reply->set_found(true);
    reply->set_value(std::move(**value));
  }
  return value.status();
}

absl::Status KvService::Delete(const proto::KvDeleteRequest& req, proto::KvDeleteReply* reply) {
  auto n = table_->Delete(req.ns(), req.key(), req.by_prefix());
  if (n.ok()) reply->set_deleted(*n);
  return n.status();
}

absl::Status KvService::Keys(const proto::KvKeysRequest& req, proto::KvKeysReply* reply) {
  bool truncated = false;
  auto keys = table_->Keys(req.ns(), req.prefix(), &truncated);
  if (keys.ok()) {
    for (auto& k : *keys) reply->add_keys(std::move(k));
    reply->set_truncated(truncated);
  }
  return keys.status();
}

}  // namespace glint::gcs
