// The actor behind glint::Queue. Everything here runs on the actor's event
// loop (one thread), so the state needs no lock.
//
// Invariants between calls: getters wait only while there are no items,
// putters only while there is no room; Settle() restores both after every
// change, handing items to the longest-waiting getter and room to the
// longest-waiting putter.
#include "glint/internal/queue_actor.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <list>
#include <optional>

#include "glint/internal/registry.h"

namespace glint::internal {
namespace {

// A call waiting in the queue: a getter (for an item) or a putter (for room,
// holding its item).
struct Waiter : std::enable_shared_from_this<Waiter> {
  std::function<void()> resume;  // set when it suspends
  std::optional<boost::asio::steady_timer> timer;
  bool settled = false;  // got its item, or its item went in
  QueueItem item;
  std::list<std::shared_ptr<Waiter>>::iterator at;  // its place in its list
};
using WaiterPtr = std::shared_ptr<Waiter>;

void Wake(const WaiterPtr& w) {
  w->settled = true;
  if (w->timer) w->timer->cancel();
  w->resume();  // posts the resumption to the loop
}

}  // namespace

struct QueueActor::State {
  explicit State(int64_t max) : maxsize(max) {}
  const int64_t maxsize;
  std::deque<QueueItem> items;
  std::list<WaiterPtr> getters, putters;

  bool HasRoom(size_t n) const { return maxsize == 0 || items.size() + n <= static_cast<size_t>(maxsize); }

  void Settle() {
    while (true) {
      if (!getters.empty() && !items.empty()) {
        auto w = getters.front();
        getters.pop_front();
        w->item = std::move(items.front());
        items.pop_front();
        Wake(w);
      } else if (!putters.empty() && HasRoom(1)) {
        auto w = putters.front();
        putters.pop_front();
        items.push_back(std::move(w->item));
        Wake(w);
      } else {
        return;
      }
    }
  }

  // co_await WaitIn{...}: suspends the calling coroutine in `list`
  // (getters or putters) until its waiter is woken (it got its item, or its
  // item went in), its timeout passes (timeout_ms >= 0) or the call is
  // cancelled (then it throws TaskCancelledError, having left the line; a
  // getter that had been handed an item puts it back first in line).
  // Resumes with the waiter: `settled` says whether it got what it waited
  // for.
  //
  // The awaiter holds plain pointers only (the caller's frame owns the
  // waiter). With an owning operand (a shared_ptr member, or a nested
  // coroutine's Async) AddressSanitizer caught the waiter freed while the
  // caller still used it, under g++ 12: apparently a co_await operand
  // destroyed twice.
  struct WaitIn {
    State* s;
    std::list<WaiterPtr>* list;
    Waiter* w;
    int64_t timeout_ms;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      WaiterPtr self = w->shared_from_this();
      w->at = list->insert(list->end(), self);
      w->resume = Park(h);
      if (timeout_ms < 0) return;
      w->timer.emplace(ActorExecutor(), std::chrono::milliseconds(timeout_ms));
      w->timer->async_wait([self](const boost::system::error_code& ec) {
        if (!ec && !self->settled) self->resume();
      });
    }
    bool await_resume() {
      WaiterPtr self = w->shared_from_this();
      try {
        ThrowIfCancelled();
      } catch (...) {
        s->Leave(*list, self);
        throw;
      }
      if (!w->settled) list->erase(w->at);  // its timeout passed
      return w->settled;
    }
  };

  void Leave(std::list<WaiterPtr>& list, const WaiterPtr& w) {
    if (!w->settled) {
      list.erase(w->at);
      if (w->timer) w->timer->cancel();
    } else if (&list == &getters) {
      items.push_front(std::move(w->item));
      Settle();
    }
  }
};

QueueActor::QueueActor(int64_t maxsize) : state_(std::make_unique<State>(maxsize)) {}
QueueActor::~QueueActor() = default;

QueueActor* QueueActor::Create(int64_t maxsize) {
  if (maxsize < 0) throw Error("a queue's maxsize must not be negative");
  return new QueueActor(maxsize);
}

Async<bool> QueueActor::Put(QueueItem item, int64_t timeout_ms) {
  auto& s = *state_;
  if (s.putters.empty() && s.HasRoom(1)) {
    s.items.push_back(std::move(item));
    s.Settle();
    co_return true;
  }
  if (timeout_ms == 0) co_return false;
  auto waiter = std::make_shared<Waiter>();
  waiter->item = std::move(item);
  bool put = co_await State::WaitIn{&s, &s.putters, waiter.get(), timeout_ms};
  co_return put;
}

Async<QueueTake> QueueActor::Get(int64_t timeout_ms) {
  auto& s = *state_;
  QueueTake take;
  if (s.getters.empty() && !s.items.empty()) {
    take.items.push_back(std::move(s.items.front()));
    s.items.pop_front();
    s.Settle();
    take.ok = true;
    co_return take;
  }
  if (timeout_ms == 0) co_return take;
  auto waiter = std::make_shared<Waiter>();
  bool got = co_await State::WaitIn{&s, &s.getters, waiter.get(), timeout_ms};
  take.ok = got;
  if (got) take.items.push_back(std::move(waiter->item));
  co_return take;
}

Async<bool> QueueActor::PutBatch(std::vector<QueueItem> items) {
  auto& s = *state_;
  if (!s.putters.empty() || !s.HasRoom(items.size())) co_return false;
  for (auto& i : items) s.items.push_back(std::move(i));
  s.Settle();
  co_return true;
}

Async<QueueTake> QueueActor::GetBatch(int64_t n) {
  auto& s = *state_;
  QueueTake take;
  if (n < 0) throw Error("a batch must not have a negative number of items");
  if (static_cast<size_t>(n) > s.items.size()) co_return take;
  for (int64_t i = 0; i < n; ++i) {
    take.items.push_back(std::move(s.items.front()));
    s.items.pop_front();
  }
  s.Settle();
  take.ok = true;
  co_return take;
}

Async<int64_t> QueueActor::Size() { co_return static_cast<int64_t>(state_->items.size()); }

Async<int64_t> QueueActor::Maxsize() { co_return state_->maxsize; }

}  // namespace glint::internal

GLINT_REMOTE(glint::internal::QueueActor::Create, &glint::internal::QueueActor::Put,
             &glint::internal::QueueActor::Get, &glint::internal::QueueActor::PutBatch,
             &glint::internal::QueueActor::GetBatch, &glint::internal::QueueActor::Size,
             &glint::internal::QueueActor::Maxsize);
