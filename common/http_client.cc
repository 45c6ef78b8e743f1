#include "common/http_client.h"

#include <utility>  // Boost 1.74's asio needs it before its own headers

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/http_tls.h"

namespace glint {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// What a step that failed with `ec` says.
absl::Status Failed(const beast::error_code& ec, const char* what, const std::string& url) {
  return absl::UnavailableError(
      absl::StrCat("cannot ", what, " ", url, ": ", ec == beast::error::timeout ? "timed out" : ec.message()));
}

// One request and its reply on a connected `stream` (plain or TLS).
template <class Stream>
absl::StatusOr<HttpReply> Exchange(asio::io_context& io, Stream& stream, const std::string& address,
                                   const std::string& url, const std::string& method, const std::string& target,
                                   const std::string& body, const HttpCallOptions& options) {
  const auto timeout = std::chrono::milliseconds(options.timeout_ms);
  beast::error_code ec;
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, address);
  req.set(http::field::user_agent, "glint");
  if (!options.token.empty()) req.set(http::field::authorization, "Bearer " + options.token);
  if (!body.empty()) req.set(http::field::content_type, options.content_type);
  req.body() = body;
  req.prepare_payload();
  io.restart();
  beast::get_lowest_layer(stream).expires_after(timeout);
  http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
  io.run();
  // A server may answer (413: too large) before it took the whole body, and
  // stop reading: its answer is read all the same.
  beast::error_code write_error = ec;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.max_body_bytes);
  io.restart();
  beast::get_lowest_layer(stream).expires_after(timeout);
  http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
  io.run();
  if (ec && write_error) {
    ec = write_error;
    return Failed(ec, "send to", url);
  }
  if (ec) return Failed(ec, "read the reply of", url);
  HttpReply reply;
  reply.status = parser.get().result_int();
  reply.body = std::move(parser.get().body());
  reply.content_type = std::string(parser.get()[http::field::content_type]);
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  return reply;
}

}  // namespace

absl::StatusOr<HttpReply> HttpCall(const std::string& address, const std::string& method, const std::string& target,
                                   const std::string& body, const HttpCallOptions& options) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "' is not HOST:PORT"));
  }
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const bool https = options.tls.enabled();
  const std::string url = absl::StrCat(https ? "https://" : "http://", address, target);
  std::shared_ptr<asio::ssl::context> tls;
  if (https) {
    auto ctx = HttpsClientContext(options.tls);
    if (!ctx.ok()) return ctx.status();
    tls = std::move(*ctx);
  }
  asio::io_context io;
  beast::error_code ec;
  asio::ip::tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, port, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot resolve ", address, ": ", ec.message()));
  const auto timeout = std::chrono::milliseconds(options.timeout_ms);
  beast::tcp_stream tcp(io);
  tcp.expires_after(timeout);
  tcp.async_connect(endpoints, [&](beast::error_code e, const auto&) { ec = e; });
  io.run();
  if (ec) return Failed(ec, "connect to", url);
  if (!https) return Exchange(io, tcp, address, url, method, target, body, options);
  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), *tls);
  const std::string peer = HttpsPeerName(options.tls, host);
  beast::error_code parsed;
  asio::ip::make_address(peer, parsed);
  if (parsed) SSL_set_tlsext_host_name(stream.native_handle(), peer.c_str());  // a name, not an IP: sent as SNI
  stream.set_verify_callback(asio::ssl::host_name_verification(peer));
  io.restart();
  beast::get_lowest_layer(stream).expires_after(timeout);
  stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  io.run();
  if (ec) return Failed(ec, "make a TLS connection to", url);
  return Exchange(io, stream, address, url, method, target, body, options);
}

}  // namespace glint
