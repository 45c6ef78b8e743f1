// Session directories: what `glint start` and a private cluster leave on
// this machine for the drivers and CLI that come after them. A session
// records its cluster's address (gcs_address), token (auth_token, readable
// by its owner only), TLS settings (tls.json), the daemons' pids and logs.
#pragma once
#include <string>

#include "absl/status/statusor.h"
#include "common/auth.h"

namespace glint {

// Where session directories go: $GLINT_TMPDIR, else /tmp/glint.
std::string SessionRoot();
// Creates <root>/session_<time>_<pid>/logs.
absl::StatusOr<std::string> NewSessionDir();
// Points <root>/session_latest at `dir` (a cluster started there is up).
void MarkLatestSession(const std::string& dir);

// Records a cluster's authentication in `session_dir`; returns the token
// file's path ("" without a token).
absl::StatusOr<std::string> RecordAuth(const std::string& session_dir, const AuthOptions& auth);
// Records the cluster's address (once its GCS is up).
void RecordAddress(const std::string& session_dir, const std::string& gcs_address);

// A worker's log file, in its node's log directory: "worker-<id's first 8
// hex digits>-<pid>.log" ("worker-<...>.log" while its pid is not known).
std::string WorkerLogName(const std::string& worker_id, int pid);
// What every log file name of that worker starts with.
std::string WorkerLogPrefix(const std::string& worker_id);

// What the newest session on this machine recorded for the cluster at
// `gcs_address` (nothing if none did).
AuthOptions LocalClusterAuth(const std::string& gcs_address);

// The settings for talking to the cluster at `gcs_address`: the token as
// given, else $GLINT_AUTH_TOKEN, else the local session's; TLS likewise.
AuthOptions ResolveAuth(AuthOptions given, const std::string& gcs_address);

}  // namespace glint
