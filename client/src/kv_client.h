// KvClient: this process's calls to the GCS's internal key-value store
// (proto KvService; gcs/kv_table.h has its rules and bounds). Blocking,
// waiting for a GCS that does not answer as GcsClient's calls do. Nothing
// here throws. Thread-safe.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/src/gcs_client.h"
#include "proto/gcs.grpc.pb.h"

namespace glint::internal {

class KvClient {
 public:
  // Borrows `gcs`, which must outlive it.
  explicit KvClient(GcsClient* gcs) : gcs_(gcs), stub_(MakeStub<proto::KvService>(gcs->address())) {}

  absl::StatusOr<bool> Put(const std::string& ns, const std::string& key, const std::string& value, bool overwrite);
  absl::StatusOr<std::optional<std::string>> Get(const std::string& ns, const std::string& key);
  // Whether the key is there, without its value coming over.
  absl::StatusOr<bool> Exists(const std::string& ns, const std::string& key);
  absl::StatusOr<int64_t> Delete(const std::string& ns, const std::string& key, bool by_prefix);
  absl::StatusOr<std::vector<std::string>> Keys(const std::string& ns, const std::string& prefix);

 private:
  template <typename Req, typename Reply, typename Method>
  absl::Status Call(Method method, const Req& req, Reply* reply);

  GcsClient* const gcs_;
  std::unique_ptr<proto::KvService::Stub> stub_;
};

}  // namespace glint::internal
