#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/cli/cli.h"
#include "common/session.h"
#include "common/tls.h"

namespace glint::cli {

void AddClusterFlags(CLI::App* cmd, ClusterFlags* f, const std::string& address_help) {
  cmd->add_option("--address", f->address, address_help);
  auto* token = cmd->add_option("--auth-token", f->auth_token,
                                "the cluster's token (default: $GLINT_AUTH_TOKEN, else the one a cluster started "
                                "on this machine recorded)");
  cmd->add_option("--auth-token-file", f->auth_token_file, "a file holding the cluster's token")
      ->check(CLI::ExistingFile)
      ->excludes(token);
  auto* cert = cmd->add_option("--tls-cert", f->tls_cert, "this process's certificate (PEM), for TLS")
                   ->check(CLI::ExistingFile);
  auto* key = cmd->add_option("--tls-key", f->tls_key, "its private key (PEM)")->check(CLI::ExistingFile);
  cmd->add_option("--tls-ca", f->tls_ca, "the CA the cluster's certificates are checked against (PEM)")
      ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  cmd->add_flag("--tls-mutual", f->tls_mutual, "servers require a client certificate");
  cmd->add_option("--tls-server-name", f->tls_server_name,
                  "the name servers' certificates are checked for (one certificate for every node)");
}

std::string LatestSession() {
  char buf[4096];
  ssize_t n = readlink((SessionRoot() + "/session_latest").c_str(), buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, n) : std::string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string StartTime(pid_t pid) {
  std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  auto close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && in >> field; ++i) {
  }
  return field;
}

std::string GcsAddress(const ClusterFlags& f) {
  if (!f.address.empty()) return f.address;
  if (const char* e = getenv("GLINT_ADDRESS")) return e;
  std::string latest = LatestSession();
  return latest.empty() ? "" : ReadFile(latest + "/gcs_address");
}

AuthOptions Auth(const ClusterFlags& f, const std::string& gcs) {
  AuthOptions auth;
  auth.token = f.auth_token;
  if (!f.auth_token_file.empty()) {
    auto t = ReadTokenFile(f.auth_token_file);
    if (!t.ok()) throw std::runtime_error(std::string(t.status().message()));
    auth.token = *t;
  }
  auth.tls = TlsFiles{f.tls_cert, f.tls_key, f.tls_ca, f.tls_mutual, f.tls_server_name};
  return ResolveAuth(auth, gcs);
}

}  // namespace glint::cli
