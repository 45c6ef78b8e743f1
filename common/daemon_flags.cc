#include "common/daemon_flags.h"

#include <glog/logging.h>
#include <stdlib.h>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, auth_token_file, "", "the cluster token (a file readable by its owner only)");
ABSL_FLAG(bool, auth_disabled, false, "take calls without the cluster token (anyone may run code)");
ABSL_FLAG(std::string, tls_cert_file, "", "this node's TLS certificate chain (PEM); with the key and CA: TLS");
ABSL_FLAG(std::string, tls_key_file, "", "the private key of --tls_cert_file (PEM)");
ABSL_FLAG(std::string, tls_ca_file, "", "the CA that signed the cluster's certificates (PEM)");
ABSL_FLAG(bool, tls_mutual, false, "require a certificate signed by the CA of every client too");
ABSL_FLAG(std::string, tls_server_name, "", "check peers' certificates for this name instead of their host");

namespace glint {

absl::StatusOr<AuthOptions> SetUpDaemonAuth(const char* name) {
  AuthOptions auth;
  auth.tls.cert = absl::GetFlag(FLAGS_tls_cert_file);
  auth.tls.key = absl::GetFlag(FLAGS_tls_key_file);
  auth.tls.ca = absl::GetFlag(FLAGS_tls_ca_file);
  auth.tls.mutual = absl::GetFlag(FLAGS_tls_mutual);
  auth.tls.server_name = absl::GetFlag(FLAGS_tls_server_name);
  if (absl::GetFlag(FLAGS_auth_disabled)) {
    LOG(WARNING) << name << ": authentication is DISABLED: anyone who can reach this node can run code on it";
  } else {
    std::string file = absl::GetFlag(FLAGS_auth_token_file);
    const char* env = getenv("GLINT_AUTH_TOKEN");
    if (!file.empty()) {
      auto token = ReadTokenFile(file);
      if (!token.ok()) return token.status();
      auth.token = *token;
    } else if (env && *env) {  // e.g. from a Kubernetes Secret
      auth.token = env;
    } else {
      return absl::InvalidArgumentError(
          "give the cluster token with --auth_token_file or $GLINT_AUTH_TOKEN, or run open with --auth_disabled");
    }
    unsetenv("GLINT_AUTH_TOKEN");  // the raylet hands it to its workers itself
  }
  if (auto s = SetClusterAuth(auth); !s.ok()) return s;
  return auth;
}

}  // namespace glint
