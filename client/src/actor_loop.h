// ActorLoop: the event loop of an async actor, an Asio io_context run by one
// thread. One per worker process (a worker hosts at most one actor). Calls
// are admitted up to `limit` at once; the rest wait in arrival order.
// Post/PostAfter are thread-safe; Admit/Done run on the loop thread.
#pragma once
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <thread>

namespace glint::internal {

class ActorLoop {
 public:
  // Makes the process's loop (once) and starts its thread.
  static ActorLoop* Create(int limit);
  // The process's loop, or null when this is not an async actor.
  static ActorLoop* Current();
  static bool OnLoopThread();

  boost::asio::io_context& context() { return ctx_; }
  void Post(std::function<void()> fn);
  void PostAfter(std::chrono::nanoseconds delay, std::function<void()> fn);
  // Runs `start` now if fewer than `limit` calls are running, else later;
  // every started call must end with Done().
  void Admit(std::function<void()> start);
  void Done();

 private:
  explicit ActorLoop(int limit);
  boost::asio::io_context ctx_;
  int limit_;
  int running_ = 0;
  std::deque<std::function<void()>> waiting_;
  std::thread thread_;
};

}  // namespace glint::internal
