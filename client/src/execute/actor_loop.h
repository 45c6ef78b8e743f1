// ActorLoop: the event loop of an async actor, an Asio io_context run by one
// thread. One per worker process (a worker hosts at most one actor), from
// its creation to the process's exit. Calls are admitted up to `limit` at
// once; the rest wait in arrival order. Post/PostAfter are thread-safe;
// Admit/Done run on the loop thread.
#pragma once
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

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
  // Adds a concurrency group with its own limit (before any call).
  void AddGroup(const std::string& name, int limit);
  // Runs `start` now if the group ("" is the default) has fewer than its
  // limit running, else later; every started call must end with Done(group).
  void Admit(const std::string& group, std::function<void()> start);
  void Done(const std::string& group);
  // Stops the loop and joins its thread, waiting up to `grace` for the
  // handler that runs (a thread stuck in user code is left to the exit).
  void Stop(absl::Duration grace);

 private:
  struct Limit {
    int limit = 0;
    int running = 0;
    std::deque<std::function<void()>> waiting;
  };
  explicit ActorLoop(int limit);
  boost::asio::io_context ctx_;
  std::map<std::string, Limit> groups_;  // touched on the loop thread only
  absl::Notification ended_;
  std::thread thread_;
};

}  // namespace glint::internal
