// HttpCounter: an async actor that serves its own HTTP endpoint on its event
// loop (glint::ActorExecutor()) while answering Glint calls. Both touch the
// same counter with no locks: everything runs on the one loop thread.
//   GET  /count        -> the counter
//   POST /add  (body N) -> adds N, returns the new value
#pragma once
#include <utility>  // Boost 1.74's asio needs it before its own headers

#include <glint/api.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <string>

class HttpCounter {
 public:
  static HttpCounter* Create() { return new HttpCounter(); }

  int Port() const { return static_cast<int>(acceptor_.local_endpoint().port()); }
  glint::Async<int> Add(int n) {
    count_ += n;
    co_return count_;
  }
  int Count() const { return count_; }

 private:
  using tcp = boost::asio::ip::tcp;

  HttpCounter() : acceptor_(glint::ActorExecutor(), tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    Accept();
  }

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (!ec) std::make_shared<Session>(this, std::move(socket))->Read();
      Accept();
    });
  }

  // One HTTP connection: read a request, answer it, repeat.
  struct Session : std::enable_shared_from_this<Session> {
    Session(HttpCounter* c, tcp::socket s) : counter(c), socket(std::move(s)) {}
    void Read() {
      request = {};
      boost::beast::http::async_read(socket, buffer, request,
                                     [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                                       if (!ec) self->Answer();
                                     });
    }
    void Answer() {
      namespace http = boost::beast::http;
      response = {};
      response.version(request.version());
      response.keep_alive(request.keep_alive());
      response.set(http::field::content_type, "text/plain");
      if (request.method() == http::verb::get && request.target() == "/count") {
        response.result(http::status::ok);
        response.body() = std::to_string(counter->count_);
      } else if (request.method() == http::verb::post && request.target() == "/add") {
        try {
          counter->count_ += std::stoi(request.body());
          response.result(http::status::ok);
          response.body() = std::to_string(counter->count_);
        } catch (const std::exception&) {
          response.result(http::status::bad_request);
          response.body() = "the body must be a number";
        }
      } else {
        response.result(http::status::not_found);
        response.body() = "try GET /count or POST /add";
      }
      response.prepare_payload();
      http::async_write(socket, response, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        if (!ec && self->response.keep_alive()) self->Read();
      });
    }
    HttpCounter* counter;
    tcp::socket socket;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> request;
    boost::beast::http::response<boost::beast::http::string_body> response;
  };

  tcp::acceptor acceptor_;
  int count_ = 0;
};

// A tiny blocking HTTP/1.1 client (one request per connection); returns the
// status line's code and the body as "CODE BODY".
inline std::string HttpRequest(int port, const std::string& method, const std::string& path,
                               const std::string& body) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
  if (ec) return "connect failed: " + ec.message();
  namespace http = boost::beast::http;
  http::request<http::string_body> req{method == "POST" ? http::verb::post : http::verb::get, path, 11};
  req.set(http::field::host, "localhost");
  req.body() = body;
  req.prepare_payload();
  http::write(s, req, ec);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> resp;
  http::read(s, buf, resp, ec);
  if (ec) return "read failed: " + ec.message();
  return std::to_string(resp.result_int()) + " " + resp.body();
}

GLINT_REMOTE(HttpCounter::Create, &HttpCounter::Port, &HttpCounter::Add, &HttpCounter::Count);
