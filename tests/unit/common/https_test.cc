// common/http_tls.h through common/http_server.h and common/http_client.h:
// a server with TLS settings serves HTTPS only, with its certificate; a
// client checks it against the cluster's CA and the host (or the server
// name override); a mutual server asks for a client certificate of the CA.
// The certificates are made at run time with the openssl program.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "testing/certificates.h"

namespace glint {
namespace {

using testing::TestCertificates;

constexpr char kToken[] = "https-test-token";

const std::optional<TestCertificates>& Certificates(std::string* why) {
  return testing::SharedTestCertificates(why);
}

class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Certificates(&why_)) GTEST_SKIP() << why_;
  }

  const TestCertificates& certs() { return *Certificates(&why_); }

  // A server on 127.0.0.1 with `tls`, answering GET /hello.
  std::unique_ptr<HttpServer> Serve(const TlsFiles& tls) {
    HttpServerOptions o;
    o.auth_token = kToken;
    o.tls = tls;
    o.max_connections = 4;
    auto server = std::make_unique<HttpServer>(o);
    server->Route("GET", "/hello", [](const HttpRequest&) {
      return HttpResponse{200, "text/plain", "hi"};
    });
    auto s = server->Start();
    EXPECT_TRUE(s.ok()) << s;
    return server;
  }

  static absl::StatusOr<HttpReply> Get(const HttpServer& server, const TlsFiles& tls,
                                       const std::string& token = kToken,
                                       const std::string& host = "127.0.0.1") {
    HttpCallOptions o;
    o.token = token;
    o.tls = tls;
    o.timeout_ms = 10000;
    return HttpCall(absl::StrCat(host, ":", server.port()), "GET", "/hello", "", o);
  }

  // The cluster's CA alone: what a client-only process (the CLI) has.
  TlsFiles CaOnly() { return TlsFiles{"", "", certs().cluster.ca, false, ""}; }

  std::string why_;
};

TEST_F(HttpsTest, AClientTrustingTheClustersCaIsServedWithTheToken) {
  auto server = Serve(certs().cluster);
  EXPECT_STREQ(server->scheme(), "https");
  auto r = Get(*server, CaOnly());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hi");
  // TLS is not the credential: the token still is.
  r = Get(*server, CaOnly(), "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 401);
  // The node certificate names localhost too.
  r = Get(*server, CaOnly(), kToken, "localhost");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpsTest, PlainHttpAnUntrustedServerAndAnotherNameAreRefusedAndTheServerServesOn) {
  auto server = Serve(certs().cluster);
  // A plain HTTP client is told to use HTTPS, and served nothing else.
  auto r = Get(*server, TlsFiles{});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("HTTPS only"), std::string::npos) << r->body;
  // Also when what it sends is over the server's bounds (a body over 1 MiB).
  HttpCallOptions no_tls;
  no_tls.token = kToken;
  auto big = HttpCall(absl::StrCat("127.0.0.1:", server->port()), "POST", "/hello", std::string(2 << 20, 'x'), no_tls);
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->status, 400);
  EXPECT_NE(big->body.find("HTTPS only"), std::string::npos) << big->body;
  // A client that trusts another CA does not take the server's certificate.
  r = Get(*server, TlsFiles{"", "", certs().stranger.ca, false, ""});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("https://127.0.0.1:"), std::string::npos)
      << r.status();
  // Nor one that expects another name.
  TlsFiles other_name = CaOnly();
  other_name.server_name = "not-this-node.example";
  EXPECT_FALSE(Get(*server, other_name).ok());
  // A server that speaks plain HTTP is not taken for an HTTPS one.
  auto plain = Serve(TlsFiles{});
  EXPECT_STREQ(plain->scheme(), "http");
  EXPECT_FALSE(Get(*plain, CaOnly()).ok());
  // None of that hurt the server.
  r = Get(*server, CaOnly());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpsTest, AMutualServerServesOnlyClientsWithACertificateOfTheClustersCa) {
  TlsFiles mutual = certs().cluster;
  mutual.mutual = true;
  auto server = Serve(mutual);
  EXPECT_FALSE(Get(*server, CaOnly()).ok());
  TlsFiles stranger = certs().stranger;
  stranger.ca = certs().cluster.ca;  // trusts the server, shows a certificate of another CA
  EXPECT_FALSE(Get(*server, stranger).ok());
  auto r = Get(*server, certs().cluster);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpsTest, ServingHttpsNeedsACertificateAndFilesThatAreThere) {
  HttpServerOptions o;
  o.tls = CaOnly();
  HttpServer no_cert(o);
  auto s = no_cert.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("--tls-cert"), std::string::npos) << s;
  o.tls = certs().cluster;
  o.tls.key = "/nonexistent/node.key";
  HttpServer no_key(o);
  s = no_key.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("/nonexistent/node.key"), std::string::npos) << s;
  // A client names a CA file that is not there.
  auto server = Serve(certs().cluster);
  auto r = Get(*server, TlsFiles{"", "", "/nonexistent/ca.pem", false, ""});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("/nonexistent/ca.pem"), std::string::npos)
      << r.status();
}

}  // namespace
}  // namespace glint
