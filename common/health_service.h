// HealthService: the standard gRPC health check (grpc.health.v1.Health,
// Check) served from a completion queue, for servers whose requests are all
// taken off one queue (the GCS). gRPC's built-in health service runs on its
// callback API, whose threads would then poll the server's sockets too and
// pass every request on to the queue's thread. Check("") and Check(NAME)
// for a service the server runs answer SERVING; other names NOT_FOUND, as
// gRPC's own does.
#pragma once
#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "proto/health.grpc.pb.h"

namespace glint {

class HealthService final : public grpc::health::v1::Health::AsyncService {
 public:
  // `services`: the full names of the services the server runs.
  explicit HealthService(std::vector<std::string> services) : services_(std::move(services)) {}
  // Starts taking requests from `cq`.
  void Serve(grpc::ServerCompletionQueue* cq);

 private:
  const std::vector<std::string> services_;
};

}  // namespace glint
