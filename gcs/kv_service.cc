#include "gcs/kv_service.h"

#include "common/server_call.h"

namespace glint::gcs {

grpc::ServerUnaryReactor* KvService::Put(grpc::CallbackServerContext* ctx, const proto::KvPutRequest* req,
                                         proto::KvPutReply* reply) {
  auto added = table_->Put(req->ns(), req->key(), req->value(), req->overwrite());
  if (added.ok()) reply->set_added(*added);
  return FinishUnary(ctx, added.status());
}

grpc::ServerUnaryReactor* KvService::Get(grpc::CallbackServerContext* ctx, const proto::KvGetRequest* req,
                                         proto::KvGetReply* reply) {
  auto value = table_->Get(req->ns(), req->key());
  if (value.ok() && value->has_value()) {
    reply->set_found(true);
    reply->set_value(std::move(**value));
  }
  return FinishUnary(ctx, value.status());
}

grpc::ServerUnaryReactor* KvService::Delete(grpc::CallbackServerContext* ctx, const proto::KvDeleteRequest* req,
                                            proto::KvDeleteReply* reply) {
  auto n = table_->Delete(req->ns(), req->key(), req->by_prefix());
  if (n.ok()) reply->set_deleted(*n);
  return FinishUnary(ctx, n.status());
}

grpc::ServerUnaryReactor* KvService::Keys(grpc::CallbackServerContext* ctx, const proto::KvKeysRequest* req,
                                          proto::KvKeysReply* reply) {
  bool truncated = false;
  auto keys = table_->Keys(req->ns(), req->prefix(), &truncated);
  if (keys.ok()) {
    for (auto& k : *keys) reply->add_keys(std::move(k));
    reply->set_truncated(truncated);
  }
  return FinishUnary(ctx, keys.status());
}

}  // namespace glint::gcs
