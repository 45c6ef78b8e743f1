// Queue<T>: a FIFO queue that drivers, tasks and actors share, bounded or
// not, backed by one async actor (internal/queue_actor.h). A Queue is a
// handle: copy it, pass it to tasks and actors; every copy is the same queue.
//
//   glint::Queue<int> q(/*maxsize=*/100);          // 0: unbounded
//   q.Put(1);                                      // blocks while full
//   q.Put(2, true, std::chrono::seconds(1));       // QueueFull after 1 s
//   int v = q.Get(true, std::chrono::seconds(1));  // QueueEmpty after 1 s
//   glint::Task(Consumer).Remote(q);               // void Consumer(glint::Queue<int> q)
//   v = co_await q.GetAsync();                     // inside an async actor's method
//
// A blocked Put or Get waits inside the actor (no polling) and honours its
// timeout; waiting callers are served in the order they came. When the
// queue's actor is gone (Shutdown, Kill, its node died), every call throws
// ActorDiedError — a waiting one too. References inside items stay alive as
// long as the items are in the queue.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "glint/async.h"
#include "glint/errors.h"
#include "glint/internal/queue_actor.h"
#include "glint/remote.h"

namespace glint {

// Where and how the queue's actor lives.
struct QueueOptions {
  std::string name;        // a named queue others find with GetQueue<T>(name)
  std::string namespace_;  // default: the job's
  Lifetime lifetime = Lifetime::kNonDetached;
  bool get_if_exists = false;                // a queue of this name exists: use it
  std::map<std::string, double> resources;  // the actor's (default: none)
};

namespace internal {

// Packs `value` as a queue item: its bytes and the references inside.
template <typename T>
QueueItem PackQueueItem(const T& value) {
  QueueItem item;
  std::vector<RefData> inside;
  {
    EscapeCollector collect;
    item.data = Pack(value);
    inside = std::move(collect.refs);
  }
  for (auto& r : inside) item.refs.emplace_back(std::move(r));
  return item;
}

template <typename T>
T UnpackQueueItem(const QueueItem& item) {
  return Unpack<T>(item.data, "a queue item");
}

// The actor's timeout for a call: 0 = do not wait, < 0 = wait for good.
inline int64_t QueueWaitMs(bool block, std::optional<std::chrono::milliseconds> timeout) {
  if (timeout && timeout->count() < 0) throw Error("a queue's timeout must not be negative");
  if (!block) return 0;
  return timeout ? timeout->count() : -1;
}

inline std::string QueueWaitText(int64_t wait_ms) {
  return wait_ms > 0 ? " after waiting " + std::to_string(wait_ms) + " ms" : "";
}

}  // namespace internal

template <typename T>
class Queue {
 public:
  // An empty handle (what a moved-from or shut-down queue is); make a queue
  // with Queue<T>(maxsize).
  Queue() = default;
  // Creates the queue's actor. maxsize 0: unbounded; negative: glint::Error.
  explicit Queue(int64_t maxsize, const QueueOptions& options = {}) {
    if (maxsize < 0) throw Error("a queue's maxsize must not be negative");
    auto creator = glint::Actor(&internal::QueueActor::Create)
                       .SetName(options.name)
                       .SetNamespace(options.namespace_)
                       .SetLifetime(options.lifetime)
                       .SetGetIfExists(options.get_if_exists)
                       .SetResources(options.resources)
                       // a waiting call costs a coroutine frame: many may wait
                       .SetMaxConcurrency(kMaxWaitingCalls);
    actor_ = creator.Remote(maxsize);
  }
  // A queue handle for an existing actor (see GetQueue).
  explicit Queue(ActorHandle<internal::QueueActor> actor) : actor_(std::move(actor)) {}

  // Adds `item` at the end. With `block`, waits while the queue is full — at
  // most `timeout` when given — then throws QueueFull; without, throws
  // QueueFull at once if it is full.
  void Put(const T& item, bool block = true, std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    int64_t wait = internal::QueueWaitMs(block, timeout);
    if (!Handle().Task(&internal::QueueActor::Put).Remote(internal::PackQueueItem(item), wait).Get()) {
      throw QueueFull("the queue is full" + internal::QueueWaitText(wait));
    }
  }
  void PutNowait(const T& item) { Put(item, false); }
  // Adds all of `items`, or none (QueueFull) if they do not all fit now.
  void PutNowaitBatch(const std::vector<T>& items) {
    std::vector<internal::QueueItem> packed;
    packed.reserve(items.size());
    for (auto& i : items) packed.push_back(internal::PackQueueItem(i));
    if (!Handle().Task(&internal::QueueActor::PutBatch).Remote(std::move(packed)).Get()) {
      throw QueueFull("the queue has no room for " + std::to_string(items.size()) + " more items");
    }
  }

