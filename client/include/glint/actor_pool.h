// ActorPool<A>: spreads calls over a fixed set of actors, one call in flight
// per actor, and hands back the results.
//
//   glint::ActorPool<Doubler> pool({glint::Actor(Doubler::Create).Remote(),
//                                   glint::Actor(Doubler::Create).Remote()});
//   auto fn = [](glint::ActorHandle<Doubler>& a, int v) { return a.Task(&Doubler::Double).Remote(v); };
//   for (int r : pool.Map(fn, std::vector<int>{1, 2, 3, 4})) ...          // 2 4 6 8: input order
//   for (int r : pool.MapUnordered(fn, std::vector<int>{1, 2, 3, 4})) ...  // completion order
//   pool.Submit(fn, 5);
//   int r = pool.GetNext();            // submission order (or pool.GetNext<int>())
//
// `fn(actor, value)` makes one call on the actor and returns its ObjectRef.
// Work waits in the pool until an actor is idle; an actor is idle again as
// soon as its call finished (whether or not its result was taken yet), and
// the pool notices that whenever it is used. So a slow item holds one actor
// only, and MapUnordered hands back the rest as they finish.
//
// When an actor of the pool dies (a call of it fails with ActorDiedError),
// that item's result is the error — its Get throws ActorDiedError; the item is
// not re-run, since its call may have had effects — and the actor leaves the
// pool; the other items go on on the actors left. Once the last actor died,
// the items still waiting fail with ActorDiedError too: the pool never hangs
// on a dead actor. Give the actors SetMaxRestarts and SetMaxTaskRetries to
// have crashed calls re-run on the restarted actor instead. (A pool whose
// actors were all taken out with PopIdle keeps its work until Push; waiting
// for a result meanwhile throws glint::Error.)
//
// Not thread-safe: use a pool from one thread. `fn` runs on that thread.
#pragma once
#include <algorithm>
#include <any>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "glint/errors.h"
#include "glint/object_ref.h"
#include "glint/remote.h"

namespace glint {

// One result the pool hands back. It converts to the call's result type
// (`int r = pool.GetNext();`), or use As<R>(); either throws the call's
// error (TaskError, ActorDiedError, ...).
class PoolResult {
 public:
  PoolResult(std::any ref, std::exception_ptr error) : ref_(std::move(ref)), error_(std::move(error)) {}
  template <typename R>
  R As() const {
    if (error_) std::rethrow_exception(error_);
    auto* ref = std::any_cast<ObjectRef<R>>(&ref_);
    if (!ref) {
      throw Error(std::string("ActorPool: the result is an ") + ref_.type().name() + ", not an ObjectRef of " +
                  typeid(R).name());
    }
    return ref->Get();
  }
  template <typename R>
  operator R() const {  // NOLINT: converts to what the caller asks for
    return As<R>();
  }

 private:
  std::any ref_;  // the call's ObjectRef<R>
  std::exception_ptr error_;  // set when the item failed without a call
};

template <typename A>
class ActorPool {
 public:
  explicit ActorPool(std::vector<ActorHandle<A>> actors) {
    for (auto& a : actors) Push(std::move(a));
  }
  ActorPool(const ActorPool&) = delete;
  ActorPool& operator=(const ActorPool&) = delete;

  // Calls fn(actor, value) on an idle actor, or queues it until one is.
  template <typename F, typename V>
  void Submit(F fn, V value) {
    Add(MakeStart(std::move(fn), std::move(value)), 0);
    Dispatch();
  }
  // Whether results are left to take (done, running or queued).
  bool HasNext() const { return !items_.empty(); }

  // The result of the earliest submitted item not taken yet, once it is
  // done. Throws glint::Error when there is none, GetTimeoutError when it
  // is not done within `timeout` (it stays in the pool).
  PoolResult GetNext() { return TakeNext(std::nullopt); }
  PoolResult GetNext(std::chrono::milliseconds timeout) { return TakeNext(timeout); }
  template <typename R>
  R GetNext() {
    return GetNext().template As<R>();
  }
  template <typename R>
  R GetNext(std::chrono::milliseconds timeout) {
    return GetNext(timeout).template As<R>();
  }
  // The result of whichever item finished first among those not taken yet.
  PoolResult GetNextUnordered() { return TakeAny(std::nullopt); }
  PoolResult GetNextUnordered(std::chrono::milliseconds timeout) { return TakeAny(timeout); }
  template <typename R>
  R GetNextUnordered() {
    return GetNextUnordered().template As<R>();
  }
  template <typename R>
  R GetNextUnordered(std::chrono::milliseconds timeout) {
    return GetNextUnordered(timeout).template As<R>();
  }

