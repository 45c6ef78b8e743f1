// gRPC basics shared by every process: addresses, a cache of channels and
// stubs, starting a server, and the one place where gRPC's status and
// absl::Status (what every internal function returns) are converted.
// Calls themselves: async_call.h (client), server_call.h (server).
#pragma once
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/bounded_cache.h"
#include "proto/common.pb.h"

namespace glint {

// The RPC edge: the only conversions between the two kinds of status.
grpc::Status ToGrpc(const absl::Status& s);
absl::Status FromGrpc(const grpc::Status& s);

std::string AddrString(const proto::Address& a);
// Parses "host:port"; an error for anything else.
absl::StatusOr<proto::Address> ParseAddress(const std::string& s);

// At most this many channels, and stubs per cache, are kept (common/
// bounded_cache.h): enough for every node and worker a process talks to in
// a large cluster, and a bound when peers name addresses without end.
constexpr size_t kMaxCachedTargets = 4096;

// One channel per target, created on first use with the process's
// credentials (auth.h). Thread-safe.
class ChannelPool {
 public:
  // `instance`: which process at `target` (a worker's id). A process that
  // took the port of one that exited gets a channel of its own, not the old
  // one's, which may be backing off after failing to connect.
  std::shared_ptr<grpc::Channel> Get(const std::string& target, const std::string& instance = "");
  // Forgets the channels (those in use stay open while used).
  void Clear() { channels_.Clear(); }
  size_t size() { return channels_.size(); }
  static ChannelPool& Default();

 private:
  BoundedCache<grpc::Channel> channels_{kMaxCachedTargets};
};

// Stub for `Service` at `target`, from the default pool.
template <typename Service>
std::unique_ptr<typename Service::Stub> MakeStub(const std::string& target) {
  return Service::NewStub(ChannelPool::Default().Get(target));
}

// One stub per target for `Service`, created on first use. A stub lives
// while the cache keeps it or a caller holds it: hold the pointer for as
// long as the stub is used (a call needs it only until it has started).
// Thread-safe.
template <typename Service>
class StubCache {
 public:
  using Stub = typename Service::Stub;
  // `instance`: as ChannelPool::Get.
  std::shared_ptr<Stub> Get(const std::string& target, const std::string& instance = "") {
    return stubs_.Get(instance.empty() ? target : target + '/' + instance, [&] {
      return std::shared_ptr<Stub>(Service::NewStub(ChannelPool::Default().Get(target, instance)));
    });
  }

 private:
  BoundedCache<Stub> stubs_{kMaxCachedTargets};
};

// Sets a deadline `ms` from now.
void SetDeadlineMs(grpc::ClientContext* ctx, int64_t ms);

// What a server takes: messages of at most `max_message_bytes`, and at most
// `memory_bytes` held by its transport at once (gRPC checks a message's size
// only once all of it is in; the memory bound stops a larger one before).
struct ServerLimits {
  int max_message_bytes;
  int64_t memory_bytes;
};
// The GCS and raylets carry control messages (a value travels through the
// object store in 4 MiB chunks, never as one message); raylets also serve
// chunks to the nodes pulling them. A worker or driver takes batches of
// calls, whose inline values are each under the inline threshold (at most
// 8 MiB).
constexpr ServerLimits kGcsLimits{16 << 20, int64_t{64} << 20};
constexpr ServerLimits kRayletLimits{16 << 20, int64_t{128} << 20};
constexpr ServerLimits kWorkerLimits{256 << 20, int64_t{512} << 20};
constexpr int kMaxControlMessageBytes = kGcsLimits.max_message_bytes;
constexpr int kMaxCallMessageBytes = kWorkerLimits.max_message_bytes;
// A batch of calls or replies on a stream stops growing at this size.
constexpr int64_t kBatchBytes = 4 << 20;
// The metadata key under which the PushTasks stream a lease's holder opens
// to its leased worker names the lease. When that stream ends, the worker
// gives itself back to its raylet: a holder that died (a killed actor that
// had submitted tasks) returns nothing itself.
constexpr char kLeaseIdMetadataKey[] = "glint-lease-bin";

// Builds and starts a server with `services` on host:port (port 0 picks a
// free port) within `limits`; returns the server and the bound port in
// *bound_port. With `cq`, also makes a completion queue for the services'
// async methods, and leaves out gRPC's built-in health service (a daemon
// serving from a queue registers a HealthService instead).
absl::StatusOr<std::unique_ptr<grpc::Server>> StartServer(
    const std::string& host, int port, const std::vector<grpc::Service*>& services, const ServerLimits& limits,
    int* bound_port, std::unique_ptr<grpc::ServerCompletionQueue>* cq = nullptr);

// Wall-clock milliseconds since the epoch.
int64_t NowMs();

}  // namespace glint
