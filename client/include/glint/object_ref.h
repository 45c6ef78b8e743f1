// ObjectRef<T>: a reference to a value that a task, an actor call or Put
// produces. Copyable; can be passed to other calls (a top-level ObjectRef<T>
// argument to a parameter of type T is resolved to its value first).
#pragma once
#include <chrono>
#include <coroutine>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "glint/async.h"
#include "glint/errors.h"
#include "glint/internal/counted_ref.h"
#include "glint/internal/runtime_api.h"
#include "glint/internal/serializer.h"

namespace glint {

template <typename T>
class ObjectRef : public internal::CountedRef {
 public:
  using ValueType = T;
  ObjectRef() = default;
  // Copies count as references: when the last one in a process goes, the
  // value is freed there (see docs/design-notes.md on ownership).
  explicit ObjectRef(internal::RefData d) : CountedRef(std::move(d)) {}

  // Blocks until the value is there; throws the call's error (TaskError,
  // ActorDiedError, ...).
  T Get() const { return Decode(internal::GetObject(Data(), -1)); }
  // As Get(), but throws GetTimeoutError after `timeout`.
  T Get(std::chrono::milliseconds timeout) const {
    return Decode(internal::GetObject(Data(), timeout.count()));
  }
  // Calls `cb` once the value (or the call's error) is there, on a runtime
  // thread: keep it short and non-blocking. Runs at once if it is ready.
  void OnReady(std::function<void()> cb) const { internal::OnObjectReady(Data(), std::move(cb)); }
  // A std::future for the value (no thread is made for it).
  std::future<T> ToFuture() const {
    auto promise = std::make_shared<std::promise<T>>();
    auto self = *this;
    OnReady([promise, self] {
      try {
        if constexpr (std::is_void_v<T>) {
          self.Get(std::chrono::milliseconds(0));
          promise->set_value();
        } else {
          promise->set_value(self.Get(std::chrono::milliseconds(0)));
        }
      } catch (...) {
        promise->set_exception(std::current_exception());
      }
    });
    return promise->get_future();
  }
  bool operator==(const ObjectRef& o) const { return ID() == o.ID(); }

 private:
  static T Decode(const internal::Bytes& bytes) {
    if constexpr (std::is_void_v<T>) {
      (void)bytes;
    } else {
      return internal::Unpack<T>(bytes, "a result");
    }
  }
};

// co_await ref, inside an async actor's method: resumes on the actor's loop
// once the value is there; throws the call's error like Get().
template <typename T>
struct RefAwaiter {
  ObjectRef<T> ref;
  bool await_ready() const { return internal::ObjectIsReady(ref.Data()); }
  void await_suspend(std::coroutine_handle<> h) const { internal::OnObjectReady(ref.Data(), internal::Park(h)); }
  T await_resume() const {
    internal::ThrowIfCancelled();
    return ref.Get(std::chrono::milliseconds(0));
  }
};

template <typename T>
RefAwaiter<T> operator co_await(const ObjectRef<T>& ref) {
  return {ref};
}

template <typename T>
struct IsObjectRef : std::false_type {};
template <typename T>
struct IsObjectRef<ObjectRef<T>> : std::true_type {};

// Stores `value` and returns a reference to it. Values of 100 KiB and more
// (the cluster's inline threshold) are packed straight into the node's
// shared-memory object store; smaller ones stay in this process.
template <typename T>
ObjectRef<T> Put(const T& value) {
  std::vector<internal::RefData> nested;
  size_t size;
  {
    internal::EscapeCollector collect;  // the references inside `value`
    size = internal::PackedSize(value);
    nested = std::move(collect.refs);
  }
  internal::EscapeCollector again;  // packing once more sees the same ones
  if (size < internal::InlineThreshold()) {
    return ObjectRef<T>(internal::PutObject(internal::Pack(value), std::move(nested)));
  }
  return ObjectRef<T>(internal::PutStoredObject(
      size,
      [&value, size](char* dst) {
        internal::BufferSink sink{dst, dst + size};
        msgpack::pack(sink, value);
      },
      std::move(nested)));
}

template <typename T>
T Get(const ObjectRef<T>& ref) {
  return ref.Get();
}

template <typename T>
T Get(const ObjectRef<T>& ref, std::chrono::milliseconds timeout) {
  return ref.Get(timeout);
}

template <typename T>
std::vector<T> Get(const std::vector<ObjectRef<T>>& refs) {
  std::vector<T> out;
  out.reserve(refs.size());
  for (auto& r : refs) out.push_back(r.Get());
  return out;
}

template <typename T>
struct WaitResult {
  std::vector<ObjectRef<T>> ready;
  std::vector<ObjectRef<T>> unready;
};

// Waits until `num_returns` of `refs` are ready or `timeout` passes; keeps
// the order of `refs` within each list. With `fetch_local` (the default), an
// object in another node's store counts as ready once it has been copied to
// this node; without, as soon as it exists anywhere.
template <typename T>
WaitResult<T> Wait(const std::vector<ObjectRef<T>>& refs, int num_returns,
                   std::chrono::milliseconds timeout, bool fetch_local = true) {
  std::vector<internal::RefData> data;
  data.reserve(refs.size());
  for (auto& r : refs) data.push_back(r.Data());
  auto ready = internal::WaitObjects(data, num_returns, timeout.count(), fetch_local);
  WaitResult<T> out;
  for (size_t i = 0; i < refs.size(); ++i) (ready[i] ? out.ready : out.unready).push_back(refs[i]);
  return out;
}

// for (auto& ref : AsCompleted(refs)) ...: the references in the order their
// values become ready (here, on this node). Each step blocks until the next
// one is; throws GetTimeoutError when a step waits longer than `timeout`.
template <typename T>
class AsCompleted {
 public:
  explicit AsCompleted(std::vector<ObjectRef<T>> refs,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(-1))
      : pending_(std::move(refs)), timeout_(timeout) {}

  class iterator {
   public:
    using value_type = ObjectRef<T>;
    using difference_type = std::ptrdiff_t;
    const ObjectRef<T>& operator*() const { return owner_->ready_.front(); }
    const ObjectRef<T>* operator->() const { return &owner_->ready_.front(); }
    iterator& operator++() {
      owner_->ready_.erase(owner_->ready_.begin());
      owner_->Fill();
      return *this;
    }
    bool operator==(const iterator& o) const { return Done() == o.Done(); }
    bool operator!=(const iterator& o) const { return !(*this == o); }

   private:
    friend class AsCompleted;
    explicit iterator(AsCompleted* owner) : owner_(owner) {}
    bool Done() const { return !owner_ || owner_->ready_.empty(); }
    AsCompleted* owner_;
  };

  iterator begin() {
    Fill();
    return iterator(this);
  }
  iterator end() { return iterator(nullptr); }

 private:
  // Moves the ready references (at least one, unless none are left) to ready_.
  void Fill() {
    if (!ready_.empty() || pending_.empty()) return;
    auto w = Wait(pending_, 1, timeout_);
    if (w.ready.empty()) throw GetTimeoutError("AsCompleted: no value became ready within the timeout");
    ready_ = std::move(w.ready);
    pending_ = std::move(w.unready);
  }
  std::vector<ObjectRef<T>> pending_;
  std::vector<ObjectRef<T>> ready_;
  std::chrono::milliseconds timeout_;
};

}  // namespace glint
