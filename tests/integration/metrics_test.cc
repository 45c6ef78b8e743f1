// Prometheus metrics, scraped as Prometheus does (a GET with the cluster
// token as a bearer header), across real processes: the dashboard's
// /metrics counts the cluster's actors, tasks and jobs, and the numbers move
// as a driver works; each raylet's metrics port (listed by glint status)
// serves its node's object store bytes, workers and the latency of the
// calls its gRPC server answered; without the token, nothing.
#include <glint/api.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "testing/shell.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::Contains;
using glint::testing::WaitUntil;

int Twice(int x) { return 2 * x; }
class Meter {
 public:
  static Meter* Create() { return new Meter(); }
  int Read() { return 7; }
};
GLINT_REMOTE(Twice, Meter::Create, &Meter::Read);

class MetricsTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2, "", "metrics-test", {}, {}, /*dashboard=*/true); }

  static glint::HttpReply Scrape(const std::string& address, const std::string& token) {
    glint::HttpCallOptions o;
    o.token = token;
    auto r = glint::HttpCall(address, "GET", "/metrics", "", o);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : glint::HttpReply{};
  }
  // The value of the sample `series` (its name and labels exactly as
  // exposed), or -1 when the scrape has no such sample.
  static double Sample(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(series + " ", 0) == 0) return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
    return -1;
  }
  static double Cluster(const std::string& series) {
    return Sample(Scrape(cluster_->dashboard_address(), cluster_->auth_token()).body, series);
  }
  // The head raylet's metrics address, as the GCS lists its node.
  static std::string NodeMetricsAddress() {
    auto nodes = CliJson("list nodes");
    EXPECT_TRUE(nodes.is_array() && nodes.size() == 1) << nodes;
    return nodes.is_array() && !nodes.empty() ? nodes[0].value("metrics_address", "") : "";
  }
};

TEST_F(MetricsTest, TheClusterMetricsMoveAsADriverWorks) {
  auto first = Scrape(cluster_->dashboard_address(), cluster_->auth_token());
  ASSERT_EQ(first.status, 200);
  EXPECT_PRED2(Contains, first.content_type, "text/plain; version=0.0.4");
  EXPECT_PRED2(Contains, first.body, "# TYPE glint_cluster_actors gauge\n");
  EXPECT_EQ(Sample(first.body, R"(glint_cluster_nodes{state="ALIVE"})"), 1);
  const double actors = Sample(first.body, R"(glint_cluster_actors{state="ALIVE"})");
  const double finished = Sample(first.body, R"(glint_cluster_tasks{state="FINISHED"})");
  const double succeeded = Sample(first.body, R"(glint_cluster_jobs{state="SUCCEEDED"})");
  ASSERT_GE(actors, 0);
  ASSERT_GE(finished, 0);
  ASSERT_GE(succeeded, 0);
  EXPECT_GT(Sample(first.body, R"(glint_node_memory_total_bytes{node="head"})"), 0);

  auto meter = glint::Actor(Meter::Create).Remote();
  ASSERT_EQ(meter.Task(&Meter::Read).Remote().Get(), 7);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(glint::Task(Twice).Remote(i).Get(), 2 * i);
  glint::HttpCallOptions o;
  o.token = cluster_->auth_token();
  auto job = glint::HttpCall(cluster_->dashboard_address(), "POST", "/api/jobs/", R"({"entrypoint": "true"})", o);
  ASSERT_TRUE(job.ok() && job->status == 200) << (job.ok() ? job->body : std::string(job.status().message()));

  // Task reports reach the GCS within about a second; the rest at once.
  EXPECT_TRUE(WaitUntil([&] {
    return Cluster(R"(glint_cluster_actors{state="ALIVE"})") == actors + 1 &&
           Cluster(R"(glint_cluster_tasks{state="FINISHED"})") >= finished + 7 &&  // creation, call, 5 tasks
           Cluster(R"(glint_cluster_jobs{state="SUCCEEDED"})") == succeeded + 1;
  })) << Scrape(cluster_->dashboard_address(), cluster_->auth_token()).body;
  glint::Kill(meter);
  EXPECT_TRUE(WaitUntil([&] { return Cluster(R"(glint_cluster_actors{state="ALIVE"})") == actors; }));

  EXPECT_EQ(Scrape(cluster_->dashboard_address(), "").status, 401);
  EXPECT_EQ(Scrape(cluster_->dashboard_address(), "wrong").status, 401);
}

