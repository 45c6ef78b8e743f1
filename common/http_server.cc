#include "common/http_server.h"

#include <utility>  // Boost 1.74's asio needs it before its own headers

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>
#include <variant>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/auth.h"
#include "common/http_tls.h"
#include "common/logging.h"
#include "common/port_holder.h"
#include "common/process.h"

namespace glint {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kRequestTimeout = std::chrono::seconds(30);
constexpr size_t kHeaderLimit = 16 * 1024;
constexpr auto kDrainTimeout = std::chrono::seconds(5);

std::vector<std::string> Segments(absl::string_view path) {
  std::vector<std::string> out;
  for (auto s : absl::StrSplit(path, '/', absl::SkipEmpty())) out.emplace_back(s);
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes; in a query '+' is a space too.
std::string PercentDecode(absl::string_view s, bool query) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(query && s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

struct RouteEntry {
  std::string method;
  std::vector<std::string> pattern;
  HttpHandler handler;
  bool is_public = false;
  size_t max_body_bytes = 0;  // 0: the server's
};

}  // namespace

HttpResponse HttpError(int status, const std::string& message) {
  return {status, "application/json", nlohmann::json{{"error", message}}.dump()};
}

class HttpServer::Impl {
 public:
  explicit Impl(HttpServerOptions o) : options(std::move(o)) {}

  bool HasToken(const http::request<http::string_body>& req) const {
    if (options.auth_token.empty()) return true;
    auto header = req[http::field::authorization];
    absl::string_view given(header.data(), header.size());
    return absl::ConsumePrefix(&given, "Bearer ") && SameSecret(given, options.auth_token);
  }

  static HttpResponse Unauthorized() {
    return HttpError(
        401, "this cluster asks for its token: send 'Authorization: Bearer <token>' (glint get-auth-token prints it)");
  }

  // The route `method` on `path` takes, and whether any route has that path.
  struct Found {
    const RouteEntry* route = nullptr;
    bool path_known = false;
    std::vector<std::string> params;
  };
  Found Find(const std::string& method, const std::string& path) const {
    Found found;
    std::vector<std::string> segments = Segments(path);
    for (const auto& route : routes) {
      if (route.pattern.size() != segments.size()) continue;
      std::vector<std::string> params;
      bool match = true;
      for (size_t i = 0; i < segments.size() && match; ++i) {
        if (route.pattern[i] == "{}") {
          params.push_back(segments[i]);
        } else {
          match = route.pattern[i] == segments[i];
        }
      }
      if (!match) continue;
      found.path_known = true;
      if (route.method != method) continue;
      found.route = &route;
      found.params = std::move(params);
      return found;
    }
    return found;
  }

  static std::string PathOf(const http::request<http::string_body>& req) {
    absl::string_view target(req.target().data(), req.target().size());
    return PercentDecode(target.substr(0, target.find('?')), false);
  }

  // The answer for a request with no route, or one without the token that
  // its route asks for (nothing about the paths is said without the token).
  std::optional<HttpResponse> Refusal(const http::request<http::string_body>& req, const Found& found,
                                      const std::string& path) const {
    if (found.route != nullptr && (found.route->is_public || HasToken(req))) return std::nullopt;
    if (!HasToken(req)) return Unauthorized();
    return found.path_known ? HttpError(405, absl::StrCat(std::string(req.method_string()), " is not allowed on ", path))
                            : HttpError(404, absl::StrCat("no such path: ", path));
  }

  // Before a request's body is read: its refusal, or how long a body its
  // route takes. So a client without the token never gets a body buffered.
  std::variant<HttpResponse, size_t> Admit(const http::request<http::string_body>& req) const {
    std::string path = PathOf(req);
    Found found = Find(std::string(req.method_string()), path);
    if (auto refusal = Refusal(req, found, path)) return *refusal;
    return found.route->max_body_bytes > 0 ? found.route->max_body_bytes : options.max_body_bytes;
  }

  // Answers one request: the route, and the token unless the route is public.
  HttpResponse Dispatch(const http::request<http::string_body>& req) {
    HttpRequest r;
    absl::string_view target(req.target().data(), req.target().size());
    auto q = target.find('?');
    r.path = PathOf(req);
    if (q != absl::string_view::npos) {
      for (auto kv : absl::StrSplit(target.substr(q + 1), '&', absl::SkipEmpty())) {
        std::pair<absl::string_view, absl::string_view> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
        r.query[PercentDecode(p.first, true)] = PercentDecode(p.second, true);
      }
    }
    r.method = std::string(req.method_string());
    r.body = req.body();
    Found found = Find(r.method, r.path);
    if (auto refusal = Refusal(req, found, r.path)) return *refusal;
    r.params = std::move(found.params);
    try {
      return found.route->handler(r);
    } catch (const std::exception& e) {
      LOG(ERROR) << r.method << " " << r.path << " failed: " << e.what();
      return HttpError(500, e.what());
    }
  }

  // One connection: read a request, answer it, repeat while kept alive.
  // `Stream` is a beast::tcp_stream, or a TLS stream over one; `buffer`
  // holds what was read from the connection already. A plain connection to
  // a server with TLS is answered 400 once, saying to use https.
  template <class Stream>
  class Session : public std::enable_shared_from_this<Session<Stream>> {
   public:
    Session(Impl* server, Stream stream, beast::flat_buffer buffer, bool https_only = false)
        : server_(server), stream_(std::move(stream)), buffer_(std::move(buffer)), https_only_(https_only) {}
    ~Session() { --server_->connections; }

    // Reads the first request (after the TLS handshake, on a TLS stream).
    void Start() {
      if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        Read();
      } else {
        Lowest().expires_after(kRequestTimeout);
        auto self = this->shared_from_this();
        stream_.async_handshake(asio::ssl::stream_base::server, buffer_.data(),
                                [self](beast::error_code ec, size_t used) {
                                  // An untrusted client, or too slow: closed.
                                  if (ec) return self->Close();
                                  self->buffer_.consume(used);
                                  self->Read();
                                });
      }
    }

   private:
    beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

    // Reads a request's header; its body only once the route and the token
    // are known good, up to what the route takes.
    void Read() {
      parser_.emplace();
      parser_->header_limit(kHeaderLimit);
      // Any route's bound for now (a declared length beyond it ends the
      // header's read); the request's own route's once that is known.
      body_limit_ = server_->largest_body;
      parser_->body_limit(body_limit_);
      Lowest().expires_after(kRequestTimeout);
      http::async_read_header(stream_, buffer_, *parser_,
                              [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
    }

    void OnHeader(beast::error_code ec) {
      if (ec || https_only_) return OnRead(ec);
      const auto& req = parser_->get();
      auto admitted = server_->Admit(req);
      if (auto* refusal = std::get_if<HttpResponse>(&admitted)) return Write(*refusal, req.version(), false);
      body_limit_ = std::get<size_t>(admitted);
      parser_->body_limit(body_limit_);
      if (parser_->content_length() && *parser_->content_length() > body_limit_) return OnRead(http::error::body_limit);
      // A long body may take longer than a request's usual 30 s: a second
      // more per MiB it may have.
      Lowest().expires_after(kRequestTimeout + std::chrono::seconds(body_limit_ >> 20));
      if (!parser_->is_done() && beast::iequals(req[http::field::expect], "100-continue")) {
        auto go_on = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
        return http::async_write(stream_, *go_on,
                                 [self = this->shared_from_this(), go_on](beast::error_code ec, size_t) {
                                   if (ec) return self->Close();
                                   self->ReadBody();
                                 });
      }
      ReadBody();
    }

    void ReadBody() {
      http::async_read(stream_, buffer_, *parser_,
                       [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
    }

    void OnRead(beast::error_code ec) {
      // Plain HTTP to an HTTPS port: whatever it asked, the answer is to use HTTPS.
      if (https_only_ && (!ec || ec == http::error::body_limit || ec == http::error::header_limit)) {
        return Write(HttpError(400, "this port serves HTTPS only (the cluster has TLS): use https:// and "
                                    "trust the cluster's CA (glint --tls-ca)"),
                     11, false);
      }
      if (ec == http::error::body_limit) {
        return Write(HttpError(413, absl::StrCat("the body is larger than ", body_limit_, " bytes")), 11, false);
      }
      if (ec == http::error::header_limit) return Write(HttpError(431, "the headers are too large"), 11, false);
      if (ec) return Close();  // the peer left, timed out, or sent what is not HTTP
      const auto& req = parser_->get();
      if (server_->pending.fetch_add(1) >= server_->options.max_pending) {
        --server_->pending;
        return Write(HttpError(503, "the server is busy with other requests: try again shortly"), req.version(),
                     false);
      }
      // The handler on its pool; the answer back on this connection's
      // thread. Nothing else touches the session meanwhile (no read is
      // pending while a request is answered).
      asio::post(server_->handler_io, [self = this->shared_from_this()] {
        HttpResponse response = self->server_->Dispatch(self->parser_->get());
        --self->server_->pending;
        asio::post(self->stream_.get_executor(), [self, response = std::move(response)] {
          const auto& req = self->parser_->get();
          self->Write(response, req.version(), req.keep_alive());
        });
      });
    }

    void Write(const HttpResponse& r, unsigned version, bool keep_alive) {
      response_ = {};
      response_.version(version);
      response_.result(static_cast<http::status>(r.status));
      response_.keep_alive(keep_alive);
      response_.set(http::field::content_type, r.content_type);
      response_.set(http::field::cache_control, "no-store");
      response_.set("X-Content-Type-Options", "nosniff");
      response_.set("X-Frame-Options", "DENY");
      response_.set("Referrer-Policy", "no-referrer");
      if (r.status == 401) response_.set(http::field::www_authenticate, "Bearer");
      response_.body() = r.body;
      response_.prepare_payload();
      Lowest().expires_after(kRequestTimeout);
      // A request refused before its body was read: the client may still be
      // sending it, and closing now would reset the connection before it
      // reads the answer; so only this side is closed and the rest drained.
      bool drain = !parser_ || !parser_->is_done();
      http::async_write(stream_, response_,
                        [self = this->shared_from_this(), keep_alive, drain](beast::error_code ec, size_t) {
                          if (!ec && keep_alive && !drain) {
                            self->Read();
                          } else if (!ec && drain) {
                            beast::error_code ignored;
                            self->Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
                            self->Lowest().expires_after(kDrainTimeout);
                            self->Drain();
                          } else {
                            self->Close();
                          }
                        });
    }

    // Reads and drops what the client still sends, until it closes (or the
    // timeout passes).
    void Drain() {
      stream_.async_read_some(asio::buffer(scratch_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->Close();
        self->Drain();
      });
    }

    void Close() {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    }

    Impl* server_;
    Stream stream_;
    beast::flat_buffer buffer_;
    const bool https_only_;
    std::optional<http::request_parser<http::string_body>> parser_;
    size_t body_limit_ = 0;
    http::response<http::string_body> response_;
    char scratch_[16 * 1024];
  };

  void Accept() {
    acceptor->async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;  // Stop
      if (!ec) {
        if (connections.fetch_add(1) >= options.max_connections) {
          --connections;
          beast::error_code ignored;
          socket.close(ignored);
        } else if (tls) {
          DetectTls(std::move(socket));
        } else {
          std::make_shared<Session<beast::tcp_stream>>(this, beast::tcp_stream(std::move(socket)),
                                                       beast::flat_buffer())
              ->Start();
        }
      }
      Accept();
    });
  }

  // Looks at a new connection's first bytes: a TLS handshake goes to a TLS
  // session, anything else to a plain one that answers 400.
  void DetectTls(tcp::socket socket) {
    struct Pending {
      beast::tcp_stream stream;
      beast::flat_buffer buffer;
    };
    auto p = std::make_shared<Pending>(Pending{beast::tcp_stream(std::move(socket)), {}});
    p->stream.expires_after(kRequestTimeout);
    beast::async_detect_ssl(p->stream, p->buffer, [this, p](beast::error_code ec, bool is_tls) {
      if (ec) {  // closed or too slow before saying anything
        --connections;
        return;
      }
      if (is_tls) {
        using TlsSession = Session<beast::ssl_stream<beast::tcp_stream>>;
        std::make_shared<TlsSession>(this, beast::ssl_stream<beast::tcp_stream>(std::move(p->stream), *tls),
                                     std::move(p->buffer))
            ->Start();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(this, std::move(p->stream), std::move(p->buffer),
                                                     /*https_only=*/true)
            ->Start();
      }
    });
  }

  const HttpServerOptions options;
  std::shared_ptr<asio::ssl::context> tls;  // set by Start with TLS settings
  std::vector<RouteEntry> routes;
  size_t largest_body = options.max_body_bytes;  // of the server's and the routes' bounds
  std::atomic<int> connections{0};
  std::atomic<int> pending{0};  // requests waiting for or in a handler
  // Destroyed before `connections`: the sessions it still holds count down.
  asio::io_context io;
  // The handlers' (destroyed before `io`: a handler's answer not yet
  // posted holds a session, whose stream is `io`'s).
  asio::io_context handler_io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> handler_work;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads, handler_threads;
};

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(const std::string& method, const std::string& pattern, HttpHandler handler, bool is_public,
                       size_t max_body_bytes) {
  impl_->routes.push_back({method, Segments(pattern), std::move(handler), is_public, max_body_bytes});
  impl_->largest_body = std::max({impl_->largest_body, impl_->options.max_body_bytes, max_body_bytes});
}

absl::Status HttpServer::Start() {
  const auto& o = impl_->options;
  if (o.tls.enabled()) {
    auto ctx = HttpsServerContext(o.tls);
    if (!ctx.ok()) return ctx.status();
    impl_->tls = std::move(*ctx);
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(o.host == "localhost" ? "127.0.0.1" : o.host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("'", o.host, "' is not an IP address to listen on"));
  tcp::endpoint endpoint(address, static_cast<unsigned short>(o.port));
  impl_->acceptor.emplace(impl_->io);
  auto& acceptor = *impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (ec) {
    if (std::string holder = o.port > 0 ? PortHolder(o.port) : ""; !holder.empty()) {
      return absl::AlreadyExistsError(absl::StrCat("cannot listen on ", o.host, ":", o.port, ": port ", o.port,
                                                   " is in use by ", holder));
    }
    return absl::UnavailableError(absl::StrCat("cannot listen on ", o.host, ":", o.port, ": ", ec.message()));
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot listen on ", o.host, ":", o.port, ": ", ec.message()));
  port_ = acceptor.local_endpoint().port();
  impl_->Accept();
  for (int i = 0; i < std::max(1, o.threads); ++i) {
    impl_->threads.emplace_back([this] {
      SetThreadName("glint-http");
      impl_->io.run();
    });
  }
  impl_->handler_work.emplace(impl_->handler_io.get_executor());
  for (int i = 0; i < std::max(1, o.handler_threads); ++i) {
    impl_->handler_threads.emplace_back([this] {
      SetThreadName("glint-http-h");
      impl_->handler_io.run();
    });
  }
  return absl::OkStatus();
}

const std::string& HttpServer::host() const { return impl_->options.host; }

const char* HttpServer::scheme() const { return impl_->options.tls.enabled() ? "https" : "http"; }

void HttpServer::Stop() {
  if (!impl_->acceptor) return;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor->close(ignored);
  });
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  // Handlers running now finish (their answers go nowhere); queued ones never start.
  impl_->handler_work.reset();
  impl_->handler_io.stop();
  for (auto& t : impl_->handler_threads) t.join();
  impl_->handler_threads.clear();
  impl_->acceptor.reset();
}

}  // namespace glint
