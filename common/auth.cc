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

}  // namespace

bool SameSecret(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

namespace {

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

// The process's settings, with the TLS files' contents.
struct Settings {
  AuthOptions options;
  TlsPem pem;
};

absl::Mutex g_mu;
Settings g_settings ABSL_GUARDED_BY(g_mu);

Settings Current() {
  absl::MutexLock lock(&g_mu);
  return g_settings;
}

std::shared_ptr<grpc::CallCredentials> TokenCredentials(const std::string& token, grpc_security_level level) {
  return grpc::experimental::MetadataCredentialsFromPlugin(std::make_unique<TokenPlugin>(token), level);
}

}  // namespace

absl::Status SetClusterAuth(AuthOptions options) {
  Settings next;
  if (options.tls.enabled()) {
    auto pem = LoadTls(options.tls);
    if (!pem.ok()) return pem.status();
    if (options.tls.mutual && pem->cert.empty()) {
      return absl::InvalidArgumentError("a cluster with mutual TLS needs this process's certificate and key too");
    }
    next.pem = *std::move(pem);
  }
  next.options = std::move(options);
  {
    absl::MutexLock lock(&g_mu);
    if (g_settings.options.token == next.options.token && g_settings.options.tls == next.options.tls &&
        g_settings.pem.cert == next.pem.cert && g_settings.pem.key == next.pem.key &&
        g_settings.pem.ca == next.pem.ca) {
      return absl::OkStatus();
    }
    g_settings = std::move(next);
  }
  ChannelPool::Default().Clear();  // channels carry the credentials they were made with
  return absl::OkStatus();
}

bool AuthEnabled() {
  absl::MutexLock lock(&g_mu);
  return !g_settings.options.token.empty();
}

bool TlsEnabled() {
  absl::MutexLock lock(&g_mu);
  return g_settings.options.tls.enabled();
}

bool IsLoopback(const std::string& host) {
  return absl::StartsWith(host, "127.") || host == "localhost" || host == "::1" || host == "[::1]";
}

absl::Status CheckAuthServable(const std::string& host, bool tls) {
  if (tls || IsLoopback(host)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "a node reachable from other hosts (", host,
      ") would send the cluster token in clear text: with authentication on, give it TLS (--tls-cert, --tls-key, "
      "--tls-ca), or run it on 127.0.0.1, or start the cluster with --auth=disabled on a network you trust"));
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(const std::string& target,
                                                                grpc::ChannelArguments* args) {
  Settings s = Current();
  const std::string& token = s.options.token;
  if (s.options.tls.enabled()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = s.pem.ca;
    ssl.pem_private_key = s.pem.key;
    ssl.pem_cert_chain = s.pem.cert;
    if (!s.options.tls.server_name.empty()) args->SetSslTargetNameOverride(s.options.tls.server_name);
    auto creds = grpc::SslCredentials(ssl);
    if (token.empty()) return creds;
    return grpc::CompositeChannelCredentials(creds, TokenCredentials(token, GRPC_PRIVACY_AND_INTEGRITY));
  }
  if (token.empty()) return grpc::InsecureChannelCredentials();
  auto colon = target.rfind(':');
  std::string host = colon == std::string::npos ? target : target.substr(0, colon);
  if (!IsLoopback(host)) return grpc::InsecureChannelCredentials();  // refused by the server: no token
  // Local credentials rank as GRPC_SECURITY_NONE; the peer is on this host.
  return grpc::CompositeChannelCredentials(grpc::experimental::LocalCredentials(LOCAL_TCP),
                                           TokenCredentials(token, GRPC_SECURITY_NONE));
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(const std::string& host) {
  Settings s = Current();
  const std::string& token = s.options.token;
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (s.options.tls.enabled()) {
    if (s.pem.cert.empty()) {
      return absl::InvalidArgumentError("a Glint server with TLS needs its certificate and key (--tls-cert, --tls-key)");
    }
    grpc::SslServerCredentialsOptions ssl(s.options.tls.mutual
                                              ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                              : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    ssl.pem_root_certs = s.pem.ca;
    ssl.pem_key_cert_pairs.push_back({s.pem.key, s.pem.cert});
    creds = grpc::SslServerCredentials(ssl);
  } else if (!token.empty()) {
    if (auto st = CheckAuthServable(host, false); !st.ok()) return st;
    creds = grpc::experimental::LocalServerCredentials(LOCAL_TCP);
  } else {
    return grpc::InsecureServerCredentials();
  }
  if (!token.empty()) creds->SetAuthMetadataProcessor(std::make_shared<TokenChecker>(token));
  return creds;
}

std::map<std::string, std::string> AuthEnvironment(const AuthOptions& options) {
  auto env = TlsEnvironment(options.tls);
  if (!options.token.empty()) env["GLINT_AUTH_TOKEN"] = options.token;
  return env;
}

AuthOptions AuthFromEnvironment() {
  AuthOptions o;
  if (const char* t = getenv("GLINT_AUTH_TOKEN")) o.token = t;
  o.tls = TlsFromEnvironment();
  return o;
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
