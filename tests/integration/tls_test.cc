// TLS: a cluster started with a certificate, key and CA speaks TLS on every
// channel — drivers, GCS, raylets, workers, and node to node for objects —
// finds its settings by itself on this machine, and refuses plaintext
// clients, clients that do not trust its CA, and (with mutual TLS) clients
// without a certificate from its CA. The certificates are made at run time.
#include <glint/api.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "common/http_client.h"
#include "common/rpc.h"
#include "proto/gcs.grpc.pb.h"
#include "proto/raylet.grpc.pb.h"
#include "proto/worker.grpc.pb.h"
#include "testing/bearer.h"
#include "testing/certificates.h"
#include "testing/test_cluster.h"

namespace {

using glint::TlsFiles;
using glint::testing::ClusterTest;
using glint::testing::RunCommand;
using glint::testing::TempDir;
using glint::testing::TestCertificates;
using glint::testing::TestCluster;

int Plus(int a, int b) { return a + b; }
std::string Raylet() { return getenv("GLINT_RAYLET_ADDRESS"); }
size_t SizeOf(std::vector<uint8_t> v) { return v.size(); }

class Where {
 public:
  static Where* Create() { return new Where(); }
  std::string Raylet() const { return getenv("GLINT_RAYLET_ADDRESS"); }
};

GLINT_REMOTE(Plus, Raylet, SizeOf, Where::Create, &Where::Raylet);

// How a client outside Glint's own code connects.
enum class Client {
  kPlaintext,        // no transport security at all
  kLocalWithToken,   // loopback credentials and the right token (what works without TLS)
  kStrangerCa,       // TLS, trusting another CA, with the right token
  kTlsNoToken,       // TLS, trusting the cluster's CA, without the token
  kTlsNoCert,        // TLS with the token, but no certificate of its own
  kStrangerCert,     // TLS with the token, presenting a certificate of another CA
  kTlsFull,          // TLS, the cluster's CA, the node certificate, the token
};

std::string Slurp(const std::string& path) { return glint::testing::ReadFile(path); }

std::shared_ptr<grpc::Channel> ChannelAs(Client who, const std::string& target, const TestCertificates& certs,
                                         const std::string& token) {
  auto bearer = [&] { return glint::testing::BearerCredentials(token); };
  auto tls = [&](const std::string& ca, const TlsFiles* own) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = Slurp(ca);
    if (own) {
      o.pem_cert_chain = Slurp(own->cert);
      o.pem_private_key = Slurp(own->key);
    }
    return grpc::SslCredentials(o);
  };
  std::shared_ptr<grpc::ChannelCredentials> creds;
  switch (who) {
    case Client::kPlaintext:
      creds = grpc::InsecureChannelCredentials();
      break;
    case Client::kLocalWithToken:
      creds = grpc::CompositeChannelCredentials(grpc::experimental::LocalCredentials(LOCAL_TCP), bearer());
      break;
    case Client::kStrangerCa:
      creds = grpc::CompositeChannelCredentials(tls(certs.stranger.ca, &certs.stranger), bearer());
      break;
    case Client::kTlsNoToken:
      creds = tls(certs.cluster.ca, &certs.cluster);
      break;
    case Client::kTlsNoCert:
      creds = grpc::CompositeChannelCredentials(tls(certs.cluster.ca, nullptr), bearer());
      break;
    case Client::kStrangerCert:
      creds = grpc::CompositeChannelCredentials(tls(certs.cluster.ca, &certs.stranger), bearer());
      break;
    case Client::kTlsFull:
      creds = grpc::CompositeChannelCredentials(tls(certs.cluster.ca, &certs.cluster), bearer());
      break;
  }
  return grpc::CreateChannel(target, creds);
}

// One call a client may make of each kind of Glint server.
grpc::StatusCode Ask(const std::shared_ptr<grpc::Channel>& ch, const std::string& service) {
  grpc::ClientContext ctx;
  glint::SetDeadlineMs(&ctx, 10000);
  if (service == "gcs") {
    glint::proto::GetAllNodesReply r;
    return glint::proto::GcsService::NewStub(ch)->GetAllNodes(&ctx, {}, &r).error_code();
  }
  if (service == "raylet") {
    glint::proto::GetStoreInfoReply r;
    return glint::proto::RayletService::NewStub(ch)->GetStoreInfo(&ctx, {}, &r).error_code();
  }
  glint::proto::GetObjectReply r;  // a worker or a driver: an object nobody has, answered at once
  glint::proto::GetObjectRequest req;
  req.set_object_id(std::string(28, 'x'));
  return glint::proto::WorkerService::NewStub(ch)->GetObject(&ctx, req, &r).error_code();
}