  // Whether an actor is idle and no work waits for one.
  bool HasFree() {
    Reap(0);
    return !idle_.empty() && pending_.empty();
  }
  // Takes an idle actor out of the pool (nullopt when HasFree() is false).
  std::optional<ActorHandle<A>> PopIdle() {
    if (!HasFree()) return std::nullopt;
    auto a = std::move(idle_.front());
    idle_.pop_front();
    return a;
  }
  // Adds an actor (glint::Error if it is in the pool already); it takes
  // waiting work at once.
  void Push(ActorHandle<A> actor) {
    bool member = std::find(idle_.begin(), idle_.end(), actor) != idle_.end();
    for (auto& [i, b] : busy_) member = member || b.actor == actor;
    if (member) throw Error("ActorPool::Push: actor " + actor.ID() + " belongs to this pool already");
    idle_.push_back(std::move(actor));
    last_died_ = false;
    Dispatch();
  }
  // The actors in the pool (idle and busy).
  size_t Size() const { return idle_.size() + busy_.size(); }

  // The results of fn(actor, v) for each v of `values`.
  template <typename R>
  class Results;
  template <typename F, typename Range>
  auto Map(F fn, const Range& values) {
    return MapInto(std::move(fn), values, /*ordered=*/true);
  }
  template <typename F, typename Range>
  auto MapUnordered(F fn, const Range& values) {
    return MapInto(std::move(fn), values, /*ordered=*/false);
  }

 private:
  // Starts an item's call on an actor; returns its ObjectRef<R> and RefData.
  using Start = std::function<std::pair<std::any, internal::RefData>(ActorHandle<A>&)>;
  struct Item {
    Start start;               // until it starts
    std::any ref;              // then: its ObjectRef<R>
    std::exception_ptr error;  // failed without a call
    bool done = false;
    uint64_t map = 0;  // the Map it belongs to (0: Submit)
  };
  // A call in flight. It holds its result, so that it still finishes here
  // when its item was dropped meanwhile (a dropped Map's).
  struct Busy {
    ActorHandle<A> actor;
    std::any ref;
    internal::RefData data;
  };

  template <typename F, typename V>
  static Start MakeStart(F fn, V value) {
    using Ref = std::invoke_result_t<F&, ActorHandle<A>&, V&>;
    static_assert(IsObjectRef<std::decay_t<Ref>>::value,
                  "the pool's function makes one call and returns its ObjectRef: "
                  "[](glint::ActorHandle<A>& a, V v) { return a.Task(&A::Method).Remote(v); }");
    return [fn = std::move(fn), value = std::move(value)](ActorHandle<A>& a) mutable {
      auto ref = fn(a, value);
      auto data = ref.Data();
      return std::make_pair(std::any(std::move(ref)), std::move(data));
    };
  }

  uint64_t Add(Start start, uint64_t map) {
    uint64_t index = next_index_++;
    items_[index].start = std::move(start);
    items_[index].map = map;
    pending_.push_back(index);
    return index;
  }

  // Starts waiting work on idle actors; fails it when the last actor died.
  void Dispatch() {
    while (!idle_.empty() && !pending_.empty()) {
      uint64_t index = pending_.front();
      pending_.pop_front();
      auto& item = items_.at(index);
      auto actor = std::move(idle_.front());
      idle_.pop_front();
      auto start = std::move(item.start);
      try {
        auto [ref, data] = start(actor);
        item.ref = ref;
        busy_.emplace(index, Busy{std::move(actor), std::move(ref), std::move(data)});
      } catch (...) {  // fn threw: that item's error, the actor stays idle
        idle_.push_front(std::move(actor));
        Finish(index, std::current_exception());
      }
    }
    if (idle_.empty() && busy_.empty() && last_died_) {
      for (uint64_t index : pending_) {
        Finish(index, std::make_exception_ptr(
                          ActorDiedError("every actor of the ActorPool died before this item could run")));
      }
      pending_.clear();
    }
  }

