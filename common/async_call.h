// Client calls: one async-call helper (CallAsync), one blocking-call helper
// (BlockingCall) and one fire-and-forget helper (SendOneWay), each made on a
// ClientQueue its owner passes in and each reporting absl::Status, e.g.
//   CallAsync(queue, stub, &Stub::PrepareAsyncGetActor, req, 10000,
//             [](const absl::Status& s, proto::GetActorReply& reply) { ... });
//
// ClientQueue: the completion queue those calls finish on, with the calls in
// flight, so that its owner's Stop() can cancel them and wait until their
// callbacks ran; after that no callback of that owner runs any more.
// libglint's runtime and the GCS poll their queue themselves (the process's
// one completion queue); the raylets and the CLI use a ClientQueueThread.
#pragma once
#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>
#include <thread>
#include <type_traits>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/queue_poller.h"
#include "common/rpc.h"

namespace glint {

class ClientQueue;
// A client call or stream in flight on a ClientQueue.
class QueuedCall {
 public:
  virtual ~QueuedCall() = default;
  grpc::ClientContext ctx;

 protected:
  ClientQueue* queue_ = nullptr;  // set by ClientQueue::Begin

 private:
  friend class ClientQueue;
};

// Thread-safe. Whoever polls `cq` runs the calls' ends.
class ClientQueue {
 public:
  explicit ClientQueue(grpc::CompletionQueue* cq) : cq_(cq) {}
  grpc::CompletionQueue* cq() const { return cq_; }
  // Cancels every call in flight, and every call started from now on, and
  // waits up to `timeout_ms` until their ends ran (the queue must still be
  // polled meanwhile).
  void Close(int64_t timeout_ms);
  // Starts `c` with `start(cq)` (c->queue_ is set first) and tracks it until
  // Remove(c), after its last event.
  void Begin(QueuedCall* c, const std::function<void(grpc::CompletionQueue*)>& start);
  void Remove(QueuedCall* c);

 private:
  grpc::CompletionQueue* const cq_;
  absl::Mutex mu_;
  absl::flat_hash_set<QueuedCall*> calls_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// A ClientQueue with a completion queue and a thread of its own that polls
// it: for processes whose own threads poll nothing (the daemons, the CLI).
class ClientQueueThread {
 public:
  ClientQueueThread();
  ~ClientQueueThread() { Stop(); }
  ClientQueueThread(const ClientQueueThread&) = delete;
  ClientQueueThread& operator=(const ClientQueueThread&) = delete;
  ClientQueue* queue() { return &queue_; }
  // Cancels the calls in flight, runs their ends, and joins the thread.
  void Stop();

 private:
  grpc::CompletionQueue cq_;
  ClientQueue queue_{&cq_};
  QueuePoller poller_{&cq_};
  std::thread thread_;
};

// A generated stub's PrepareAsyncMethod, e.g. &proto::GcsService::Stub::PrepareAsyncGetActor.
template <typename Stub, typename Req, typename Reply>
using AsyncMethod = std::unique_ptr<grpc::ClientAsyncResponseReader<Reply>> (Stub::*)(
    grpc::ClientContext*, const Req&, grpc::CompletionQueue*);

// What a call's end runs: its status (converted from gRPC's here, once) and
// its reply.
template <typename Reply>
using ReplyFn = std::function<void(const absl::Status&, Reply&)>;

// One async unary call in flight (see CallAsync).
class ClientCall : public CqTag, public QueuedCall {
 protected:
  void Proceed(bool ok) final;
  virtual void Done(const absl::Status& s) = 0;
  grpc::Status status_;
};

template <typename Stub, typename Req, typename Reply>
class AsyncCall final : public ClientCall {
 public:
  static grpc::ClientContext* Run(ClientQueue* queue, Stub* stub, AsyncMethod<Stub, Req, Reply> method, Req req,
                                  int64_t deadline_ms, ReplyFn<Reply> done, bool wait_for_ready = false) {
    auto* c = new AsyncCall();
    c->req_ = std::move(req);
    c->done_ = std::move(done);
    if (deadline_ms > 0) SetDeadlineMs(&c->ctx, deadline_ms);
    c->ctx.set_wait_for_ready(wait_for_ready);
    queue->Begin(c, [c, stub, method](grpc::CompletionQueue* cq) {
      c->reader_ = (stub->*method)(&c->ctx, c->req_, cq);
      c->reader_->StartCall();
      c->reader_->Finish(&c->reply_, &c->status_, c);
    });
    return &c->ctx;
  }

