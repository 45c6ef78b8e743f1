// Metrics in Prometheus' text exposition format (version 0.0.4), written
// directly (the format is small; Debian has no Prometheus client library):
// an Exposition gathers the families of one scrape, LatencyHistogram counts
// durations into fixed buckets, and the server RPC metrics time every unary
// call a daemon's gRPC servers answer, per method.
#pragma once
#include <grpcpp/support/server_interceptor.h>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace glint::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Durations in seconds, counted into fixed buckets (0.1 ms to 10 s);
// thread-safe, lock-free.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                     0.01,   0.025,   0.05,   0.1,   1,      10};
  void Observe(double seconds);
  struct Snapshot {
    std::array<uint64_t, kBounds.size()> cumulative{};  // observations <= each bound
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  // the last: above every bound
  std::atomic<uint64_t> sum_micros_{0};
};

// One scrape's text: families in the order first added, each with its HELP
// and TYPE once, then its samples.
class Exposition {
 public:
  void Gauge(const std::string& name, const std::string& help, const Labels& labels, double value);
  void Counter(const std::string& name, const std::string& help, const Labels& labels, double value);
  void Histogram(const std::string& name, const std::string& help, const Labels& labels,
                 const LatencyHistogram::Snapshot& h);
  std::string Text() const;

  static constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Family {
    std::string help, type, samples;
  };
  Family& Of(const std::string& name, const std::string& help, const char* type);
  std::vector<std::string> order_;
  std::map<std::string, Family> families_;
};

// The latency of every unary call this process's gRPC servers answer, by
// method. Off until EnableServerRpcMetrics (the daemons turn it on before
// they build their servers; a driver's and a worker's servers, the actor
// call's path, are not timed).
void EnableServerRpcMetrics();
// The interceptor StartServer adds when it is on (nullptr when off).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> ServerRpcInterceptor();
// Adds glint_rpc_server_latency_seconds{method=...} to `out`.
void ExportServerRpcMetrics(Exposition* out);

// This machine: CPUs, load, memory (from /proc).
void ExportMachineMetrics(Exposition* out, const Labels& labels);

}  // namespace glint::metrics
