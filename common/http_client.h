// A small blocking HTTP/1.1 client (Boost.Beast) for the dashboard's API:
// the glint CLI's job commands and the tests use it. One request per
// connection; the cluster token, when given, goes as a bearer header. With
// TLS settings it speaks HTTPS, checking the server as gRPC's channels do
// (common/http_tls.h): a cluster with TLS serves HTTPS only.
#pragma once
#include <string>

#include "absl/status/statusor.h"
#include "common/tls.h"

namespace glint {

struct HttpReply {
  int status = 0;
  std::string body;
  std::string content_type;
};

struct HttpCallOptions {
  std::string token;         // "Authorization: Bearer <token>" when not empty
  int timeout_ms = 10000;
  size_t max_body_bytes = 64 << 20;
  std::string content_type = "application/json";
  TlsFiles tls;              // HTTPS when enabled; plain HTTP otherwise
};

// `method` ("GET", "POST", ...) on `target` ("/api/jobs/") at `address`
// (HOST:PORT). An error when the server cannot be reached or does not
// answer HTTP in time; any HTTP status is a reply.
absl::StatusOr<HttpReply> HttpCall(const std::string& address, const std::string& method, const std::string& target,
                                   const std::string& body = "", const HttpCallOptions& options = {});

}  // namespace glint
