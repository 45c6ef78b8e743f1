// GeneratorStreams: the caller's side of the generators it called, by task
// id. Items arrive on the call's stream (CallSink::ItemFn) and are stored
// as objects this process owns (GeneratorItemId(task, i)); Next hands them
// out in order. The call's return object is the stream's end: it says how
// many items there were (ObjectValue.generator_items), or is an error
// (the producer threw, its worker died, ...), which becomes one more item,
// whose Get throws it, before the end.
//
// A retried call streams its items again from the first: those already
// here are dropped. With backpressure, Next acks what was consumed, on the
// stream the items came on; Drop frees what was not taken and closes the
// producer. Thread-safe; callbacks run without the lock held.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/src/objects/memory_store.h"
#include "client/src/submit/transport.h"
#include "glint/internal/runtime_api.h"

namespace glint::internal {

class GeneratorStreams {
 public:
  // Borrows `store`, which must outlive it; `self` is this process's address.
  GeneratorStreams(MemoryStore* store, std::string self) : store_(store), self_(std::move(self)) {}

  // Before a generator call is submitted (its return object expected).
  void Start(const std::string& task_id, int backpressure);
  // An item of a call of ours arrived on `via`.
  void OnItem(const std::string& task_id, proto::PushTaskReply& item, const std::shared_ptr<CallSink>& via);
  // The next item, waiting until `deadline`; nullopt at the end;
  // DEADLINE_EXCEEDED when nothing came; NOT_FOUND for an unknown stream;
  // a TASK_CANCELLED error once the call was cancelled.
  absl::StatusOr<std::optional<RefData>> Next(const std::string& task_id, absl::Time deadline);
  bool IsReady(const std::string& task_id);
  // Runs `fn` once Next would return at once (now, if it would).
  void OnReady(const std::string& task_id, std::function<void()> fn);
  // The consumer is gone: frees the items not taken, stops the producer.
  void Drop(const std::string& task_id);
  // The call was cancelled: Next says so (CANCELLED) from now on.
  void Cancelled(const std::string& task_id);

 private:
  struct Stream {
    int backpressure = 0;
    int64_t consumed = 0;           // handed out by Next
    int64_t contiguous = 0;         // items 1..contiguous are here
    absl::btree_set<int64_t> past;  // items here beyond a gap (arrived out of order)
    int64_t total = -1;             // known at the end
    bool dropped = false;
    bool cancelled = false;
    std::weak_ptr<CallSink> via;  // the stream the items come on
    std::vector<std::function<void()>> on_ready;
    bool Ready() const { return cancelled || consumed < contiguous || (total >= 0 && consumed >= total); }
    bool Has(int64_t i) const { return i <= contiguous || past.contains(i); }
    void Arrived(int64_t i);
  };
  // The call's return object is here: the end (and its error, if any).
  void OnEnd(const std::string& task_id, const proto::ObjectValue& end);
  // Runs the callbacks of a stream that became ready.
  static void Notify(std::vector<std::function<void()>> fns);
  void SendAck(const std::weak_ptr<CallSink>& via, const std::string& task_id, int64_t consumed, bool close);

  MemoryStore* const store_;
  const std::string self_;
  absl::Mutex mu_;
  absl::node_hash_map<std::string, Stream> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace glint::internal
