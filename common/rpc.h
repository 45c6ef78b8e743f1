// gRPC helpers: addresses, a cache of channels, a server builder wrapper.
#pragma once
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/common.pb.h"

namespace glint {

std::string AddrString(const proto::Address& a);
// Parses "host:port"; an error for anything else.
absl::StatusOr<proto::Address> ParseAddress(const std::string& s);

// One channel per target, created on first use. Thread-safe.
class ChannelPool {
 public:
  std::shared_ptr<grpc::Channel> Get(const std::string& target);
  static ChannelPool& Default();

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<grpc::Channel>> channels_ ABSL_GUARDED_BY(mu_);
};

// Stub for `Service` at `target`, from the default pool.
template <typename Service>
std::unique_ptr<typename Service::Stub> MakeStub(const std::string& target) {
  return Service::NewStub(ChannelPool::Default().Get(target));
}

// Sets a deadline `ms` from now.
void SetDeadlineMs(grpc::ClientContext* ctx, int64_t ms);

// Builds and starts a server with `services` on host:port (port 0 picks a free
// port); returns the server and the bound port in *bound_port. With `cq`, also
// makes a completion queue for the services' async methods.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartServer(
    const std::string& host, int port, const std::vector<grpc::Service*>& services, int* bound_port,
    std::unique_ptr<grpc::ServerCompletionQueue>* cq = nullptr);

int64_t NowMs();

// One stub per target for `Service`, created on first use. Thread-safe.
template <typename Service>
class StubCache {
 public:
  typename Service::Stub* Get(const std::string& target) {
    absl::MutexLock lock(&mu_);
    auto& s = stubs_[target];
    if (!s) s = Service::NewStub(ChannelPool::Default().Get(target));
    return s.get();
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<typename Service::Stub>> stubs_ ABSL_GUARDED_BY(mu_);
};

// Runs one async unary call: `start(ctx, req, reply, on_done)` issues it
// (e.g. stub->async()->Method), `done(status, req, reply)` runs on an RPC thread.
// `deadline_ms` <= 0 means no deadline. Returns the context, so the caller
// can TryCancel it until `done` has run.
template <typename Req, typename Reply>
struct AsyncCall {
  grpc::ClientContext ctx;
  Req req;
  Reply reply;
  std::function<void(const grpc::Status&, Req&, Reply&)> done;
};

template <typename Req, typename Reply, typename Start>
grpc::ClientContext* CallAsync(Req req, int64_t deadline_ms, Start&& start,
                              std::function<void(const grpc::Status&, Req&, Reply&)> done) {
  auto* c = new AsyncCall<Req, Reply>();
  c->req = std::move(req);
  c->done = std::move(done);
  if (deadline_ms > 0) SetDeadlineMs(&c->ctx, deadline_ms);
  grpc::ClientContext* ctx = &c->ctx;
  start(&c->ctx, &c->req, &c->reply, [c](grpc::Status s) {
    c->done(s, c->req, c->reply);
    delete c;
  });
  return ctx;
}

}  // namespace glint
