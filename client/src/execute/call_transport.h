// CallTransport: how calls reach this worker and how their replies leave.
// Calls come as PushTask requests (the GCS's actor creation) or on PushTasks
// streams (one per caller: many calls and replies to a message), both served
// from the process's completion queue. Whichever thread polls the queue
// takes a call off the wire and hands it to `arrived`; Reply sends its reply
// back the way it came. A stream ends when its caller closes it, when a
// write fails, or, once the actor exits (Wind), after its calls are
// answered. A message that does not parse ends its stream with
// INVALID_ARGUMENT; a stream naming a revoked lease is refused at once.
// Thread-safe.
#pragma once
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "common/queue_poller.h"
#include "proto/worker.grpc.pb.h"

namespace glint::internal {

class CallTransport;
class PushStream;  // one caller's PushTasks stream (call_transport.cc)

// One call to run: its request, its reply, and the way back.
struct IncomingCall final : CqTag {
  explicit IncomingCall(CallTransport* t) : transport(t) {}
  const proto::TaskSpec& task() const { return req.task(); }
  // A PushTask request arrived (kWaiting), or its reply is out (kReplying).
  void Proceed(bool ok) override;

  enum State { kWaiting, kReplying } state = kWaiting;
  CallTransport* transport;
  PushStream* stream = nullptr;  // set for a call that came in on a stream
  grpc::ServerContext ctx;
  proto::PushTaskRequest req;
  proto::PushTaskReply reply;
  grpc::ServerAsyncResponseWriter<proto::PushTaskReply> responder{&ctx};
};

class CallTransport {
 public:
  // WorkerService with PushTasks raw (bytes), so a message that does not
  // parse ends its stream with an error instead of looking like the caller
  // closing it. Its other methods are served by OwnerService.
  using AsyncService = proto::WorkerService::WithRawMethod_PushTasks<proto::WorkerService::AsyncService>;
  // Takes calls that arrived (well-formed ones only); runs on the thread
  // that polled them and must not block.
  using ArrivedFn = std::function<void(std::vector<IncomingCall*>& calls)>;
  // A stream's caller acked generator items (after the calls of the same
  // message arrived); runs on the polling thread and must not block.
  using AckFn = std::function<void(const void* stream, const proto::GeneratorAck& ack)>;
  // A stream's caller cancelled a call it sent on it (after the calls of
  // the same message arrived); runs on the polling thread, must not block.
  using CancelFn = std::function<void(const proto::CancelRequest& cancel)>;
  // A stream's caller closed its side or went away.
  using StreamEndFn = std::function<void(const void* stream)>;
  // A stream that named a lease (kLeaseIdMetadataKey: it came from the
  // holder of this worker's lease) ended, with calls of it still to answer
  // (`busy`) or not; runs on the polling thread, must not block.
  using LeaseEndFn = std::function<void(const std::string& lease_id, bool busy)>;
  // A stream that names a lease opened: false if the lease was revoked
  // (lease_ledger.h), and the stream is refused with FAILED_PRECONDITION.
  using LeaseOpenFn = std::function<bool(const std::string& lease_id)>;
  // What a stream brings besides calls.
  struct Hooks {
    AckFn acked;
    CancelFn cancelled;
    StreamEndFn stream_ended;
    LeaseOpenFn lease_opened;  // may be empty
    LeaseEndFn lease_ended;    // may be empty
  };
  // Borrows `service` and `cq`, which must outlive the server's queue.
  CallTransport(AsyncService* service, grpc::ServerCompletionQueue* cq, ArrivedFn arrived, Hooks hooks)
      : service_(service), cq_(cq), arrived_(std::move(arrived)), hooks_(std::move(hooks)) {}

  // Starts taking calls.
  void Start();
  // Sends the call's reply; the call is deleted once it is out.
  void Reply(IncomingCall* call);
  // Sends one item of a generator call (which came on a stream) ahead of
  // its final reply; false once the stream can carry no more.
  bool SendItem(IncomingCall* call, proto::PushTaskReply& item);
  // The actor is exiting: every stream ends once its calls are answered.
  void Wind();

 private:
  friend struct IncomingCall;
  friend class PushStream;
  void Accept();
  void AcceptStream();
  void OnUnary(IncomingCall* call);
  // Answers a malformed call at once; false for a call that may run.
  bool Refuse(IncomingCall* call);

  AsyncService* const service_;
  grpc::ServerCompletionQueue* const cq_;
  const ArrivedFn arrived_;
  const Hooks hooks_;
  std::atomic<bool> exiting_{false};
  absl::Mutex mu_;
  absl::flat_hash_set<PushStream*> streams_ ABSL_GUARDED_BY(mu_);  // open ones
};

}  // namespace glint::internal
