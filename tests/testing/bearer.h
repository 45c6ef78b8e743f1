// Call credentials that send a fixed token, as a client outside Glint's own
// code would make them (right or wrong), for tests of authentication.
#pragma once
#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

namespace glint::testing {

class BearerToken final : public grpc::MetadataCredentialsPlugin {
 public:
  explicit BearerToken(std::string token) : token_(std::move(token)) {}
  bool IsBlocking() const override { return false; }
  grpc::Status GetMetadata(grpc::string_ref, grpc::string_ref, const grpc::AuthContext&,
                           std::multimap<grpc::string, grpc::string>* md) override {
    md->emplace("authorization", "Bearer " + token_);
    return grpc::Status::OK;
  }

 private:
  std::string token_;
};

// Call credentials carrying `token`, sent over any transport (a test's own choice).
inline std::shared_ptr<grpc::CallCredentials> BearerCredentials(const std::string& token) {
  return grpc::experimental::MetadataCredentialsFromPlugin(std::make_unique<BearerToken>(token), GRPC_SECURITY_NONE);
}

}  // namespace glint::testing
