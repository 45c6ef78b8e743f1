// ReadStreamAsync: a server-streaming call on a ClientQueue, e.g.
//   ReadStreamAsync(queue, stub, &Stub::PrepareAsyncRequestWorkerLeases, req, 0,
//                   [](proto::LeaseReply& reply) { ... },     // each reply, in order
//                   [](const absl::Status& s) { ... });        // then the end, once
// Both run on the thread polling the queue, never inline, one at a time.
// The queue's Close() cancels it as it does unary calls (async_call.h).
#pragma once
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <type_traits>

#include "absl/status/status.h"
#include "common/async_call.h"
#include "common/queue_poller.h"
#include "common/rpc.h"

namespace glint {

// A generated stub's PrepareAsyncMethod for a server-streaming method.
template <typename Stub, typename Req, typename Reply>
using AsyncStreamMethod = std::unique_ptr<grpc::ClientAsyncReader<Reply>> (Stub::*)(grpc::ClientContext*,
                                                                                   const Req&,
                                                                                   grpc::CompletionQueue*);

template <typename Stub, typename Req, typename Reply>
class AsyncReadStream final : public CqTag, public QueuedCall {
 public:
  using EachFn = std::function<void(Reply&)>;
  using EndFn = std::function<void(const absl::Status&)>;
  static void Run(ClientQueue* queue, Stub* stub, AsyncStreamMethod<Stub, Req, Reply> method, Req req,
                  int64_t deadline_ms, EachFn each, EndFn end) {
    auto* c = new AsyncReadStream();
    c->req_ = std::move(req);
    c->each_ = std::move(each);
    c->end_ = std::move(end);
    if (deadline_ms > 0) SetDeadlineMs(&c->ctx, deadline_ms);
    queue->Begin(c, [c, stub, method](grpc::CompletionQueue* cq) {
      c->reader_ = (stub->*method)(&c->ctx, c->req_, cq);
      c->reader_->StartCall(c);
    });
  }

 private:
  // One operation is outstanding at a time: the start, then reads until one
  // fails (the stream ended), then the finish.
  void Proceed(bool ok) override {
    if (step_ == kFinishing) {
      end_(FromGrpc(status_));
      queue_->Remove(this);  // after its end ran: Close waits for that
      delete this;
      return;
    }
    if (step_ == kReading && ok) {
      each_(reply_);
      reply_.Clear();
    }
    if (ok) {
      step_ = kReading;
      reader_->Read(&reply_, this);
    } else {
      step_ = kFinishing;
      reader_->Finish(&status_, this);
    }
  }
  enum Step { kStarting, kReading, kFinishing };
  Step step_ = kStarting;
  Req req_;
  Reply reply_;
  grpc::Status status_;
  std::unique_ptr<grpc::ClientAsyncReader<Reply>> reader_;
  EachFn each_;
  EndFn end_;
};

// Starts `stub->method(req)`: `each(reply)` for every reply, then
// `end(status)` once. `deadline_ms` <= 0 means none. `stub` is a Stub* or a
// std::shared_ptr<Stub> (StubCache), used only until the call has started.
template <typename StubPtr, typename Stub, typename Req, typename Reply>
void ReadStreamAsync(ClientQueue* queue, const StubPtr& stub, AsyncStreamMethod<Stub, Req, Reply> method,
                     std::type_identity_t<Req> req, int64_t deadline_ms,
                     std::type_identity_t<std::function<void(Reply&)>> each,
                     std::type_identity_t<std::function<void(const absl::Status&)>> end) {
  AsyncReadStream<Stub, Req, Reply>::Run(queue, &*stub, method, std::move(req), deadline_ms, std::move(each),
                                         std::move(end));
}

}  // namespace glint
