// KvService: the GCS's internal key-value store over gRPC (proto
// KvService), answered from a KvTable. Served by the GCS's server next to
// GcsService, on the same completion queue, behind the same authentication.
#pragma once
#include "absl/status/status.h"
#include "gcs/kv_table.h"
#include "proto/gcs.grpc.pb.h"

namespace glint::gcs {

class KvService final : public proto::KvService::AsyncService {
 public:
  explicit KvService(KvTable* table) : table_(table) {}
  // Starts taking requests from `cq` (the GCS's queue).
  void Serve(grpc::ServerCompletionQueue* cq);

 private:
  absl::Status Put(const proto::KvPutRequest& req, proto::KvPutReply* reply);
  absl::Status Get(const proto::KvGetRequest& req, proto::KvGetReply* reply);
  absl::Status Delete(const proto::KvDeleteRequest& req, proto::KvDeleteReply* reply);
  absl::Status Keys(const proto::KvKeysRequest& req, proto::KvKeysReply* reply);

  KvTable* const table_;
};

}  // namespace glint::gcs
