#include "common/tls.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include <nlohmann/json.hpp>

namespace glint {
namespace {

constexpr int64_t kMaxPemBytes = 1 << 20;

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return absl::NotFoundError(absl::StrCat("cannot read the TLS ", what, " ", path, ": ", ec.message()));
  if (static_cast<int64_t>(size) > kMaxPemBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the TLS ", what, " ", path, " is too large for a PEM file"));
  }
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  if (!f) return absl::PermissionDeniedError(absl::StrCat("cannot read the TLS ", what, " ", path));
  std::string pem = ss.str();
  if (!absl::StrContains(pem, "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat("the TLS ", what, " ", path, " is not a PEM file"));
  }
  return pem;
}

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

std::string Absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  return ec ? path : p.string();
}

}  // namespace

absl::StatusOr<TlsPem> LoadTls(const TlsFiles& files) {
  if (files.ca.empty()) {
    return absl::InvalidArgumentError("TLS needs the CA certificate (--tls-ca) that signed the cluster's certificates");
  }
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError("TLS needs a certificate and its key together (--tls-cert and --tls-key)");
  }
  TlsPem pem;
  auto ca = ReadPem(files.ca, "CA certificate");
  if (!ca.ok()) return ca.status();
  pem.ca = *ca;
  if (!files.cert.empty()) {
    auto cert = ReadPem(files.cert, "certificate");
    if (!cert.ok()) return cert.status();
    auto key = ReadPem(files.key, "key");
    if (!key.ok()) return key.status();
    pem.cert = *cert;
    pem.key = *key;
  }
  return pem;
}

TlsFiles TlsFromEnvironment() {
  TlsFiles t;
  t.cert = Env("GLINT_TLS_CERT");
  t.key = Env("GLINT_TLS_KEY");
  t.ca = Env("GLINT_TLS_CA");
  t.mutual = Env("GLINT_TLS_MUTUAL") == "1";
  t.server_name = Env("GLINT_TLS_SERVER_NAME");
  return t;
}

std::map<std::string, std::string> TlsEnvironment(const TlsFiles& t) {
  if (!t.enabled()) return {};
  std::map<std::string, std::string> env = {
      {"GLINT_TLS_CERT", Absolute(t.cert)}, {"GLINT_TLS_KEY", Absolute(t.key)}, {"GLINT_TLS_CA", Absolute(t.ca)}};
  if (t.mutual) env["GLINT_TLS_MUTUAL"] = "1";
  if (!t.server_name.empty()) env["GLINT_TLS_SERVER_NAME"] = t.server_name;
  return env;
}

std::vector<std::string> TlsFlags(const TlsFiles& t) {
  if (!t.enabled()) return {};
  std::vector<std::string> flags = {absl::StrCat("--tls_cert_file=", Absolute(t.cert)),
                                    absl::StrCat("--tls_key_file=", Absolute(t.key)),
                                    absl::StrCat("--tls_ca_file=", Absolute(t.ca))};
  if (t.mutual) flags.push_back("--tls_mutual");
  if (!t.server_name.empty()) flags.push_back(absl::StrCat("--tls_server_name=", t.server_name));
  return flags;
}

absl::Status WriteTlsRecord(const std::string& path, const TlsFiles& t) {
  nlohmann::json j = {{"cert", Absolute(t.cert)},     {"key", Absolute(t.key)},
                      {"ca", Absolute(t.ca)},         {"mutual", t.mutual},
                      {"server_name", t.server_name}};
  std::ofstream f(path);
  f << j.dump() << "\n";
  if (!f) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

TlsFiles ReadTlsRecord(const std::string& path) {
  std::ifstream f(path);
  TlsFiles t;
  if (!f) return t;
  auto j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return t;
  try {
    t.cert = j.value("cert", "");
    t.key = j.value("key", "");
    t.ca = j.value("ca", "");
    t.mutual = j.value("mutual", false);
    t.server_name = j.value("server_name", "");
  } catch (const nlohmann::json::exception&) {  // a field of another type: not a record of ours
    return TlsFiles{};
  }
  return t;
}

}  // namespace glint