const std::optional<TestCertificates>& Certificates(std::string* why) {
  return glint::testing::SharedTestCertificates(why);
}

template <bool kMutual>
class TlsClusterTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    auto& certs = Certificates(&why_);
    if (!certs) return;
    TlsFiles tls = certs->cluster;
    tls.mutual = kMutual;
    StartSuite(1, "", "", {}, tls, /*dashboard=*/true);
    far_ = cluster_->AddNode(1, R"({"far": 10})");  // actors hold theirs for good
  }
  static void TearDownTestSuite() {
    if (cluster_) ClusterTest::TearDownTestSuite();
  }
  void SetUp() override {
    if (!Certificates(&why_)) GTEST_SKIP() << why_;
  }
  static const TestCertificates& certs() { return *Certificates(&why_); }
  // Every kind of server in the cluster: address -> kind (the worker's
  // actor lives as long as the test).
  std::map<std::string, std::string> Servers() {
    auto& where = where_.emplace(glint::Actor(Where::Create).SetResources({{"far", 1}}).Remote());
    EXPECT_EQ(where.Task(&Where::Raylet).Remote().Get(), far_);
    auto gcs = glint::MakeStub<glint::proto::GcsService>(cluster_->gcs_address());
    glint::proto::GetAllJobsReply jobs;
    glint::proto::GetActorRequest gar;
    gar.set_actor_id(where.ID());
    glint::proto::GetActorReply actor;
    {
      grpc::ClientContext ctx;
      EXPECT_TRUE(gcs->GetAllJobs(&ctx, {}, &jobs).ok());
    }
    {
      grpc::ClientContext ctx;
      EXPECT_TRUE(gcs->GetActor(&ctx, gar, &actor).ok());
    }
    std::map<std::string, std::string> servers = {{cluster_->gcs_address(), "gcs"},
                                                  {cluster_->head_raylet_address(), "raylet"},
                                                  {far_, "raylet"},
                                                  {glint::AddrString(actor.actor().address()), "worker"}};
    for (auto& j : jobs.jobs()) {
      if (j.driver_pid() == getpid() && !j.finished()) servers[glint::AddrString(j.driver())] = "driver";
    }
    EXPECT_EQ(servers.size(), 5u);
    return servers;
  }
  static inline std::string why_;
  static inline std::string far_;
  std::optional<glint::ActorHandle<Where>> where_;
};

using TlsTest = TlsClusterTest<false>;
using MutualTlsTest = TlsClusterTest<true>;

TEST_F(TlsTest, TasksActorsAndObjectsCrossNodesOverTls) {
  EXPECT_EQ(glint::Task(Plus).Remote(1, 2).Get(), 3);
  EXPECT_EQ(glint::Task(Raylet).SetResources({{"far", 1}}).Remote().Get(), far_);
  auto a = glint::Actor(Where::Create).SetResources({{"far", 1}}).Remote();
  EXPECT_EQ(a.Task(&Where::Raylet).Remote().Get(), far_);
  // 24 MiB made here, read on the other node: raylet to raylet, in chunks.
  auto big = glint::Put(std::vector<uint8_t>(24 << 20, 7));
  EXPECT_EQ(glint::Task(SizeOf).SetResources({{"far", 1}}).Remote(big).Get(), size_t{24} << 20);
}