 private:
  void Done(const absl::Status& s) override { done_(s, reply_); }
  Req req_;
  Reply reply_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Reply>> reader_;
  ReplyFn<Reply> done_;
};

// Starts `stub->method(req)`; `done(status, reply)` runs on the thread
// polling the client queue, never inline. `deadline_ms` <= 0 means no
// deadline. Returns the context, so the caller can TryCancel it until `done`
// has run. `stub` is a Stub* or a std::shared_ptr<Stub> (StubCache); it is
// used only until the call has started, before CallAsync returns.
template <typename StubPtr, typename Stub, typename Req, typename Reply>
grpc::ClientContext* CallAsync(ClientQueue* queue, const StubPtr& stub, AsyncMethod<Stub, Req, Reply> method,
                               std::type_identity_t<Req> req, int64_t deadline_ms,
                               std::type_identity_t<ReplyFn<Reply>> done) {
  return AsyncCall<Stub, Req, Reply>::Run(queue, &*stub, method, std::move(req), deadline_ms, std::move(done));
}

// The same, but a server that cannot be reached now (restarting, or the
// channel still backing off after it came back) is waited for until the
// deadline instead of failing the call at once.
template <typename StubPtr, typename Stub, typename Req, typename Reply>
grpc::ClientContext* CallAsyncWhenReady(ClientQueue* queue, const StubPtr& stub, AsyncMethod<Stub, Req, Reply> method,
                                        std::type_identity_t<Req> req, int64_t deadline_ms,
                                        std::type_identity_t<ReplyFn<Reply>> done) {
  return AsyncCall<Stub, Req, Reply>::Run(queue, &*stub, method, std::move(req), deadline_ms, std::move(done),
                                          /*wait_for_ready=*/true);
}

// Makes the call and waits for its end. The reply comes in on the client
// queue, as every other reply does, instead of on a sync stub's own queue;
// on a thread that polls that queue, the cover thread polls meanwhile.
// `wait_for_ready`: as CallAsyncWhenReady.
template <typename StubPtr, typename Stub, typename Req, typename Reply>
absl::Status BlockingCall(ClientQueue* queue, const StubPtr& stub, AsyncMethod<Stub, Req, Reply> method,
                          std::type_identity_t<Req> req, int64_t deadline_ms, Reply* reply,
                          bool wait_for_ready = false) {
  absl::Status status;
  absl::Notification done;
  AsyncCall<Stub, Req, Reply>::Run(
      queue, &*stub, method, std::move(req), deadline_ms,
      [&](const absl::Status& s, Reply& r) {
        status = s;
        reply->Swap(&r);
        done.Notify();
      },
      wait_for_ready);
  QueuePoller::BlockingScope blocking;
  done.WaitForNotification();
  return status;
}

// Runs `fn` on the thread polling `queue`, soon but never inline: work a
// caller's burst of requests can share (lease requests for tasks submitted
// in a loop). Tracked like a call, so the queue's Close() waits for it.
void RunSoon(ClientQueue* queue, std::function<void()> fn);

// Logs a one-way call's failure (`what` says what it was for).
void LogCallFailure(const std::string& what, const absl::Status& s);

// A call nobody waits for: its failure is logged, not dropped.
template <typename StubPtr, typename Stub, typename Req, typename Reply>
void SendOneWay(ClientQueue* queue, const StubPtr& stub, AsyncMethod<Stub, Req, Reply> method,
                std::type_identity_t<Req> req, int64_t deadline_ms, std::string what) {
  CallAsync(queue, stub, method, std::move(req), deadline_ms,
            [what = std::move(what)](const absl::Status& s, Reply&) { LogCallFailure(what, s); });
}

}  // namespace glint
