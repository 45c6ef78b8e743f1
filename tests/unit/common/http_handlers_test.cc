// The HTTP server's handlers run on a pool of their own
// (common/http_server.h): a handler that waits holds only its own request,
// requests beyond the bound are answered 503 at once, and a server stopped
// while a handler runs stops cleanly.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/http_client.h"
#include "common/http_server.h"

namespace glint {
namespace {

// Polls `pred` until it holds, for at most 10 s (test_cluster.h's
// WaitUntil needs libglint, which this test does not link).
bool WaitUntil(const std::function<bool()>& pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class HttpHandlersTest : public ::testing::Test {
 protected:
  // A server on one connection thread with a route that waits until
  // released and one that answers at once.
  void Serve(int handler_threads, int max_pending) {
    HttpServerOptions o;
    o.threads = 1;
    o.handler_threads = handler_threads;
    o.max_pending = max_pending;
    server_ = std::make_unique<HttpServer>(o);
    server_->Route("GET", "/slow", [this](const HttpRequest&) {
      ++waiting_;
      release_.WaitForNotificationWithTimeout(absl::Seconds(30));
      return HttpResponse{200, "text/plain", "slow"};
    });
    server_->Route("GET", "/fast", [](const HttpRequest&) {
      return HttpResponse{200, "text/plain", "fast"};
    });
    ASSERT_TRUE(server_->Start().ok());
    address_ = "127.0.0.1:" + std::to_string(server_->port());
  }
  // `n` requests to /slow from threads of their own, each one's status kept.
  void StartSlow(int n) {
    for (int i = 0; i < n; ++i) {
      slow_.emplace_back([this] {
        HttpCallOptions o;
        o.timeout_ms = 30000;
        auto r = HttpCall(address_, "GET", "/slow", "", o);
        absl::MutexLock lock(&mu_);
        slow_statuses_.push_back(r.ok() ? r->status : -1);
        if (!r.ok()) slow_errors_.emplace_back(r.status().message());
      });
    }
  }
  void TearDown() override {
    if (!release_.HasBeenNotified()) release_.Notify();
    for (auto& t : slow_) t.join();
  }
  int Fast() {
    HttpCallOptions o;
    o.timeout_ms = 5000;
    auto r = HttpCall(address_, "GET", "/fast", "", o);
    return r.ok() ? r->status : -1;
  }

  std::unique_ptr<HttpServer> server_;
  std::string address_;
  std::atomic<int> waiting_{0};
  absl::Notification release_;
  std::vector<std::thread> slow_;
  absl::Mutex mu_;  // the slow threads write below; the test reads after joining them
  std::vector<int> slow_statuses_;
  std::vector<std::string> slow_errors_;
};

TEST_F(HttpHandlersTest, HandlersThatWaitHoldUpNoOtherRequest) {
  Serve(/*handler_threads=*/4, /*max_pending=*/64);
  // More waiting handlers than the server has connection threads.
  StartSlow(3);
  ASSERT_TRUE(WaitUntil([&] { return waiting_ == 3; }));
  EXPECT_EQ(Fast(), 200);
  EXPECT_EQ(Fast(), 200);
  release_.Notify();
  for (auto& t : slow_) t.join();
  slow_.clear();
  EXPECT_EQ(slow_statuses_, (std::vector<int>{200, 200, 200}));
}

TEST_F(HttpHandlersTest, RequestsBeyondTheBoundAreToldTheServerIsBusy) {
  Serve(/*handler_threads=*/2, /*max_pending=*/2);
  StartSlow(2);
  ASSERT_TRUE(WaitUntil([&] { return waiting_ == 2; }));
  EXPECT_EQ(Fast(), 503);
  release_.Notify();
  for (auto& t : slow_) t.join();
  slow_.clear();
  EXPECT_EQ(Fast(), 200);  // room again
}

TEST_F(HttpHandlersTest, AServerStoppedWhileAHandlerRunsStopsCleanly) {
  Serve(/*handler_threads=*/2, /*max_pending=*/64);
  StartSlow(1);
  ASSERT_TRUE(WaitUntil([&] { return waiting_ == 1; }));
  std::thread stopper([&] { server_.reset(); });  // stopped and gone
  release_.Notify();  // the handler ends; its answer has no connection to go to
  stopper.join();
  for (auto& t : slow_) t.join();
  slow_.clear();
  // The client heard the answer (the handler won the race) or the
  // connection's end (the stop did), and did not wait out its timeout.
  ASSERT_EQ(slow_statuses_.size(), 1u);
  EXPECT_TRUE(slow_statuses_[0] == 200 || slow_statuses_[0] == -1) << slow_statuses_[0];
  for (const auto& e : slow_errors_) EXPECT_EQ(e.find("timed out"), std::string::npos) << e;
}

}  // namespace
}  // namespace glint
