// The flags every daemon (glint-gcs, glint-raylet) takes for the cluster's
// authentication: --auth_token_file (else $GLINT_AUTH_TOKEN) or
// --auth_disabled, and --tls_cert_file,
// --tls_key_file, --tls_ca_file, --tls_mutual, --tls_server_name.
#pragma once
#include "absl/status/statusor.h"
#include "common/auth.h"

namespace glint {

// After absl::ParseCommandLine: makes the flags the process's settings
// (SetClusterAuth) and returns them. Neither a token nor --auth_disabled is
// an error, so a daemon never runs open by accident; --auth_disabled is
// logged as a warning.
absl::StatusOr<AuthOptions> SetUpDaemonAuth(const char* name);

}  // namespace glint
