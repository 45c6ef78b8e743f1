// Async actors: C++20 coroutines on the actor's event loop.
//
// A method returning glint::Async<T> makes its actor async: every call of
// that actor runs on one event-loop thread, up to max_concurrency at once
// (default 1000), switching at each co_await. Inside such a method:
//   T v = co_await ref;                  // any ObjectRef<T>, e.g. another actor's result
//   co_await glint::Sleep(std::chrono::milliseconds(10));
//   co_await glint::Yield();             // let other calls run
//   co_await event.Wait();               // glint::AsyncEvent
//   T w = co_await OtherAsyncHelper();   // plain Async<T> helpers compose
// When the call is cancelled (glint::Cancel), the co_await it waits at (or
// its next one) throws TaskCancelledError inside it.
// A blocking Get or Wait there would freeze the loop, so it throws
// AsyncGetError. glint::ActorExecutor() is the loop (a boost::asio::io_context)
// for the actor's own I/O, e.g. an HTTP server beside its Glint methods.
#pragma once
#include "glint/internal/export.h"
#include <chrono>
#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "glint/internal/runtime_api.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace glint {

namespace internal {
// Runs `fn` on the current actor's event loop (callable from any thread).
GLINT_EXPORT void PostToActorLoop(std::function<void()> fn);
// Runs `fn` on the actor's event loop after `delay`.
GLINT_EXPORT void PostToActorLoopAfter(std::chrono::nanoseconds delay, std::function<void()> fn);
// Calls `fn` (on some runtime thread) once the object is ready.
GLINT_EXPORT void OnObjectReady(const RefData& ref, std::function<void()> fn);
GLINT_EXPORT bool ObjectIsReady(const RefData& ref);
// For an awaiter: `h` waits at a co_await of the current call; returns what
// resumes it (on the actor's loop, within its call; only the first use
// counts). A cancel of the call resumes it first.
GLINT_EXPORT std::function<void()> Park(std::coroutine_handle<> h);
// For an awaiter, as it resumes: throws TaskCancelledError when the
// current call was cancelled.
GLINT_EXPORT void ThrowIfCancelled();
// What runs `fn` on the actor's loop within the current call (its cancel and
// the calls it makes stay tied to it).
GLINT_EXPORT std::function<void()> InCurrentCall(std::function<void()> fn);

template <typename T>
struct AsyncResult {
  std::optional<T> value;
  void return_value(T v) { value = std::move(v); }
  T Take() { return std::move(*value); }
};
template <>
struct AsyncResult<void> {
  void return_void() {}
  void Take() {}
};
}  // namespace internal

// The return type of a coroutine method. Lazily started; move-only.
template <typename T>
class [[nodiscard]] Async {
 public:
  using ValueType = T;
  struct promise_type : internal::AsyncResult<T> {
    std::exception_ptr error;
    std::coroutine_handle<> continuation;
    std::function<void()> on_done;
    Async get_return_object() { return Async(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct Final {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        auto& p = h.promise();
        if (p.continuation) return p.continuation;
        if (p.on_done) {
          auto done = std::move(p.on_done);
          done();  // may destroy this coroutine
        }
        return std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    Final final_suspend() noexcept { return {}; }
    void unhandled_exception() { error = std::current_exception(); }
  };

  Async(Async&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Async& operator=(Async&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~Async() {
    if (h_) h_.destroy();
  }

  // co_await on another Async: runs it, resumes here when it is done.
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().continuation = caller;
    return h_;
  }
  T await_resume() { return Result(); }

  // Runs it until its first suspension; `done` runs when it finishes (the
  // Async must stay alive until then). Used by the runtime.
  void Start(std::function<void()> done) {
    h_.promise().on_done = std::move(done);
    h_.resume();
  }
  // The result (or the exception) of a finished coroutine.
  T Result() {
    if (h_.promise().error) std::rethrow_exception(h_.promise().error);
    return h_.promise().Take();
  }

 private:
  explicit Async(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

template <typename T>
struct IsAsync : std::false_type {};
template <typename T>
struct IsAsync<Async<T>> : std::true_type {};

struct SleepAwaiter {
  std::chrono::nanoseconds delay;
  bool await_ready() const noexcept { return delay.count() <= 0; }
  void await_suspend(std::coroutine_handle<> h) const { internal::PostToActorLoopAfter(delay, internal::Park(h)); }
  void await_resume() const { internal::ThrowIfCancelled(); }
};

// co_await glint::Sleep(d): suspends this call for d; others run meanwhile.
inline SleepAwaiter Sleep(std::chrono::nanoseconds d) { return {d}; }

struct YieldAwaiter {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const { internal::Park(h)(); }
  void await_resume() const { internal::ThrowIfCancelled(); }
};

// co_await glint::Yield(): lets the other ready calls run first (like asyncio.sleep(0)).
inline YieldAwaiter Yield() { return {}; }

// An event for coroutines on one actor's loop (like asyncio.Event). Use it
// from that loop only.
class AsyncEvent {
 public:
  void Set() {
    set_ = true;
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& resume : waiters) resume();
  }
  void Clear() { set_ = false; }
  bool IsSet() const { return set_; }
  struct Awaiter {
    AsyncEvent* e;
    bool await_ready() const noexcept { return e->set_; }
    void await_suspend(std::coroutine_handle<> h) { e->waiters_.push_back(internal::Park(h)); }
    void await_resume() const { internal::ThrowIfCancelled(); }
  };
  Awaiter Wait() { return {this}; }

 private:
  bool set_ = false;
  std::vector<std::function<void()>> waiters_;  // each resumes one waiting coroutine
};

// The current async actor's event loop. Throws glint::Error outside one.
GLINT_EXPORT boost::asio::io_context& ActorExecutor();

}  // namespace glint
