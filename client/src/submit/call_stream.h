// CallStream: the PushTasks stream from this process to one worker, which
// carries all of this process's calls to the actor there.
//
// A unary call per actor call costs gRPC a new HTTP/2 stream, its headers
// and a call object on both sides; on a stream held open a call is a few
// bytes of an existing message. Calls queued while the previous message is
// being written go out together in the next one (and the worker does the same
// with replies), so under load many calls share one message and one wake-up,
// and a lone call still goes out at once. Each reply names its call's task
// id. When the stream ends (the worker died, or a shutdown cancelled it),
// every call not answered yet ends with the stream's error, and Send returns
// false from then on: the owner opens a new stream for later calls.
// A generator call's items come as replies with an item index, ahead of its
// final reply, and go to `items`; acks about them, and cancels of calls,
// ride with the calls (after those of the same message).
// Thread-safe; `done` runs on the thread polling the client queue, never
// inline in Send and never under the stream's lock.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "client/src/submit/transport.h"
#include "common/async_call.h"
#include "proto/worker.grpc.pb.h"

namespace glint::internal {

class CallStream final : public CallSink, public QueuedCall, public std::enable_shared_from_this<CallStream> {
 public:
  // Opens a stream on `queue` (naming `lease_id` to the worker, if not
  // empty); it keeps itself alive until its last event has run.
  static std::shared_ptr<CallStream> Open(ClientQueue* queue, proto::WorkerService::Stub* stub,
                                          const std::string& lease_id, DoneFn done, ItemFn items);
  bool Send(proto::TaskSpec& task) override;
  void Close() override;
  bool ended() const override;
  void Ack(const proto::GeneratorAck& ack) override;
  bool Cancel(const proto::CancelRequest& cancel) override;
  bool Has(const std::string& task_id) const override;

  CallStream(DoneFn done, ItemFn items) : done_(std::move(done)), items_(std::move(items)) {}

 private:
  void OnStart(bool ok);
  void OnRead(bool ok);
  void OnWrite(bool ok);
  void OnFinish(bool ok);
  // Writes the queued calls as one message, unless a write is in flight.
  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After an event: releases the stream once nothing is outstanding.
  void Release() ABSL_LOCKS_EXCLUDED(mu_);
  bool HasLocked(const std::string& task_id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const DoneFn done_;
  const ItemFn items_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<proto::PushTaskBatch, proto::PushTaskReplyBatch>> rw_;
  MemberTag<CallStream> start_tag_{this, &CallStream::OnStart};
  MemberTag<CallStream> read_tag_{this, &CallStream::OnRead};
  MemberTag<CallStream> write_tag_{this, &CallStream::OnWrite};
  MemberTag<CallStream> finish_tag_{this, &CallStream::OnFinish};
  proto::PushTaskBatch out_;     // the message being written
  proto::PushTaskReplyBatch in_;  // the message being read
  grpc::Status status_;
  mutable absl::Mutex mu_;
  std::shared_ptr<CallStream> self_ ABSL_GUARDED_BY(mu_);  // while events are outstanding
  int ops_ ABSL_GUARDED_BY(mu_) = 0;                       // events outstanding
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;      // Close() was called
  bool writes_done_ ABSL_GUARDED_BY(mu_) = false;  // ... and its WritesDone is out
  std::deque<std::unique_ptr<proto::TaskSpec>> queued_ ABSL_GUARDED_BY(mu_);  // not written yet
  std::vector<proto::GeneratorAck> acks_ ABSL_GUARDED_BY(mu_);                 // ... and acks
  std::vector<proto::CancelRequest> cancels_ ABSL_GUARDED_BY(mu_);             // ... and cancels
  absl::flat_hash_map<std::string, std::unique_ptr<proto::TaskSpec>> sent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace glint::internal
