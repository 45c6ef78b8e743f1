// ItemStream: a running generator's way back to its caller. Each item the
// producer yields becomes a reply on the call's PushTasks stream
// (PushTaskReply.item_index = 1, 2, ...), stored like any result first
// (large ones in the node's store, under the item's own id); the call's
// final reply follows the last item and says how many there were.
//
// Flow control: with a backpressure of n, the producer waits at its next
// co_yield while n items are sent but not consumed; the caller's acks
// (GeneratorAck on the same stream) count what it consumed. A close ack
// (the caller dropped the generator) or the end of the caller's stream
// stops the producer at its next co_yield. An item that then cannot be sent
// (the close came while it was made, or the stream is gone) is discarded
// here, what it stored and the references in it: its caller never hears of
// it.
//
// RunningGenerators finds the ItemStream an ack is about. Thread-safe.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "glint/generator.h"
#include "proto/worker.pb.h"

namespace glint::internal {

class ItemStream final : public ItemSink {
 public:
  // Sends one item's reply back on the call's stream; false once the
  // stream is gone.
  using SendFn = std::function<bool(proto::PushTaskReply&)>;
  // Readies a value for the caller, as every result is (TaskExecutor::ResultSink).
  using StoreFn = std::function<void(const proto::TaskSpec&, const std::string& object_id, proto::ObjectValue*)>;
  // Packs item `index` straight into the store when it is big enough
  // (TaskExecutor::StoreIfBig).
  using PackFn = std::function<std::optional<proto::ObjectValue>(int64_t index, size_t size,
                                                                 const std::function<void(char*)>& write)>;
  // Undoes what was done for an item that never reached the caller, who
  // cannot: `value` as far as it was readied (perhaps stored in the node's
  // store), `held` the references packed into it, `handed_over` once
  // StoreFn made the caller their borrower.
  using DiscardFn = std::function<void(const proto::TaskSpec&, const std::string& object_id,
                                       const proto::ObjectValue& value, const std::vector<RefData>& held,
                                       bool handed_over)>;
  ItemStream(const proto::TaskSpec& spec, SendFn send, StoreFn store, PackFn pack, DiscardFn discard)
      : spec_(spec), send_(std::move(send)), store_(std::move(store)), pack_(std::move(pack)),
        discard_(std::move(discard)),
        backpressure_(spec.generator_backpressure() > 0 ? spec.generator_backpressure() : 0) {}
  // An item stored by StoreNext and never emitted is freed.
  ~ItemStream() override;

  bool Emit(std::string data, std::vector<RefData> contained) override;
  bool EmitAsync(std::string data, std::vector<RefData> contained, std::function<void(bool)> later) override;
  // A big item is stored under its id before it is emitted (the producer's
  // thread or loop, the only one that emits).
  bool StoreNext(size_t size, const std::function<void(char*)>& write) override;

  // The caller consumed `consumed` items, or (close) wants no more.
  void OnAck(int64_t consumed, bool close);
  // No more items: the caller is gone or stopped the generator.
  void Close();
  int64_t emitted() const;

 private:
  // Stores and sends one item; false when it could not be sent.
  bool Send(std::string data, std::vector<RefData> contained);
  // Discards the next item, not going to be sent: what StoreNext stored of
  // it, if anything, and the references held in it.
  void DiscardNext(const std::vector<RefData>& held);
  bool MayGoOn() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_ || backpressure_ == 0 || emitted_ - consumed_ < backpressure_;
  }

  const proto::TaskSpec& spec_;  // the call's, which outlives its run
  const SendFn send_;
  const StoreFn store_;
  const PackFn pack_;
  const DiscardFn discard_;
  const int64_t backpressure_;
  std::optional<proto::ObjectValue> stored_next_;  // the next item, stored already (producer only)
  mutable absl::Mutex mu_;
  int64_t emitted_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t consumed_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void(bool)> waiting_ ABSL_GUARDED_BY(mu_);  // an async producer held back
};

// The generators running in this worker, by task id, with the stream their
// call came on (acks count only from that stream).
class RunningGenerators {
 public:
  void Add(const std::string& task_id, const void* stream, std::shared_ptr<ItemStream> items);
  void Remove(const std::string& task_id);
  void OnAck(const void* stream, const proto::GeneratorAck& ack);
  // The stream ended: its generators stop.
  void EndStream(const void* stream);
  // The generator `task_id` was cancelled: it stops.
  void Close(const std::string& task_id);

 private:
  struct Running {
    const void* stream;
    std::shared_ptr<ItemStream> items;
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Running> running_ ABSL_GUARDED_BY(mu_);
};

}  // namespace glint::internal