TEST_F(MetricsTest, EachRayletServesItsNodeAndItsRpcLatencies) {
  const std::string address = NodeMetricsAddress();
  ASSERT_FALSE(address.empty());
  // glint status lists it.
  auto [status, code] = Cli("status");
  EXPECT_EQ(code, 0);
  EXPECT_PRED2(Contains, status, "http://" + address + "/metrics");

  auto before = Scrape(address, cluster_->auth_token());
  ASSERT_EQ(before.status, 200) << before.body;
  const std::string create = R"(glint_rpc_server_latency_seconds_count{method="/glint.proto.RayletService/CreateObject"})";
  auto stored = [](const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {  // glint_object_store_bytes{node="<hex>",location="memory"} N
      if (line.rfind("glint_object_store_bytes{", 0) == 0 && Contains(line, R"(location="memory"})")) {
        return std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
      }
    }
    return -1.0;
  };
  const double bytes_before = stored(before.body);
  ASSERT_GE(bytes_before, 0) << before.body;
  const double creates_before = std::max(0.0, Sample(before.body, create));  // absent until the first call

  // A 4 MiB value goes to the node's store (through CreateObject, timed).
  auto ref = glint::Put(std::vector<uint8_t>(4 << 20, 1));
  auto after = Scrape(address, cluster_->auth_token());
  EXPECT_GE(stored(after.body), bytes_before + (4 << 20)) << after.body;
  EXPECT_GE(Sample(after.body, create), creates_before + 1) << after.body;
  EXPECT_PRED2(Contains, after.body, "# TYPE glint_rpc_server_latency_seconds histogram\n");
  EXPECT_PRED2(Contains, after.body, R"(method="/glint.proto.RayletService/CreateObject",le="+Inf"})");
  EXPECT_PRED2(Contains, after.body, "glint_node_workers{");
  EXPECT_PRED2(Contains, after.body, "glint_node_memory_available_bytes{");
  EXPECT_EQ(Scrape(address, "").status, 401);
}

// Both scrapes parse with Prometheus' own Python client's text parser
// (Debian's python3-prometheus-client), as a scraper would read them.
TEST_F(MetricsTest, BothScrapesParseAsPrometheusText) {
  int status = 0;
  glint::testing::RunCommand("/usr/bin/python3 -c 'import prometheus_client.parser' 2> /dev/null", &status);
  if (status != 0) GTEST_SKIP() << "python3-prometheus-client is not installed: the text is not parsed by a reader";
  auto ref = glint::Put(std::vector<uint8_t>(1 << 20, 2));  // a CreateObject call, so a histogram is there
  for (const std::string& address : {cluster_->dashboard_address(), NodeMetricsAddress()}) {
    auto scrape = Scrape(address, cluster_->auth_token());
    ASSERT_EQ(scrape.status, 200);
    std::string file = glint::testing::TempDir() + "/metrics.txt";
    std::ofstream(file) << scrape.body;
    std::string out = glint::testing::RunCommand(
        "/usr/bin/python3 -c 'import sys; from prometheus_client.parser import text_string_to_metric_families as p; "
        "fams = list(p(open(sys.argv[1]).read())); "
        "print(len(fams), sum(len(f.samples) for f in fams), sorted({f.type for f in fams}))' " + file + " 2>&1",
        &status);
    EXPECT_EQ(status, 0) << address << ": " << out << "\n" << scrape.body;
    EXPECT_PRED2(Contains, out, "'gauge'");
    if (address != cluster_->dashboard_address()) {
      EXPECT_PRED2(Contains, out, "'histogram'");
    }
    std::filesystem::remove_all(file.substr(0, file.rfind('/')));
  }
}

}  // namespace