  void Finish(uint64_t index, std::exception_ptr error) {
    auto it = items_.find(index);
    if (it == items_.end()) return;  // dropped meanwhile
    it->second.done = true;
    it->second.error = std::move(error);
    finished_.push_back(index);
  }

  // Notes the calls that finished, waiting up to `timeout_ms` (< 0: for
  // good) for one when none has; frees their actors and starts waiting work.
  void Reap(int64_t timeout_ms) {
    if (busy_.empty()) return;
    std::vector<internal::RefData> refs;
    std::vector<uint64_t> indices;
    for (auto& [index, b] : busy_) {
      indices.push_back(index);
      refs.push_back(b.data);
    }
    auto ready = internal::WaitObjects(refs, 1, timeout_ms, /*fetch_local=*/false);
    for (size_t i = 0; i < ready.size(); ++i) {
      if (!ready[i]) continue;
      auto it = busy_.find(indices[i]);
      bool died = false;
      if (auto e = internal::FailureOf(refs[i])) {
        try {
          std::rethrow_exception(e);
        } catch (const ActorDiedError&) {
          died = true;
        } catch (...) {
        }
      }
      if (!died) idle_.push_back(std::move(it->second.actor));
      busy_.erase(it);
      last_died_ = died && idle_.empty() && busy_.empty();
      Finish(indices[i], nullptr);
    }
    Dispatch();
  }

  using Clock = std::chrono::steady_clock;
  static int64_t LeftMs(std::optional<Clock::time_point> deadline) {
    if (!deadline) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
    return std::max<int64_t>(left, 0);
  }

  // Waits until `done(items)` holds; returns false at the deadline.
  template <typename Done>
  bool WaitFor(Done done, std::optional<std::chrono::milliseconds> timeout) {
    std::optional<Clock::time_point> deadline;
    if (timeout) deadline = Clock::now() + *timeout;
    Reap(0);
    while (!done()) {
      if (busy_.empty()) throw Error("ActorPool: the pool has no actors to run the waiting work: Push one");
      int64_t left = LeftMs(deadline);
      if (left == 0) return false;
      Reap(left);
    }
    return true;
  }

  PoolResult Take(uint64_t index) {
    auto node = items_.extract(index);
    finished_.erase(std::find(finished_.begin(), finished_.end(), index));
    if (uint64_t map = node.mapped().map; map != 0 && --map_left_[map] == 0) map_left_.erase(map);
    return PoolResult(std::move(node.mapped().ref), std::move(node.mapped().error));
  }

  static GetTimeoutError Timeout(std::chrono::milliseconds t) {
    return GetTimeoutError("ActorPool: no result within " + std::to_string(t.count()) + " ms");
  }

  PoolResult TakeNext(std::optional<std::chrono::milliseconds> timeout) {
    if (items_.empty()) throw Error("ActorPool::GetNext: no results left to take (Submit or Map first)");
    uint64_t index = items_.begin()->first;
    if (!WaitFor([&] { return items_.at(index).done; }, timeout)) throw Timeout(*timeout);
    return Take(index);
  }

  PoolResult TakeAny(std::optional<std::chrono::milliseconds> timeout) {
    if (items_.empty()) throw Error("ActorPool::GetNextUnordered: no results left to take (Submit or Map first)");
    if (!WaitFor([&] { return !finished_.empty(); }, timeout)) throw Timeout(*timeout);
    return Take(finished_.front());
  }

  // The next result of one Map (in order, or as they finish), or nullopt
  // when none is left. `next`: the Map's position in `indices`.
  std::optional<PoolResult> TakeOfMap(uint64_t map, const std::vector<uint64_t>& indices, size_t* next,
                                      bool ordered) {
    if (ordered) {
      while (*next < indices.size() && !items_.count(indices[*next])) ++*next;  // taken by GetNext*
      if (*next >= indices.size()) return std::nullopt;
      uint64_t index = indices[(*next)++];
      WaitFor([&] { return items_.at(index).done; }, std::nullopt);
      return Take(index);
    }
    if (!map_left_.count(map)) return std::nullopt;
    auto finished_of_map = [&] {
      return std::find_if(finished_.begin(), finished_.end(), [&](uint64_t i) { return items_.at(i).map == map; });
    };
    WaitFor([&] { return finished_of_map() != finished_.end(); }, std::nullopt);
    return Take(*finished_of_map());
  }

