// Cluster authentication: every call a Glint process makes carries the
// cluster's token ("authorization: Bearer <token>", added by call
// credentials), and every Glint server checks it in one place (an
// AuthMetadataProcessor) before any handler runs; a call without the right
// token ends UNAUTHENTICATED and does nothing.
//
// gRPC sends call credentials only over a channel with transport security,
// and its servers run an auth processor only then too. With TLS (tls.h)
// every channel and server uses it, on any address. Without TLS, processes
// on one host use gRPC's local credentials (loopback TCP: the peer is known
// to be on this machine), and a node reachable from other hosts is refused
// while authentication is on (the token would cross the network in clear).
//
// The settings are the process's: set once, before its first channel or
// server (Init, a daemon's main); setting them again (a new Init) drops the
// channels made with the old ones. Thread-safe.
#pragma once
#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/tls.h"

namespace glint {

struct AuthOptions {
  // The cluster token; empty: authentication is off (no token sent or asked).
  std::string token;
  // TLS for every channel and server; none: local credentials on loopback.
  TlsFiles tls;
};

// Makes `options` the process's settings; an error (and nothing changed) if
// the TLS files cannot be read.
absl::Status SetClusterAuth(AuthOptions options);
bool AuthEnabled();
bool TlsEnabled();
// What a channel to `target` ("host:port") and a server on `host` use;
// ChannelCredentialsFor also sets the channel arguments TLS needs.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(const std::string& target,
                                                                grpc::ChannelArguments* args);
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(const std::string& host);

// The settings a process hands to a child in its environment
// (GLINT_AUTH_TOKEN and GLINT_TLS_*), and takes from its own.
std::map<std::string, std::string> AuthEnvironment(const AuthOptions& options);
AuthOptions AuthFromEnvironment();

// A new random token (256 bits, hex).
std::string NewAuthToken();
// Token files hold the token and nothing else, readable by their owner only.
absl::Status WriteTokenFile(const std::string& path, const std::string& token);
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);
// True for 127.0.0.0/8, ::1 and localhost.
bool IsLoopback(const std::string& host);
// Compares without stopping at the first difference, so the time taken says
// nothing about how much of a guess was right (a secret's length is no secret).
bool SameSecret(absl::string_view a, absl::string_view b);
// Whether a server with authentication on may listen on `host`: with TLS
// anywhere; without, loopback only, so the token never crosses a network in
// clear text.
absl::Status CheckAuthServable(const std::string& host, bool tls);

}  // namespace glint
