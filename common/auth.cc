#include "common/auth.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <cstring>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/rpc.h"

namespace glint {
namespace {

constexpr char kHeader[] = "authorization";

std::string BearerOf(const std::string& token) { return absl::StrCat("Bearer ", token); }

// Compares without stopping at the first difference, so the time taken says
// nothing about how much of a guess was right (a token's length is no secret).
bool SameSecret(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

class TokenPlugin final : public grpc::MetadataCredentialsPlugin {
 public:
  explicit TokenPlugin(std::string token) : header_(BearerOf(token)) {}
  bool IsBlocking() const override { return false; }  // runs on the call's own thread
  grpc::Status GetMetadata(grpc::string_ref, grpc::string_ref, const grpc::AuthContext&,
                           std::multimap<grpc::string, grpc::string>* metadata) override {
    metadata->emplace(kHeader, header_);
    return grpc::Status::OK;
  }

 private:
  const std::string header_;
};

class TokenChecker final : public grpc::AuthMetadataProcessor {
 public:
  explicit TokenChecker(std::string token) : expected_(BearerOf(token)) {}
  bool IsBlocking() const override { return false; }  // no thread hop per call
  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext*, OutputMetadata* consumed,
                       OutputMetadata*) override {
    auto it = metadata.find(kHeader);
    if (it == metadata.end()) {
      return ToGrpc(absl::UnauthenticatedError(
          "this Glint cluster requires its token (glint get-auth-token on the head node; pass it with "
          "--auth-token, GLINT_AUTH_TOKEN or Config::auth_token)"));
    }
    if (!SameSecret(absl::string_view(it->second.data(), it->second.size()), expected_)) {
      return ToGrpc(absl::UnauthenticatedError("wrong Glint cluster token"));
    }
    consumed->emplace(kHeader, std::string(it->second.data(), it->second.size()));
    return grpc::Status::OK;
  }

 private:
  const std::string expected_;
};

absl::Mutex g_mu;
AuthOptions g_auth ABSL_GUARDED_BY(g_mu);

}  // namespace

void SetClusterAuth(AuthOptions options) {
  {
    absl::MutexLock lock(&g_mu);
    if (g_auth.token == options.token) return;
    g_auth = std::move(options);
  }
  ChannelPool::Default().Clear();  // channels carry the credentials they were made with
}

bool AuthEnabled() {
  absl::MutexLock lock(&g_mu);
  return !g_auth.token.empty();
}

bool IsLoopback(const std::string& host) {
  return absl::StartsWith(host, "127.") || host == "localhost" || host == "::1" || host == "[::1]";
}

absl::Status CheckAuthServable(const std::string& host) {
  if (IsLoopback(host)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "a node reachable from other hosts (", host,
      ") would send the cluster token in clear text, and Glint has no TLS yet: with authentication on, run "
      "it on 127.0.0.1, or start the cluster with --auth=disabled on a network you trust"));
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(const std::string& target) {
  std::string token;
  {
    absl::MutexLock lock(&g_mu);
    token = g_auth.token;
  }
  if (token.empty()) return grpc::InsecureChannelCredentials();
  auto colon = target.rfind(':');
  std::string host = colon == std::string::npos ? target : target.substr(0, colon);
  if (!IsLoopback(host)) return grpc::InsecureChannelCredentials();  // refused by the server: no token
  return grpc::CompositeChannelCredentials(
      grpc::experimental::LocalCredentials(LOCAL_TCP),
      grpc::experimental::MetadataCredentialsFromPlugin(std::make_unique<TokenPlugin>(token), GRPC_SECURITY_NONE));
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(const std::string& host) {
  std::string token;
  {
    absl::MutexLock lock(&g_mu);
    token = g_auth.token;
  }
  if (token.empty()) return grpc::InsecureServerCredentials();
  if (auto s = CheckAuthServable(host); !s.ok()) return s;
  auto creds = grpc::experimental::LocalServerCredentials(LOCAL_TCP);
  creds->SetAuthMetadataProcessor(std::make_shared<TokenChecker>(token));
  return creds;
}

std::string NewAuthToken() {
  std::random_device rd;  // the kernel's randomness
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 8; ++i) {
    uint32_t word = rd();
    for (int j = 0; j < 8; ++j, word >>= 4) token.push_back(kHex[word & 0xf]);
  }
  return token;
}

absl::Status WriteTokenFile(const std::string& path, const std::string& token) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp, ": ", strerror(errno)));
  bool ok = fchmod(fd, 0600) == 0 && write(fd, token.data(), token.size()) == static_cast<ssize_t>(token.size());
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot write the token file ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat("no token file ", path));
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    return absl::PermissionDeniedError(
        absl::StrCat("the token file ", path, " may be read by others; make it its owner's only (chmod 600)"));
  }
  std::ifstream f(path);
  std::string token;
  if (!(f >> token) || token.empty()) return absl::InvalidArgumentError(absl::StrCat("no token in ", path));
  return token;
}

}  // namespace glint
