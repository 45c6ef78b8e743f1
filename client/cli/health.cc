// glint health: asks a daemon's standard gRPC health service whether it
// serves (the GCS by default, or any raylet's HOST:PORT), with the
// cluster's credentials; exit 0 only when it does. What a container's or a
// unit's probe runs.
#include <iostream>
#include <memory>

#include "client/cli/cli.h"
#include "common/rpc.h"
#include "proto/health.grpc.pb.h"

namespace glint::cli {
namespace {

using HealthStub = grpc::health::v1::Health::Stub;

struct HealthFlags {
  ClusterFlags cluster;
  std::string target;
  int timeout_ms = 5000;
};

int Health(const HealthFlags& f) {
  std::string gcs = GcsAddress(f.cluster);
  std::string target = f.target.empty() ? gcs : f.target;
  if (target.empty()) {
    std::cerr << "no address: pass the daemon's HOST:PORT, or --address for the GCS\n";
    return kFailed;
  }
  if (auto s = SetClusterAuth(Auth(f.cluster, gcs.empty() ? target : gcs)); !s.ok()) {
    std::cerr << s.message() << "\n";
    return kFailed;
  }
  ClientQueueThread client;
  grpc::health::v1::HealthCheckResponse reply;
  auto s = BlockingCall(client.queue(), MakeStub<grpc::health::v1::Health>(target), &HealthStub::PrepareAsyncCheck,
                        grpc::health::v1::HealthCheckRequest(), f.timeout_ms, &reply);
  if (!s.ok()) {
    std::cerr << target << ": no answer: " << s.message() << "\n";
    return kFailed;
  }
  std::cout << target << ": " << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(reply.status()) << "\n";
  return reply.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : kFailed;
}

}  // namespace

void AddHealthCommands(CLI::App* app, int* exit_code) {
  auto f = std::make_shared<HealthFlags>();
  auto* health = app->add_subcommand("health", "whether a daemon serves (exit 0) or not (exit 1)");
  health->add_option("target", f->target, "a daemon's HOST:PORT (default: the GCS)");
  AddClusterFlags(health, &f->cluster,
                  "the cluster's GCS, HOST:PORT (default: $GLINT_ADDRESS, else this machine's latest)");
  health->add_option("--timeout-ms", f->timeout_ms, "how long to wait for the answer")->check(CLI::PositiveNumber);
  health->callback([f, exit_code] { *exit_code = Health(*f); });
}

}  // namespace glint::cli
