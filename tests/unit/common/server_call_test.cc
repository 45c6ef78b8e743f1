// common/server_call.h and common/health_service.h: methods served from a
// completion queue, a call held open until its client goes, and the health
// check answered there.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/health_service.h"
#include "common/queue_poller.h"
#include "common/rpc.h"
#include "common/server_call.h"
#include "common/server_queue.h"
#include "proto/health.grpc.pb.h"

namespace glint {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

bool WaitUntil(const std::function<bool()>& pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// A server whose services are served from one queue, polled by one thread
// with a cover (ServerQueue, as the daemons serve).
class QueueServer {
 public:
  explicit QueueServer(const std::vector<grpc::Service*>& services) {
    auto s = StartServer("127.0.0.1", 0, services, kGcsLimits, &port_, queue_.slot());
    EXPECT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }
  grpc::ServerCompletionQueue* cq() { return queue_.cq(); }
  void Poll() { queue_.Start("glint-test-rpc"); }
  void Stop() {
    if (!server_) return;
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    queue_.Stop();
    server_.reset();
  }
  ~QueueServer() { Stop(); }
  std::unique_ptr<Health::Stub> Stub() {
    return Health::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials()));
  }

 private:
  int port_ = 0;
  ServerQueue queue_;
  std::unique_ptr<grpc::Server> server_;
};

grpc::Status Check(Health::Stub* stub, const std::string& service, HealthCheckResponse* reply,
                   grpc::ClientContext* ctx = nullptr) {
  grpc::ClientContext own;
  if (!ctx) ctx = &own;
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  HealthCheckRequest req;
  req.set_service(service);
  return stub->Check(ctx, req, reply);
}

TEST(HealthServiceTest, AnswersForTheServerAndTheServicesItRunsOnly) {
  HealthService health({"glint.proto.GcsService"});
  QueueServer server({&health});
  health.Serve(server.cq());
  server.Poll();
  auto stub = server.Stub();
  HealthCheckResponse reply;
  ASSERT_TRUE(Check(stub.get(), "", &reply).ok());
  EXPECT_EQ(reply.status(), HealthCheckResponse::SERVING);
  reply.Clear();
  ASSERT_TRUE(Check(stub.get(), "glint.proto.GcsService", &reply).ok());
  EXPECT_EQ(reply.status(), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(stub.get(), "glint.proto.NoSuchService", &reply).error_code(), grpc::StatusCode::NOT_FOUND);
}

// A held call, served with Health's Check for want of a method of its own.
struct Held {
  std::atomic<int> arrived{0};
  std::atomic<int> gone{0};
  std::string last_gone;
  void Serve(Health::AsyncService* svc, grpc::ServerCompletionQueue* cq) {
    HeldServerCall<HealthCheckRequest, HealthCheckResponse>::Serve(
        svc, cq, &Health::AsyncService::RequestCheck,
        {[this](const HealthCheckRequest& req) {
           if (req.service() == "refuse") return absl::PermissionDeniedError("refused");
           ++arrived;
           return absl::OkStatus();
         },
         [this](const HealthCheckRequest& req) {
           last_gone = req.service();
           ++gone;
         }});
  }
};

TEST(HeldServerCallTest, AHeldCallEndsWhenItsClientGoesAndTheServerIsTold) {
  Health::AsyncService svc;
  QueueServer server({&svc});
  Held held;
  held.Serve(&svc, server.cq());
  server.Poll();
  auto stub = server.Stub();
  // Refused: the call ends at once with the handler's status.
  HealthCheckResponse reply;
  EXPECT_EQ(Check(stub.get(), "refuse", &reply).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(held.gone.load(), 0) << "a refused call was never held";
  // Two held at once; the first one's client goes.
  grpc::ClientContext first_ctx, second_ctx;
  grpc::Status first_status, second_status;
  std::thread first([&] { first_status = Check(stub.get(), "first", &reply, &first_ctx); });
  std::thread second([&] {
    HealthCheckResponse r;
    second_status = Check(stub.get(), "second", &r, &second_ctx);
  });
  ASSERT_TRUE(WaitUntil([&] { return held.arrived.load() == 2; })) << "both calls arrive and are held";
  first_ctx.TryCancel();
  first.join();
  EXPECT_EQ(first_status.error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(WaitUntil([&] { return held.gone.load() == 1; })) << "the server hears the client went";
  EXPECT_EQ(held.last_gone, "first");
  // The server's shutdown ends the other one.
  server.Stop();
  second.join();
  EXPECT_FALSE(second_status.ok());
  EXPECT_EQ(held.gone.load(), 2) << "a held call ended by the server's shutdown is gone too";
}

TEST(ServeUnaryTest, EachRequestIsAnsweredFromTheQueueWithItsStatus) {
  Health::AsyncService svc;
  QueueServer server({&svc});
  std::atomic<int> answered{0};
  ServeUnary(&svc, server.cq(), &Health::AsyncService::RequestCheck,
             [&](const HealthCheckRequest& req, HealthCheckResponse* reply) {
               ++answered;
               if (req.service().empty()) return absl::InvalidArgumentError("name a service");
               reply->set_status(HealthCheckResponse::NOT_SERVING);
               return absl::OkStatus();
             });
  server.Poll();
  auto stub = server.Stub();
  HealthCheckResponse reply;
  EXPECT_EQ(Check(stub.get(), "", &reply).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Many at once: every one is answered (the method listens again before it answers).
  std::vector<std::thread> callers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      HealthCheckResponse r;
      if (Check(stub.get(), "x", &r).ok() && r.status() == HealthCheckResponse::NOT_SERVING) ++ok;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(answered.load(), 9);
}

}  // namespace
}  // namespace glint
