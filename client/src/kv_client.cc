#include "client/src/kv_client.h"

#include "common/async_call.h"

namespace glint::internal {
namespace {
using Stub = proto::KvService::Stub;
constexpr int64_t kTimeoutMs = 10000;
}  // namespace

template <typename Req, typename Reply, typename Method>
absl::Status KvClient::Call(Method method, const Req& req, Reply* reply) {
  return gcs_->Retrying([&] { return BlockingCall(gcs_->queue(), stub_.get(), method, req, kTimeoutMs, reply); });
}

absl::StatusOr<bool> KvClient::Put(const std::string& ns, const std::string& key, const std::string& value,
                                   bool overwrite) {
  proto::KvPutRequest req;
  req.set_ns(ns);
  req.set_key(key);
  req.set_value(value);
  req.set_overwrite(overwrite);
  proto::KvPutReply reply;
  if (auto s = Call(&Stub::PrepareAsyncPut, req, &reply); !s.ok()) return s;
  return reply.added();
}

absl::StatusOr<std::optional<std::string>> KvClient::Get(const std::string& ns, const std::string& key) {
  proto::KvGetRequest req;
  req.set_ns(ns);
  req.set_key(key);
  proto::KvGetReply reply;
  if (auto s = Call(&Stub::PrepareAsyncGet, req, &reply); !s.ok()) return s;
  if (!reply.found()) return std::nullopt;
  return std::move(*reply.mutable_value());
}

absl::StatusOr<bool> KvClient::Exists(const std::string& ns, const std::string& key) {
  proto::KvGetRequest req;
  req.set_ns(ns);
  req.set_key(key);
  req.set_exists_only(true);
  proto::KvGetReply reply;
  if (auto s = Call(&Stub::PrepareAsyncGet, req, &reply); !s.ok()) return s;
  return reply.found();
}

absl::StatusOr<int64_t> KvClient::Delete(const std::string& ns, const std::string& key, bool by_prefix) {
  proto::KvDeleteRequest req;
  req.set_ns(ns);
  req.set_key(key);
  req.set_by_prefix(by_prefix);
  proto::KvDeleteReply reply;
  if (auto s = Call(&Stub::PrepareAsyncDelete, req, &reply); !s.ok()) return s;
  return reply.deleted();
}

absl::StatusOr<std::vector<std::string>> KvClient::Keys(const std::string& ns, const std::string& prefix) {
  proto::KvKeysRequest req;
  req.set_ns(ns);
  req.set_prefix(prefix);
  proto::KvKeysReply reply;
  if (auto s = Call(&Stub::PrepareAsyncKeys, req, &reply); !s.ok()) return s;
  if (reply.truncated()) {
    return absl::ResourceExhaustedError("more keys match than one answer holds (8 MiB of keys): use a longer prefix");
  }
  return std::vector<std::string>(reply.keys().begin(), reply.keys().end());
}

}  // namespace glint::internal
