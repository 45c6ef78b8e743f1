// Generators: remote code that yields values one by one.
//
//   glint::Generator<int> Count(int n) {          // a task, or a sync/threaded actor's method
//     for (int i = 0; i < n; ++i) co_yield i;
//   }
//   glint::AsyncGenerator<int> Ticker::Ticks(int n) {   // an async actor's method
//     for (int i = 0; i < n; ++i) { co_await glint::Sleep(5ms); co_yield i; }
//   }
//
// The caller gets a glint::ObjectRefGenerator<T> (object_ref_generator.h)
// and reads each item as it comes. Each item is an object of its own, owned
// by the caller. A producer that throws ends its stream with that error,
// after the items it yielded. When the caller drops the generator or cancels
// it, the producer stops at its next co_yield (the coroutine is destroyed
// there, so destructors run), as a local generator stops when it is closed.
#pragma once
#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "glint/async.h"
#include "glint/internal/runtime_api.h"

namespace glint {

namespace internal {
// Where a running generator's items go (the worker's side of the stream).
class ItemSink {
 public:
  virtual ~ItemSink() = default;
  // Sends one item (msgpack, and the references packed into it, held);
  // blocks while the caller is as many items behind as it allows. False:
  // stop producing (the caller dropped or cancelled the generator).
  virtual bool Emit(std::string data, std::vector<RefData> contained) = 0;
  // The same for a coroutine on an actor's loop, without blocking: true
  // when the next item may be produced now; otherwise `later(go_on)` is
  // called once it may (go_on) or must stop (!go_on), on any thread.
  virtual bool EmitAsync(std::string data, std::vector<RefData> contained, std::function<void(bool)> later) = 0;
  // Offers the next item, `size` bytes that `write` packs, to be packed
  // straight where it will be stored; false when it goes inline instead.
  // The Emit (or EmitAsync) that follows a taken offer gets no bytes.
  virtual bool StoreNext(size_t, const std::function<void(char*)>&) { return false; }
};
}  // namespace internal

// The return type of a generator task or sync/threaded actor method.
// Move-only. Can also be iterated in-process with Next()/Value().
template <typename T>
class [[nodiscard]] Generator {
 public:
  using ValueType = T;
  struct promise_type {
    std::optional<T> current;
    std::exception_ptr error;
    Generator get_return_object() { return Generator(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(T v) {
      current = std::move(v);
      return {};
    }
    void return_void() {}
    void unhandled_exception() { error = std::current_exception(); }
  };

  Generator(Generator&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Generator& operator=(Generator&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~Generator() {
    if (h_) h_.destroy();
  }

  // Runs to the next co_yield: true with Value() set, false at the end;
  // rethrows what the body threw.
  bool Next() {
    if (!h_ || h_.done()) return false;
    h_.promise().current.reset();
    h_.resume();
    if (h_.promise().error) std::rethrow_exception(std::exchange(h_.promise().error, {}));
    return !h_.done();
  }
  T& Value() { return *h_.promise().current; }

 private:
  explicit Generator(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

// The return type of an async actor's generator method: a coroutine on the
// actor's loop that may co_await (refs, Sleep, other Async helpers) between
// its co_yields. Makes its actor async, like a method returning Async<T>.
template <typename T>
class [[nodiscard]] AsyncGenerator {
 public:
  using ValueType = T;
  struct promise_type {
    std::optional<T> current;
    std::exception_ptr error;
    // Called when the body stops at a co_yield (true) or ends (false); at a
    // co_yield, returns true to go on at once.
    std::function<bool(bool)> on_step;
    AsyncGenerator get_return_object() {
      return AsyncGenerator(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct YieldAwaiter {
      promise_type* p;
      bool await_ready() const noexcept { return false; }
      bool await_suspend(std::coroutine_handle<>) { return !p->on_step(true); }
      void await_resume() const noexcept {}
    };
    YieldAwaiter yield_value(T v) {
      current = std::move(v);
      return {this};
    }
    struct Final {
      bool await_ready() noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        auto step = h.promise().on_step;  // may destroy this coroutine
        step(false);
      }
      void await_resume() noexcept {}
    };
    Final final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { error = std::current_exception(); }
  };

  AsyncGenerator(AsyncGenerator&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  AsyncGenerator& operator=(AsyncGenerator&&) = delete;
  ~AsyncGenerator() {
    if (h_) h_.destroy();
  }

  // Used by the runtime: `on_step` as in promise_type, then Resume() to run
  // the body until it stops. Error() is what the body threw, at its end.
  void SetOnStep(std::function<bool(bool)> f) { h_.promise().on_step = std::move(f); }
  void Resume() { h_.resume(); }
  T& Value() { return *h_.promise().current; }
  std::exception_ptr Error() const { return h_.promise().error; }

 private:
  explicit AsyncGenerator(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

template <typename T>
struct IsGenerator : std::false_type {};
template <typename T>
struct IsGenerator<Generator<T>> : std::true_type {};
template <typename T>
struct IsGenerator<AsyncGenerator<T>> : std::true_type {};

template <typename T>
struct IsAsyncGenerator : std::false_type {};
template <typename T>
struct IsAsyncGenerator<AsyncGenerator<T>> : std::true_type {};

}  // namespace glint
