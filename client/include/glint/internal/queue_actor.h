// The actor behind glint::Queue (internal; see glint/queue.h): an async
// actor holding the queue's items in FIFO order. Callers that must wait
// (an empty queue's Get, a full queue's Put) wait as coroutines on the
// actor's loop, woken by the call that frees them or by their timeout —
// no polling. It is registered in libglint, so every worker can host it.
#pragma once
#include "glint/internal/export.h"
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "glint/async.h"
#include "glint/object_ref.h"

namespace glint::internal {

// One item as the queue holds it: the value's msgpack bytes and the
// references packed inside them, held as long as the item is.
struct QueueItem {
  std::string data;
  std::vector<ObjectRef<void>> refs;
  MSGPACK_DEFINE(data, refs);
};

// What a Get answers: `ok` false when the queue had nothing in time.
struct QueueTake {
  bool ok = false;
  std::vector<QueueItem> items;
  MSGPACK_DEFINE(ok, items);
};

class GLINT_EXPORT QueueActor {
 public:
  // maxsize 0: unbounded.
  static QueueActor* Create(int64_t maxsize);
  ~QueueActor();

  // timeout_ms < 0 waits for room (an item) as long as it takes, 0 not at
  // all. Waiting callers are served in the order they came.
  Async<bool> Put(QueueItem item, int64_t timeout_ms);
  Async<QueueTake> Get(int64_t timeout_ms);
  // All of `items` if there is room for all of them now, else none.
  Async<bool> PutBatch(std::vector<QueueItem> items);
  // `n` items if there are that many now, else none.
  Async<QueueTake> GetBatch(int64_t n);
  Async<int64_t> Size();
  Async<int64_t> Maxsize();

  struct State;

 private:
  explicit QueueActor(int64_t maxsize);
  std::unique_ptr<State> state_;
};

}  // namespace glint::internal
