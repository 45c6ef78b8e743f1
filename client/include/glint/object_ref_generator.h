// ObjectRefGenerator<T>: the caller's side of a generator task or actor
// method (generator.h): the items' references, in order, as they come.
//
//   glint::ObjectRefGenerator<int> gen = glint::Task(Count).Remote(5);
//   for (glint::ObjectRef<int> ref : gen) use(ref.Get());   // blocks for each item
//   std::optional<glint::ObjectRef<int>> r = gen.Next();     // nullopt at the end
//   r = co_await gen.NextAsync();                            // in an async actor's method
//
// When the producer threw after k items, the (k+1)th reference's Get throws
// its error, and the stream ends. Copies share one stream (each item is
// handed out once). When the last copy goes, the items not taken yet are
// freed and the producer stops at its next co_yield.
#pragma once
#include <chrono>
#include <coroutine>
#include <memory>
#include <optional>
#include <vector>

#include "glint/async.h"
#include "glint/errors.h"
#include "glint/internal/runtime_api.h"
#include "glint/object_ref.h"

namespace glint {

template <typename T>
class ObjectRefGenerator {
 public:
  using ValueType = T;
  ObjectRefGenerator() = default;
  explicit ObjectRefGenerator(internal::RefData d) : hold_(std::make_shared<Hold>(std::move(d))) {}

  // The next item's reference, once the producer yielded it; nullopt at the
  // end of the stream.
  std::optional<ObjectRef<T>> Next() { return Take(-1); }
  // As Next(), but throws GetTimeoutError when nothing came within `timeout`.
  std::optional<ObjectRef<T>> Next(std::chrono::milliseconds timeout) { return Take(timeout.count()); }
  // Whether Next() would return at once (an item is there, or the end).
  bool IsReady() const { return internal::GeneratorIsReady(Data()); }

  // co_await gen.NextAsync(), inside an async actor's method: Next()
  // without blocking the actor's loop.
  struct NextAwaiter {
    ObjectRefGenerator gen;
    bool await_ready() const { return gen.IsReady(); }
    void await_suspend(std::coroutine_handle<> h) const { internal::OnGeneratorReady(gen.Data(), internal::Park(h)); }
    std::optional<ObjectRef<T>> await_resume() {
      internal::ThrowIfCancelled();
      return gen.Next(std::chrono::milliseconds(0));
    }
  };
  NextAwaiter NextAsync() const { return {*this}; }

  class iterator {
   public:
    using value_type = ObjectRef<T>;
    using difference_type = std::ptrdiff_t;
    const ObjectRef<T>& operator*() const { return *current_; }
    const ObjectRef<T>* operator->() const { return &*current_; }
    iterator& operator++() {
      current_ = gen_->Next();
      return *this;
    }
    bool operator==(const iterator& o) const { return current_.has_value() == o.current_.has_value(); }
    bool operator!=(const iterator& o) const { return !(*this == o); }

   private:
    friend class ObjectRefGenerator;
    iterator(ObjectRefGenerator* gen, std::optional<ObjectRef<T>> first) : gen_(gen), current_(std::move(first)) {}
    ObjectRefGenerator* gen_;
    std::optional<ObjectRef<T>> current_;
  };
  // Each step blocks until the next item is there.
  iterator begin() { return iterator(this, Next()); }
  iterator end() { return iterator(this, std::nullopt); }

  // The generator's own reference: its call's return object.
  const std::string& ID() const { return Data().id; }
  const internal::RefData& Data() const {
    if (!hold_) throw Error("this ObjectRefGenerator is empty");
    return hold_->data;
  }
  bool operator==(const ObjectRefGenerator& o) const { return hold_ == o.hold_; }

 private:
  // One per stream, shared by the copies.
  struct Hold {
    explicit Hold(internal::RefData d) : data(std::move(d)) { internal::AddLocalRef(data.id, data.owner); }
    ~Hold() {
      internal::DropGenerator(data);
      internal::RemoveLocalRef(data.id, data.owner);
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    internal::RefData data;
  };
  std::optional<ObjectRef<T>> Take(int64_t timeout_ms) {
    auto next = internal::GeneratorNext(Data(), timeout_ms);
    if (!next) return std::nullopt;
    return ObjectRef<T>(std::move(*next));
  }
  std::shared_ptr<Hold> hold_;
};

template <typename T>
struct GeneratorWaitResult {
  std::vector<ObjectRefGenerator<T>> ready;
  std::vector<ObjectRefGenerator<T>> unready;
};

// Waits until `num_returns` of the generators are ready (Next() would not
// block: an item is there, or the end) or `timeout` passes; keeps their
// order within each list.
template <typename T>
GeneratorWaitResult<T> Wait(const std::vector<ObjectRefGenerator<T>>& gens, int num_returns,
                            std::chrono::milliseconds timeout) {
  std::vector<internal::RefData> data;
  for (auto& g : gens) data.push_back(g.Data());
  auto ready = internal::WaitAny({}, data, num_returns, timeout.count());
  GeneratorWaitResult<T> out;
  for (size_t i = 0; i < gens.size(); ++i) (ready[i] ? out.ready : out.unready).push_back(gens[i]);
  return out;
}

template <typename T, typename U>
struct MixedWaitResult {
  std::vector<ObjectRef<T>> ready_refs, unready_refs;
  std::vector<ObjectRefGenerator<U>> ready_generators, unready_generators;
};

// Waits on references (ready: the value is on this node) and generators
// together until `num_returns` of them are ready or `timeout` passes.
template <typename T, typename U>
MixedWaitResult<T, U> Wait(const std::vector<ObjectRef<T>>& refs, const std::vector<ObjectRefGenerator<U>>& gens,
                           int num_returns, std::chrono::milliseconds timeout) {
  std::vector<internal::RefData> r, g;
  for (auto& x : refs) r.push_back(x.Data());
  for (auto& x : gens) g.push_back(x.Data());
  auto ready = internal::WaitAny(r, g, num_returns, timeout.count());
  MixedWaitResult<T, U> out;
  for (size_t i = 0; i < refs.size(); ++i) (ready[i] ? out.ready_refs : out.unready_refs).push_back(refs[i]);
  for (size_t i = 0; i < gens.size(); ++i) {
    (ready[refs.size() + i] ? out.ready_generators : out.unready_generators).push_back(gens[i]);
  }
  return out;
}

}  // namespace glint
