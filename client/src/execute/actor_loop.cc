#include <utility>  // Boost 1.74's asio needs it before its own headers

#include "client/src/execute/actor_loop.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "common/process.h"
#include "glint/async.h"
#include "glint/errors.h"

namespace glint::internal {
namespace {
ActorLoop* g_loop = nullptr;
thread_local bool t_on_loop = false;
}  // namespace

ActorLoop::ActorLoop(int limit) {
  groups_[""].limit = limit;
  thread_ = std::thread([this] {
    SetThreadName("glint-loop");
    t_on_loop = true;
    auto guard = boost::asio::make_work_guard(ctx_);
    ctx_.run();
    ended_.Notify();
  });
}

void ActorLoop::Stop(absl::Duration grace) {
  if (!thread_.joinable()) return;
  ctx_.stop();
  if (ended_.WaitForNotificationWithTimeout(grace)) {
    thread_.join();
  } else {
    thread_.detach();  // stuck in user code: left to the process's exit
  }
}

ActorLoop* ActorLoop::Create(int limit) {
  if (!g_loop) g_loop = new ActorLoop(limit);
  return g_loop;
}

ActorLoop* ActorLoop::Current() { return g_loop; }
bool ActorLoop::OnLoopThread() { return t_on_loop; }

void ActorLoop::Post(std::function<void()> fn) { boost::asio::post(ctx_, std::move(fn)); }

void ActorLoop::PostAfter(std::chrono::nanoseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<boost::asio::steady_timer>(ctx_, delay);
  timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code&) { fn(); });
}

void ActorLoop::AddGroup(const std::string& name, int limit) { groups_[name].limit = limit; }

void ActorLoop::Admit(const std::string& group, std::function<void()> start) {
  auto& g = groups_[group];
  if (g.running < g.limit) {
    ++g.running;
    start();
  } else {
    g.waiting.push_back(std::move(start));
  }
}

void ActorLoop::Done(const std::string& group) {
  auto& g = groups_[group];
  --g.running;
  if (!g.waiting.empty() && g.running < g.limit) {
    auto next = std::move(g.waiting.front());
    g.waiting.pop_front();
    ++g.running;
    // Not inline: keeps the stack flat when many calls finish in a row.
    Post(std::move(next));
  }
}

void PostToActorLoop(std::function<void()> fn) {
  if (!g_loop) throw Error("glint coroutines (co_await, Sleep, Yield) run only inside an async actor");
  g_loop->Post(std::move(fn));
}

void PostToActorLoopAfter(std::chrono::nanoseconds delay, std::function<void()> fn) {
  if (!g_loop) throw Error("glint::Sleep runs only inside an async actor");
  g_loop->PostAfter(delay, std::move(fn));
}

}  // namespace glint::internal

namespace glint {

boost::asio::io_context& ActorExecutor() {
  auto* loop = internal::ActorLoop::Current();
  if (!loop) throw Error("ActorExecutor() exists only in an async actor (one with a glint::Async method)");
  return loop->context();
}

}  // namespace glint