TEST_F(TlsTest, EveryServerRefusesPlaintextAndUntrustedClientsAndServesTlsWithTheToken) {
  for (auto& [address, kind] : Servers()) {
    SCOPED_TRACE(kind + " at " + address);
    const std::string& token = cluster_->auth_token();
    EXPECT_EQ(Ask(ChannelAs(Client::kPlaintext, address, certs(), token), kind), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(Ask(ChannelAs(Client::kLocalWithToken, address, certs(), token), kind),
              grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(Ask(ChannelAs(Client::kStrangerCa, address, certs(), token), kind), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(Ask(ChannelAs(Client::kTlsNoToken, address, certs(), token), kind),
              grpc::StatusCode::UNAUTHENTICATED);
    // Not mutual: a client needs no certificate, only the token.
    EXPECT_EQ(Ask(ChannelAs(Client::kTlsNoCert, address, certs(), token), kind), grpc::StatusCode::OK);
    EXPECT_EQ(Ask(ChannelAs(Client::kTlsFull, address, certs(), token), kind), grpc::StatusCode::OK);
  }
}

TEST_F(TlsTest, TheCliFindsTheTlsSettingsHereAndTakesThemAsFlags) {
  int status = 0;
  std::string out =
      RunCommand(absl::StrCat(GLINT_CLI_PATH, " list nodes --address ", cluster_->gcs_address(), " 2>&1"), &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find(far_), std::string::npos) << out;
  // Jobs go to the dashboard over HTTPS, with the settings found here too.
  out = RunCommand(absl::StrCat(GLINT_CLI_PATH, " job submit --address ", cluster_->gcs_address(),
                                " -- echo job-over-https 2>&1"),
                   &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("job-over-https"), std::string::npos) << out;
  // A CA that did not sign the cluster's certificate: the CLI cannot connect, and says where.
  out = RunCommand(absl::StrCat(GLINT_CLI_PATH, " list nodes --address ", cluster_->gcs_address(), " --tls-ca ",
                                certs().stranger.ca, " 2>&1"),
                   &status);
  EXPECT_NE(status, 0) << out;
  EXPECT_NE(out.find(cluster_->gcs_address()), std::string::npos) << out;
  // A CA file that is not there is named.
  out = RunCommand(absl::StrCat(GLINT_CLI_PATH, " list nodes --address ", cluster_->gcs_address(),
                                " --tls-ca /nonexistent/ca.pem 2>&1"),
                   &status);
  EXPECT_NE(status, 0) << out;
  EXPECT_NE(out.find("/nonexistent/ca.pem"), std::string::npos) << out;
}

// The dashboard serves HTTPS only, and in a mutual cluster only to clients
// with a certificate of the cluster's CA (as its gRPC servers).
TEST_F(MutualTlsTest, TheDashboardServesHttpsToClientsWithACertificateOfTheClustersCa) {
  glint::HttpCallOptions o;
  o.token = cluster_->auth_token();
  o.tls = certs().cluster;
  auto r = glint::HttpCall(cluster_->dashboard_address(), "GET", "/api/jobs/", "", o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200) << r->body;
  o.tls.cert = o.tls.key = "";  // the CA alone
  EXPECT_FALSE(glint::HttpCall(cluster_->dashboard_address(), "GET", "/api/jobs/", "", o).ok());
  o.tls = {};  // plain HTTP: told to use HTTPS
  r = glint::HttpCall(cluster_->dashboard_address(), "GET", "/api/jobs/", "", o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 400) << r->body;
}

TEST_F(MutualTlsTest, OnlyClientsWithACertificateOfTheClustersCaAreServed) {
  EXPECT_EQ(glint::Task(Plus).Remote(2, 3).Get(), 5);
  for (auto& [address, kind] : Servers()) {
    SCOPED_TRACE(kind + " at " + address);
    const std::string& token = cluster_->auth_token();
    EXPECT_EQ(Ask(ChannelAs(Client::kPlaintext, address, certs(), token), kind), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(Ask(ChannelAs(Client::kTlsNoCert, address, certs(), token), kind), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(Ask(ChannelAs(Client::kStrangerCert, address, certs(), token), kind),
              grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(Ask(ChannelAs(Client::kTlsNoToken, address, certs(), token), kind),
              grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(Ask(ChannelAs(Client::kTlsFull, address, certs(), token), kind), grpc::StatusCode::OK);
  }
}

// A driver that does not know the cluster speaks TLS (another machine, no
// settings given) cannot join, and its error names the address.
TEST(TlsDriverTest, ADriverWithoutTheTlsSettingsCannotJoinAndSaysWhere) {
  std::string why;
  auto& certs = Certificates(&why);
  if (!certs) GTEST_SKIP() << why;
  TestCluster cluster(1, "", {}, certs->cluster);
  glint::Config c;
  c.address = cluster.gcs_address();
  c.auth_token = cluster.auth_token();
  glint::testing::ScopedEnv elsewhere("GLINT_TMPDIR", TempDir());  // as on another machine: no session of it here
  c.gcs_reconnect_timeout_ms = 1000;  // a handshake that fails is retried like a GCS that is away
  try {
    glint::Init(c);
    glint::Shutdown();
    ADD_FAILURE() << "a driver without TLS joined a TLS cluster";
  } catch (const glint::ConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find(cluster.gcs_address()), std::string::npos) << e.what();
  }
  // Given the files (as another machine would), it joins.
  c.tls_cert = certs->cluster.cert;
  c.tls_key = certs->cluster.key;
  c.tls_ca = certs->cluster.ca;
  glint::Init(c);
  EXPECT_EQ(glint::Task(Plus).Remote(20, 22).Get(), 42);
  glint::Shutdown();
}

}  // namespace
