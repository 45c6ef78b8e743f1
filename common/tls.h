// TLS settings of a Glint process: which PEM files hold its certificate, its
// key and the CA that signed the cluster's certificates, and whether servers
// require a certificate of their clients too (mutual TLS). Every Glint
// process serves (drivers and workers answer their owners' questions), so a
// process with TLS has a certificate and key of its own; a client-only
// process (the CLI) may have the CA alone unless the cluster is mutual.
//
// Where they come from: flags of the daemons and the CLI, Config for a
// driver, the environment (GLINT_TLS_CERT, GLINT_TLS_KEY, GLINT_TLS_CA,
// GLINT_TLS_MUTUAL, GLINT_TLS_SERVER_NAME; a raylet hands them to its
// workers so), or the session of a cluster started on this machine.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace glint {

struct TlsFiles {
  std::string cert;         // this process's certificate chain (PEM)
  std::string key;          // its private key (PEM)
  std::string ca;           // the CA certificates peers are checked against (PEM)
  bool mutual = false;      // servers require and check a client certificate
  // The name servers' certificates are checked for, in place of the host of
  // each address (one certificate for all nodes, e.g. in Kubernetes).
  std::string server_name;
  bool enabled() const { return !cert.empty() || !key.empty() || !ca.empty(); }
  bool operator==(const TlsFiles&) const = default;
};

// The files' contents, read once when the settings are made.
struct TlsPem {
  std::string cert, key, ca;
};

// Reads and checks the files: a CA is needed, a certificate and key come
// together, and a mutual cluster needs them. A clear error names the file.
absl::StatusOr<TlsPem> LoadTls(const TlsFiles& files);

// From the GLINT_TLS_* environment variables (none: no TLS).
TlsFiles TlsFromEnvironment();
// The environment variables that hand `files` to a child process.
std::map<std::string, std::string> TlsEnvironment(const TlsFiles& files);
// The daemon flags that hand `files` to glint-gcs and glint-raylet.
std::vector<std::string> TlsFlags(const TlsFiles& files);

// Kept in a session directory so that drivers and the CLI on this machine
// find a cluster's TLS settings by its address (paths are made absolute).
absl::Status WriteTlsRecord(const std::string& path, const TlsFiles& files);
TlsFiles ReadTlsRecord(const std::string& path);

}  // namespace glint
