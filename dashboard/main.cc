// glint-dashboard: the head node's HTTP endpoint (default port 8265) and its
// job supervisor. It serves the web page (page.h), the cluster's state
// (cluster_api.h), its metrics (metrics_api.h), actors' logs (logs_api.h)
// and the jobs API (jobs_api.h) behind the cluster's token, runs submitted jobs (job_supervisor.h), keeps their records in the
// GCS (job_store.h), and records its own address in the GCS's key-value
// store (namespace "cluster", key "dashboard_address") so that a CLI that
// knows the GCS finds it.
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/async_call.h"
#include "common/auth.h"
#include "common/daemon_flags.h"
#include "common/daemon_main.h"
#include "common/logging.h"
#include "common/rpc.h"
#include "dashboard/cluster_api.h"
#include "common/http_server.h"
#include "dashboard/job_store.h"
#include "dashboard/job_supervisor.h"
#include "dashboard/jobs_api.h"
#include "dashboard/logs_api.h"
#include "dashboard/metrics_api.h"
#include "dashboard/packages_api.h"
#include "dashboard/page.h"
#include "proto/gcs.grpc.pb.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "address to listen on");
ABSL_FLAG(int, port, 8265, "port to listen on (0 picks a free one)");
ABSL_FLAG(std::string, gcs_address, "127.0.0.1:6380", "the cluster's GCS, HOST:PORT");
ABSL_FLAG(std::string, session_dir, "", "the head's session directory (job logs go to its logs/)");
ABSL_FLAG(std::string, port_file, "", "write the bound port here once listening");
ABSL_FLAG(int, watch_pid, 0, "stop when this process is gone");

namespace glint::dashboard {
namespace {

// Where the CLI finds the dashboard: in the GCS, beside the cluster's tables.
absl::Status RecordAddress(const std::string& gcs, const std::string& address) {
  ClientQueueThread client;
  auto kv = MakeStub<proto::KvService>(gcs);
  proto::KvPutRequest req;
  req.set_ns("cluster");
  req.set_key("dashboard_address");
  req.set_value(address);
  req.set_overwrite(true);
  proto::KvPutReply reply;
  return BlockingCall(client.queue(), kv, &proto::KvService::Stub::PrepareAsyncPut, req, 5000, &reply);
}

int Main(const AuthOptions& auth) {
  std::string host = absl::GetFlag(FLAGS_host);
  // The token may not cross a network in clear text: with TLS the
  // dashboard speaks HTTPS on its node's address; without, a dashboard that
  // asks for the token listens on this machine only.
  if (!auth.token.empty() && !auth.tls.enabled() && !IsLoopback(host)) {
    LOG(WARNING) << "the dashboard listens on 127.0.0.1 only: without TLS it speaks plain HTTP, and " << host
                 << " is reachable from other hosts (give the cluster TLS, or reach it through an SSH tunnel)";
    host = "127.0.0.1";
  }
  const std::string gcs = absl::GetFlag(FLAGS_gcs_address);
  const std::string session = absl::GetFlag(FLAGS_session_dir);
  if (session.empty()) {
    std::cerr << "glint-dashboard: give --session_dir (job logs go to its logs/)\n";
    return 2;
  }
  JobStore store(gcs);
  JobSupervisorOptions jo;
  jo.gcs_address = gcs;
  jo.logs_dir = session + "/logs";
  jo.jobs_dir = session + "/jobs";
  jo.env = AuthEnvironment(auth);
  PackageStore::Options po;
  po.dir = session + "/packages";
  PackageStore packages(po);
  jo.packages = &packages;
  JobSupervisor jobs(jo, &store);
  HttpServerOptions ho;
  ho.host = host;
  ho.port = absl::GetFlag(FLAGS_port);
  ho.auth_token = auth.token;
  ho.tls = auth.tls;
  HttpServer server(ho);
  AddJobRoutes(&server, &jobs, /*auth_enabled=*/!auth.token.empty());
  AddPackageRoutes(&server, &packages, /*auth_enabled=*/!auth.token.empty());
  auto view = std::make_shared<ClusterView>(gcs);  // the page's API and /metrics ask it
  AddClusterRoutes(&server, view, &jobs);
  AddMetricsRoutes(&server, view, &jobs);
  AddLogRoutes(&server, gcs);
  AddPageRoutes(&server);
  return RunDaemon(
      "glint-dashboard",
      {[&]() -> absl::StatusOr<int> {
         if (auto s = jobs.Start(); !s.ok()) {
           return absl::UnavailableError(absl::StrCat("cannot read the jobs from the GCS at ", gcs, ": ", s.message()));
         }
         if (auto s = server.Start(); !s.ok()) return s;
         if (auto s = RecordAddress(gcs, absl::StrCat(host, ":", server.port())); !s.ok()) {
           return absl::UnavailableError(absl::StrCat("cannot record the dashboard's address in the GCS at ", gcs,
                                                      ": ", s.message()));
         }
         LOG(INFO) << "dashboard on " << server.scheme() << "://" << host << ":" << server.port();
         return server.port();
       },
       [&] {
         server.Stop();
         jobs.Shutdown();
       }},
      absl::GetFlag(FLAGS_port_file), absl::GetFlag(FLAGS_watch_pid));
}

}  // namespace
}  // namespace glint::dashboard

int main(int argc, char** argv) {
  glint::BeginDaemon("glint-dashboard");
  absl::ParseCommandLine(argc, argv);
  auto auth = glint::SetUpDaemonAuth("glint-dashboard");
  if (!auth.ok()) {
    std::cerr << "glint-dashboard: " << auth.status().message() << "\n";
    return 2;
  }
  return glint::dashboard::Main(*auth);
}
