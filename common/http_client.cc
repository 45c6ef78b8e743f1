#include "common/http_client.h"

#include <utility>  // Boost 1.74's asio needs it before its own headers

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "absl/strings/str_cat.h"

namespace glint {

absl::StatusOr<HttpReply> HttpCall(const std::string& address, const std::string& method, const std::string& target,
                                   const std::string& body, const HttpCallOptions& options) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "' is not HOST:PORT"));
  }
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  asio::io_context io;
  beast::error_code ec;
  asio::ip::tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, port, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot resolve ", address, ": ", ec.message()));
  beast::tcp_stream stream(io);
  const auto timeout = std::chrono::milliseconds(options.timeout_ms);
  auto failed = [&](const char* what) {
    return absl::UnavailableError(absl::StrCat("cannot ", what, " http://", address, target, ": ",
                                               ec == beast::error::timeout ? "timed out" : ec.message()));
  };
  stream.expires_after(timeout);
  stream.async_connect(endpoints, [&](beast::error_code e, const auto&) { ec = e; });
  io.run();
  if (ec) return failed("connect to");
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, address);
  req.set(http::field::user_agent, "glint");
  if (!options.token.empty()) req.set(http::field::authorization, "Bearer " + options.token);
  if (!body.empty()) req.set(http::field::content_type, options.content_type);
  req.body() = body;
  req.prepare_payload();
  io.restart();
  stream.expires_after(timeout);
  http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
  io.run();
  // A server may answer (413: too large) before it took the whole body, and
  // stop reading: its answer is read all the same.
  beast::error_code write_error = ec;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.max_body_bytes);
  io.restart();
  stream.expires_after(timeout);
  http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
  io.run();
  if (ec && write_error) {
    ec = write_error;
    return failed("send to");
  }
  if (ec) return failed("read the reply of");
  HttpReply reply;
  reply.status = parser.get().result_int();
  reply.body = std::move(parser.get().body());
  reply.content_type = std::string(parser.get()[http::field::content_type]);
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  return reply;
}

}  // namespace glint
