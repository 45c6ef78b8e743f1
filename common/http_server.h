// HttpServer: a daemon's HTTP endpoint: the dashboard's (the web page, the
// cluster and jobs APIs, /metrics) and a raylet's metrics port. Boost.Beast
// on a small Asio thread pool. Every
// request must carry the cluster token as a bearer header ("Authorization:
// Bearer <token>", compared in constant time) before any handler runs;
// without one it ends 401 and does nothing. The one exception is a route
// added as public: the page's static asset, which holds no data (its
// script asks the API for everything, with the token).
//
// With TLS settings it serves HTTPS only, with the process's certificate
// (common/http_tls.h); a mutual cluster's servers also ask the client for
// one of the cluster's CA.
//
// Bounded against a client's mistake or malice: at most `max_connections`
// connections (more are closed at once), headers up to 16 KiB, bodies up
// to `max_body_bytes` or the route's own bound (413), read only once the
// header passed the route and token checks, 30 s to finish the TLS
// handshake and to send a request (a second more per MiB a route's bodies
// may have; then closed). Handlers run on a pool of their own, at most
// `max_pending` requests waiting for one (503 beyond).
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "common/tls.h"

namespace glint {

struct HttpRequest {
  std::string method;                        // "GET", "POST", ...
  std::string path;                          // without the query
  std::map<std::string, std::string> query;  // ?a=1&b=2, percent-decoded
  std::string body;
  std::vector<std::string> params;           // what the route's "{}" segments matched
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// A JSON error body {"error": message} with `status`.
HttpResponse HttpError(int status, const std::string& message);

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;             // 0 picks a free one
  std::string auth_token;   // empty: no token asked (authentication is off)
  size_t max_body_bytes = 1 << 20;
  int max_connections = 128;
  int threads = 2;          // reading and writing connections
  // The routes' handlers run on threads of their own, so one that waits
  // (on the GCS, on unpacking a package) holds no connection but its own.
  // At most `max_pending` requests wait for or run in a handler at once;
  // more are answered 503 at once.
  int handler_threads = 4;
  int max_pending = 64;
  TlsFiles tls;             // HTTPS when enabled (a certificate and key needed)
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();

  // Adds a route before Start: `pattern` is a path whose "{}" segments match
  // any one segment ("/api/jobs/{}/logs"); a trailing slash is optional.
  // A public route is answered without the token (static assets only).
  // `max_body_bytes` (0: the server's) bounds this route's bodies; a body is
  // read only after its header passed the route and token checks.
  void Route(const std::string& method, const std::string& pattern, HttpHandler handler, bool is_public = false,
             size_t max_body_bytes = 0);

  // Listens; an error naming the port (and what holds it) when it is taken,
  // or the TLS file that cannot be used.
  absl::Status Start();
  int port() const { return port_; }
  // The address it listens on.
  const std::string& host() const;
  // "https" with TLS, else "http".
  const char* scheme() const;
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace glint
