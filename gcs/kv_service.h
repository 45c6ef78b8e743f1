// KvService: the GCS's internal key-value store over gRPC (proto
// KvService), answered from a KvTable. Served by the GCS's server next to
// GcsService, behind the same authentication.
#pragma once
#include "gcs/kv_table.h"
#include "proto/gcs.grpc.pb.h"

namespace glint::gcs {

class KvService final : public proto::KvService::CallbackService {
 public:
  explicit KvService(KvTable* table) : table_(table) {}

  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx, const proto::KvPutRequest* req,
                                proto::KvPutReply* reply) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx, const proto::KvGetRequest* req,
                                proto::KvGetReply* reply) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx, const proto::KvDeleteRequest* req,
                                   proto::KvDeleteReply* reply) override;
  grpc::ServerUnaryReactor* Keys(grpc::CallbackServerContext* ctx, const proto::KvKeysRequest* req,
                                 proto::KvKeysReply* reply) override;

 private:
  KvTable* const table_;
};

}  // namespace glint::gcs
