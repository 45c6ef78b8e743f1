#include "common/rpc.h"

#include <grpcpp/ext/health_check_service_server_builder_option.h>

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "common/ids.h"
#include "common/metrics.h"
#include "common/port_holder.h"

#include <grpcpp/resource_quota.h>

namespace glint {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

std::string AddrString(const proto::Address& a) { return absl::StrCat(a.ip(), ":", a.port()); }

absl::StatusOr<proto::Address> ParseAddress(const std::string& s) {
  auto colon = s.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 || !absl::SimpleAtoi(s.substr(colon + 1), &port) ||
      port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad address '", s, "': expected HOST:PORT"));
  }
  proto::Address a;
  a.set_ip(s.substr(0, colon));
  a.set_port(port);
  return a;
}

std::shared_ptr<grpc::Channel> ChannelPool::Get(const std::string& target, const std::string& instance) {
  return channels_.Get(instance.empty() ? target : target + '/' + instance, [&] {
    grpc::ChannelArguments args;
    // A channel argument of its own keeps gRPC from sharing the connection
    // (and its backoff) with another channel to the same target.
    if (!instance.empty()) args.SetString("glint.peer_instance", IdHex(instance));
    args.SetMaxReceiveMessageSize(kMaxCallMessageBytes);  // replies are bounded like requests
    args.SetMaxSendMessageSize(-1);
    // Reconnect quickly after a peer restarts (defaults back off up to 2 min).
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    // But give each attempt time to finish: gRPC takes this as the least
    // time a connection attempt gets (its handshake included). A process
    // starting among hundreds on a busy node, or a loaded daemon, may need
    // more than a second; a port nobody listens on is refused at once anyway.
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 20000);
    auto creds = ChannelCredentialsFor(target, &args);
    return grpc::CreateCustomChannel(target, creds, args);
  });
}

ChannelPool& ChannelPool::Default() {
  static auto* pool = new ChannelPool();
  return *pool;
}

void SetDeadlineMs(grpc::ClientContext* ctx, int64_t ms) {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(ms));
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartServer(
    const std::string& host, int port, const std::vector<grpc::Service*>& services, const ServerLimits& limits,
    int* bound_port, std::unique_ptr<grpc::ServerCompletionQueue>* cq) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", port, " is not a port (0 to 65535; 0 picks a free one)"));
  }
  auto creds = ServerCredentialsFor(host);
  if (!creds.ok()) return creds.status();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second server on a port in use
  // would then share it (two GCSs answering at random) instead of failing.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(absl::StrCat(host, ":", port), *creds, bound_port);
  builder.SetMaxReceiveMessageSize(limits.max_message_bytes);
  // gRPC (1.51) checks a message's size only once all of it is in, so the
  // memory its transport may hold is bounded too: past this a stream is
  // reset (RESOURCE_EXHAUSTED at the caller) before it grows further.
  grpc::ResourceQuota quota("glint-server");
  quota.Resize(static_cast<size_t>(limits.memory_bytes));
  builder.SetResourceQuota(quota);
  builder.SetMaxSendMessageSize(-1);  // the receiving end bounds what it takes
  for (auto* s : services) builder.RegisterService(s);
  if (auto timing = metrics::ServerRpcInterceptor()) {  // daemons only (metrics.h)
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(std::move(timing));
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  if (cq) {
    *cq = builder.AddCompletionQueue();
    // A server on a completion queue answers health checks there itself
    // (common/health_service.h): gRPC's built-in service would bring the
    // callback API's threads, which poll every socket of the process.
    builder.SetOption(std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(nullptr));
  }
  auto server = builder.BuildAndStart();
  if (!server || *bound_port == 0) {
    if (std::string holder = port > 0 ? PortHolder(port) : ""; !holder.empty()) {
      return absl::AlreadyExistsError(absl::StrCat("cannot listen on ", host, ":", port, ": port ", port,
                                                   " is in use by ", holder));
    }
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", host, ":", port,
        TlsEnabled() ? " (with TLS: are the certificate and key valid PEM, and do they belong together?)"
                     : " (is the port taken, or the address not this machine's?)"));
  }
  return server;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {
// Debian builds Abseil without NDEBUG, which leaves absl::Mutex's deadlock
// detection on: every lock (gRPC's own included) then goes through a global
// graph of locks, a few percent of a call's CPU (perf). The sanitizer builds
// keep it as a lock-order check for the tests.
[[maybe_unused]] const bool kFastMutexes = [] {
#ifndef GLINT_SANITIZER
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  return true;
}();
}  // namespace
}  // namespace glint
