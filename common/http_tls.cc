#include "common/http_tls.h"

#include <openssl/ssl.h>

#include <utility>  // Boost 1.74's asio needs it before its own headers

#include <boost/asio/ssl/context.hpp>

#include "absl/strings/str_cat.h"

namespace glint {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 and up, as gRPC's own default.
std::shared_ptr<ssl::context> NewContext(ssl::context::method method) {
  auto ctx = std::make_shared<ssl::context>(method);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  // A client may not make a server redo the handshake on a connection (each
  // costs the server a key exchange).
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_NO_RENEGOTIATION);
  return ctx;
}

absl::Status Failed(const boost::system::error_code& ec, const char* what,
                    const std::string& path) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot use the TLS ", what, " ", path, ": ", ec.message()));
}

// The process's own certificate and key, when it has them.
absl::Status UseOwnCertificate(ssl::context* ctx, const TlsFiles& files, const TlsPem& pem) {
  if (pem.cert.empty()) return absl::OkStatus();
  boost::system::error_code ec;
  ctx->use_certificate_chain(boost::asio::buffer(pem.cert), ec);
  if (ec) return Failed(ec, "certificate", files.cert);
  ctx->use_private_key(boost::asio::buffer(pem.key), ssl::context::pem, ec);
  if (ec) return Failed(ec, "key", files.key);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<ssl::context>> HttpsServerContext(const TlsFiles& files) {
  auto pem = LoadTls(files);
  if (!pem.ok()) return pem.status();
  if (pem->cert.empty()) {
    return absl::InvalidArgumentError(
        "serving HTTPS needs a certificate and its key (--tls-cert and --tls-key)");
  }
  auto ctx = NewContext(ssl::context::tls_server);
  if (auto s = UseOwnCertificate(ctx.get(), files, *pem); !s.ok()) return s;
  if (files.mutual) {
    boost::system::error_code ec;
    ctx->add_certificate_authority(boost::asio::buffer(pem->ca), ec);
    if (ec) return Failed(ec, "CA certificate", files.ca);
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

absl::StatusOr<std::shared_ptr<ssl::context>> HttpsClientContext(const TlsFiles& files) {
  auto pem = LoadTls(files);
  if (!pem.ok()) return pem.status();
  auto ctx = NewContext(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->add_certificate_authority(boost::asio::buffer(pem->ca), ec);
  if (ec) return Failed(ec, "CA certificate", files.ca);
  if (auto s = UseOwnCertificate(ctx.get(), files, *pem); !s.ok()) return s;
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

std::string HttpsPeerName(const TlsFiles& files, const std::string& host) {
  return files.server_name.empty() ? host : files.server_name;
}

}  // namespace glint
