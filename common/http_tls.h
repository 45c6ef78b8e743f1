// HTTPS with the cluster's TLS files, for the dashboard's and the metrics
// ports' server (common/http_server.h) and the HTTP client
// (common/http_client.h): the OpenSSL contexts Boost.Asio runs TLS with.
// The same files and rules as every gRPC channel (common/tls.h): a server
// shows its process's certificate; a client checks the server's against
// the cluster's CA and the address's host (or the server name override);
// in a mutual cluster a server asks for a client certificate of that CA.
#pragma once
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/tls.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace glint {

// A server's context: the certificate and key (an error without them, or
// when a file cannot be read or is not what it should be).
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> HttpsServerContext(
    const TlsFiles& files);

// A client's context: the CA, and the certificate and key when given.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> HttpsClientContext(
    const TlsFiles& files);

// The name a client checks the server's certificate for: the override, or
// the host it connects to.
std::string HttpsPeerName(const TlsFiles& files, const std::string& host);

}  // namespace glint
