// Cluster authentication: every call a Glint process makes carries the
// cluster's token ("authorization: Bearer <token>", added by call
// credentials), and every Glint server checks it in one place (an
// AuthMetadataProcessor) before any handler runs; a call without the right
// token ends UNAUTHENTICATED and does nothing.
//
// gRPC sends call credentials only over a channel with transport security,
// and its servers run an auth processor only then too. Between processes on
// one host Glint uses gRPC's local credentials (loopback TCP: the peer is
// known to be on this machine); a node reachable from other hosts needs TLS
// (not yet: such a node is refused while authentication is on).
//
// The settings are the process's: set once, before its first channel or
// server (Init, a daemon's main); setting them again (a new Init) drops the
// channels made with the old ones. Thread-safe.
#pragma once
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace glint {

struct AuthOptions {
  // The cluster token; empty: authentication is off (no token sent or asked).
  std::string token;
};

void SetClusterAuth(AuthOptions options);
bool AuthEnabled();
// What a channel to `target` ("host:port") and a server on `host` use.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(const std::string& target);
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(const std::string& host);

// A new random token (256 bits, hex).
std::string NewAuthToken();
// Token files hold the token and nothing else, readable by their owner only.
absl::Status WriteTokenFile(const std::string& path, const std::string& token);
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);
// True for 127.0.0.0/8, ::1 and localhost.
bool IsLoopback(const std::string& host);
// Whether a server with authentication on may listen on `host` (until TLS
// lands: loopback only, so the token never crosses a network in clear text).
absl::Status CheckAuthServable(const std::string& host);

}  // namespace glint
