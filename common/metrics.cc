#include "common/metrics.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace glint::metrics {
namespace {

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string LabelText(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    absl::StrAppend(&out, i ? "," : "", labels[i].first, "=\"", Escape(labels[i].second), "\"");
  }
  return out + "}";
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrCat(static_cast<int64_t>(v));
  return absl::StrCat(v);
}

// Per method: one histogram, made the first time the method is called (a
// server's methods are a fixed, small set).
class RpcLatencies {
 public:
  LatencyHistogram* For(const char* method) {
    {
      absl::ReaderMutexLock l(&mu_);
      auto it = by_method_.find(method);
      if (it != by_method_.end()) return it->second.get();
    }
    absl::MutexLock l(&mu_);
    auto& h = by_method_[method];
    if (!h) h = std::make_unique<LatencyHistogram>();
    return h.get();
  }
  void Export(Exposition* out) {
    absl::ReaderMutexLock l(&mu_);
    std::map<std::string, LatencyHistogram*> sorted;
    for (auto& [m, h] : by_method_) sorted[m] = h.get();
    for (auto& [m, h] : sorted) {
      out->Histogram("glint_rpc_server_latency_seconds", "Time to answer a unary gRPC call, by method.",
                     {{"method", m}}, h->Read());
    }
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<LatencyHistogram>> by_method_ ABSL_GUARDED_BY(mu_);
};

RpcLatencies& Latencies() {
  static auto* l = new RpcLatencies();
  return *l;
}
std::atomic<bool> rpc_metrics_on{false};

// Times one call: from when the server took it to when it sends the status.
class TimingInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit TimingInterceptor(LatencyHistogram* h) : h_(h), start_(std::chrono::steady_clock::now()) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      h_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    }
    methods->Proceed();
  }

 private:
  LatencyHistogram* h_;
  std::chrono::steady_clock::time_point start_;
};

class TimingFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    if (info->type() != grpc::experimental::ServerRpcInfo::Type::UNARY) return nullptr;  // a stream's life is no latency
    return new TimingInterceptor(Latencies().For(info->method()));
  }
};

}  // namespace

void LatencyHistogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

LatencyHistogram::Snapshot LatencyHistogram::Read() const {
  Snapshot s;
  uint64_t running = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running + buckets_[kBounds.size()].load(std::memory_order_relaxed);
  s.sum = sum_micros_.load(std::memory_order_relaxed) / 1e6;
  return s;
}

Exposition::Family& Exposition::Of(const std::string& name, const std::string& help, const char* type) {
  auto [it, added] = families_.try_emplace(name);
  if (added) {
    order_.push_back(name);
    it->second.help = help;
    it->second.type = type;
  }
  return it->second;
}

void Exposition::Gauge(const std::string& name, const std::string& help, const Labels& labels, double value) {
  absl::StrAppend(&Of(name, help, "gauge").samples, name, LabelText(labels), " ", Number(value), "\n");
}

void Exposition::Counter(const std::string& name, const std::string& help, const Labels& labels, double value) {
  absl::StrAppend(&Of(name, help, "counter").samples, name, LabelText(labels), " ", Number(value), "\n");
}

void Exposition::Histogram(const std::string& name, const std::string& help, const Labels& labels,
                           const LatencyHistogram::Snapshot& h) {
  auto& f = Of(name, help, "histogram");
  for (size_t i = 0; i <= LatencyHistogram::kBounds.size(); ++i) {
    Labels with_le = labels;
    bool last = i == LatencyHistogram::kBounds.size();
    with_le.emplace_back("le", last ? "+Inf" : Number(LatencyHistogram::kBounds[i]));
    absl::StrAppend(&f.samples, name, "_bucket", LabelText(with_le), " ", last ? h.count : h.cumulative[i], "\n");
  }
  absl::StrAppend(&f.samples, name, "_sum", LabelText(labels), " ", Number(h.sum), "\n");
  absl::StrAppend(&f.samples, name, "_count", LabelText(labels), " ", h.count, "\n");
}

std::string Exposition::Text() const {
  std::string out;
  for (const auto& name : order_) {
    const auto& f = families_.at(name);
    absl::StrAppend(&out, "# HELP ", name, " ", f.help, "\n# TYPE ", name, " ", f.type, "\n", f.samples);
  }
  return out;
}

void EnableServerRpcMetrics() { rpc_metrics_on = true; }

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> ServerRpcInterceptor() {
  if (!rpc_metrics_on) return nullptr;
  return std::make_unique<TimingFactory>();
}

void ExportServerRpcMetrics(Exposition* out) { Latencies().Export(out); }

void ExportMachineMetrics(Exposition* out, const Labels& labels) {
  out->Gauge("glint_node_cpus", "CPUs this machine has.", labels, sysconf(_SC_NPROCESSORS_ONLN));
  double load1 = 0;
  if (std::ifstream f("/proc/loadavg"); f >> load1) {
    out->Gauge("glint_node_load1", "The machine's load average over a minute.", labels, load1);
  }
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kb = 0;
  std::string unit;
  while (meminfo >> key >> kb) {
    std::getline(meminfo, unit);
    if (key == "MemTotal:") {
      out->Gauge("glint_node_memory_total_bytes", "The machine's memory.", labels, kb * 1024);
    } else if (key == "MemAvailable:") {
      out->Gauge("glint_node_memory_available_bytes", "Memory the machine has available.", labels, kb * 1024);
    }
  }
}

}  // namespace glint::metrics