  // Drops a Map's results not taken yet: queued ones never run; running ones
  // finish (their actors then free) and are dropped.
  void Abandon(uint64_t map) {
    pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                  [&](uint64_t i) { return items_.at(i).map == map; }),
                   pending_.end());
    for (auto it = items_.begin(); it != items_.end();) {
      if (it->second.map != map) {
        ++it;
        continue;
      }
      if (it->second.done) finished_.erase(std::find(finished_.begin(), finished_.end(), it->first));
      it = items_.erase(it);
    }
    map_left_.erase(map);
  }

  template <typename F, typename Range>
  auto MapInto(F fn, const Range& values, bool ordered) {
    using V = std::decay_t<decltype(*std::begin(values))>;
    using Ref = std::decay_t<std::invoke_result_t<F&, ActorHandle<A>&, V&>>;
    uint64_t map = ++maps_;
    std::vector<uint64_t> indices;
    for (const auto& v : values) indices.push_back(Add(MakeStart(fn, V(v)), map));
    if (!indices.empty()) map_left_[map] = indices.size();
    Dispatch();
    return Results<typename Ref::ValueType>(this, map, std::move(indices), ordered);
  }

  std::map<uint64_t, Item> items_;     // not taken yet, by submission order
  std::deque<uint64_t> pending_;       // waiting for an actor
  std::map<uint64_t, Busy> busy_;      // running on an actor
  std::deque<ActorHandle<A>> idle_;
  std::deque<uint64_t> finished_;      // done, not taken, in the order they finished
  std::map<uint64_t, size_t> map_left_;  // a Map's items not taken yet
  bool last_died_ = false;  // the pool is empty since its last actor died
  uint64_t next_index_ = 1;
  uint64_t maps_ = 0;
};

// What Map and MapUnordered return: a range over the results (each step
// waits for the next; dereferencing throws that item's error). Dropping it
// early drops the results not taken yet. The pool must outlive it.
template <typename A>
template <typename R>
class ActorPool<A>::Results {
 public:
  Results(ActorPool* pool, uint64_t map, std::vector<uint64_t> indices, bool ordered)
      : pool_(pool), map_(map), indices_(std::move(indices)), ordered_(ordered) {}
  Results(Results&& o) noexcept
      : pool_(std::exchange(o.pool_, nullptr)),
        map_(o.map_),
        indices_(std::move(o.indices_)),
        next_(o.next_),
        ordered_(o.ordered_),
        started_(o.started_),
        current_(std::move(o.current_)) {}
  Results(const Results&) = delete;
  ~Results() {
    if (pool_) pool_->Abandon(map_);
  }

  class iterator {
   public:
    using value_type = R;
    using difference_type = std::ptrdiff_t;
    R operator*() const { return owner_->current_->template As<R>(); }
    iterator& operator++() {
      owner_->Step();
      return *this;
    }
    bool operator==(const iterator& o) const { return Done() == o.Done(); }
    bool operator!=(const iterator& o) const { return !(*this == o); }

   private:
    friend class Results;
    explicit iterator(Results* owner) : owner_(owner) {}
    bool Done() const { return !owner_ || !owner_->current_; }
    Results* owner_;
  };
  iterator begin() {
    if (!started_) Step();
    return iterator(this);
  }
  iterator end() { return iterator(nullptr); }
  // All the results, in this range's order (throws the first error).
  std::vector<R> ToVector() {
    std::vector<R> out;
    for (auto&& r : *this) out.push_back(std::move(r));
    return out;
  }

 private:
  void Step() {
    current_.reset();
    current_ = pool_->TakeOfMap(map_, indices_, &next_, ordered_);
    started_ = true;
  }
  ActorPool* pool_;
  uint64_t map_;
  std::vector<uint64_t> indices_;
  size_t next_ = 0;
  bool ordered_;
  bool started_ = false;
  std::optional<PoolResult> current_;
};

}  // namespace glint