  // Takes the first item. With `block`, waits while the queue is empty — at
  // most `timeout` when given — then throws QueueEmpty; without, throws
  // QueueEmpty at once if it is empty.
  T Get(bool block = true, std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    int64_t wait = internal::QueueWaitMs(block, timeout);
    return TakeOne(Handle().Task(&internal::QueueActor::Get).Remote(wait).Get(), wait);
  }
  T GetNowait() { return Get(false); }
  // Takes the first `n` items, or none (QueueEmpty) if there are fewer.
  std::vector<T> GetNowaitBatch(size_t n) {
    auto take = Handle().Task(&internal::QueueActor::GetBatch).Remote(static_cast<int64_t>(n)).Get();
    if (!take.ok) throw QueueEmpty("the queue holds fewer than " + std::to_string(n) + " items");
    std::vector<T> out;
    out.reserve(take.items.size());
    for (auto& i : take.items) out.push_back(internal::UnpackQueueItem<T>(i));
    return out;
  }

  // Inside an async actor's method: Put and Get without blocking its loop
  // (co_await them). They throw as Put and Get do.
  Async<void> PutAsync(T item, bool block = true, std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    int64_t wait = internal::QueueWaitMs(block, timeout);
    return PutOn(Handle(), internal::PackQueueItem(item), wait);
  }
  Async<T> GetAsync(bool block = true, std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    int64_t wait = internal::QueueWaitMs(block, timeout);
    return GetOn(Handle(), wait);
  }

  size_t Size() { return static_cast<size_t>(Handle().Task(&internal::QueueActor::Size).Remote().Get()); }
  bool Empty() { return Size() == 0; }
  // 0: unbounded.
  int64_t Maxsize() { return Handle().Task(&internal::QueueActor::Maxsize).Remote().Get(); }
  bool Full() {
    int64_t max = Maxsize();
    return max > 0 && Size() >= static_cast<size_t>(max);
  }

  // Ends the queue: its actor is killed, items still in it are dropped and
  // calls waiting in it throw ActorDiedError, as do later calls through other
  // copies of this handle; this one becomes empty.
  void Shutdown() {
    if (!actor_.ID().empty()) glint::Kill(actor_);
    actor_ = ActorHandle<internal::QueueActor>();
  }

  // The queue's actor (its ID is what `glint list actors` shows).
  const ActorHandle<internal::QueueActor>& Actor() const { return actor_; }

  MSGPACK_DEFINE(actor_);

 private:
  static constexpr int kMaxWaitingCalls = 100000;

  const ActorHandle<internal::QueueActor>& Handle() const {
    if (actor_.ID().empty()) {
      throw Error("this Queue is empty (shut down, or never made): make one with Queue<T>(maxsize)");
    }
    return actor_;
  }
  static T TakeOne(const internal::QueueTake& take, int64_t wait) {
    if (!take.ok || take.items.empty()) throw QueueEmpty("the queue is empty" + internal::QueueWaitText(wait));
    return internal::UnpackQueueItem<T>(take.items.front());
  }
  static Async<void> PutOn(ActorHandle<internal::QueueActor> actor, internal::QueueItem item, int64_t wait) {
    bool put = co_await actor.Task(&internal::QueueActor::Put).Remote(std::move(item), wait);
    if (!put) throw QueueFull("the queue is full" + internal::QueueWaitText(wait));
  }
  static Async<T> GetOn(ActorHandle<internal::QueueActor> actor, int64_t wait) {
    internal::QueueTake take = co_await actor.Task(&internal::QueueActor::Get).Remote(wait);
    co_return TakeOne(take, wait);
  }

  ActorHandle<internal::QueueActor> actor_;
};

// The queue named `name` in `namespace_` (default: the job's), if its actor
// is alive. The item type is the caller's word: a mismatch shows as an
// error unpacking an item.
template <typename T>
std::optional<Queue<T>> GetQueue(const std::string& name, const std::string& namespace_ = "") {
  auto actor = GetActor<internal::QueueActor>(name, namespace_);
  if (!actor) return std::nullopt;
  return Queue<T>(std::move(*actor));
}

}  // namespace glint
