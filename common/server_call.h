// Serving calls from a completion queue (every process's services: the
// GCS's and raylets', server_queue.h; libglint's WorkerService):
// ServerCall serves one unary method of an async service, ServeUnary one
// whose answer is ready at once, HeldServerCall one whose reply is held open
// until the client goes away. Each ends with an absl::Status, converted
// here at the edge.
#pragma once
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <utility>

#include "absl/synchronization/mutex.h"

#include "absl/status/status.h"
#include "common/queue_poller.h"
#include "common/rpc.h"

namespace glint {

// A generated async service's RequestMethod, e.g.
// &proto::GcsService::AsyncService::RequestGetActor.
template <typename Base, typename Req, typename Reply>
using RequestMethod = void (Base::*)(grpc::ServerContext*, Req*, grpc::ServerAsyncResponseWriter<Reply>*,
                                     grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*);

// Serves one unary method of an async service from a completion queue:
// `handle(call)` runs on the polling thread for each request and must (then
// or later, from any thread) call call->Finish exactly once.
template <typename Req, typename Reply>
class ServerCall final : public CqTag {
 public:
  using Writer = grpc::ServerAsyncResponseWriter<Reply>;
  // Serves `request` (a generated &Service::RequestMethod) of `svc` from `cq`.
  template <typename Svc, typename Base>
  static void Serve(Svc* svc, grpc::ServerCompletionQueue* cq, RequestMethod<Base, Req, Reply> request,
                    std::function<void(ServerCall*)> handle) {
    Listen(std::make_shared<const Method>(Method{
        [svc, cq, request](grpc::ServerContext* ctx, Req* req, Writer* w, CqTag* tag) {
          (static_cast<Base*>(svc)->*request)(ctx, req, w, cq, cq, tag);
        },
        std::move(handle)}));
  }
  void Finish(const absl::Status& s) {
    finishing_ = true;
    writer_.Finish(reply, ToGrpc(s), this);
  }
  // The same; `undelivered` runs (on a polling thread) if the reply cannot
  // go out: its caller went away (cancelled, past its deadline, gone), or
  // the server is shutting down. What the reply handed over is then no
  // one's.
  void Finish(const absl::Status& s, std::function<void()> undelivered) {
    undelivered_ = std::move(undelivered);
    Finish(s);
  }
  grpc::ServerContext ctx;
  Req req;
  Reply reply;

 private:
  struct Method {
    std::function<void(grpc::ServerContext*, Req*, Writer*, CqTag*)> request;
    std::function<void(ServerCall*)> handle;
  };
  // Waits for the method's next request.
  static void Listen(std::shared_ptr<const Method> m) {
    auto* c = new ServerCall(std::move(m));
    c->method_->request(&c->ctx, &c->req, &c->writer_, c);
  }
  explicit ServerCall(std::shared_ptr<const Method> m) : method_(std::move(m)) {}
  void Proceed(bool ok) override {
    if (finishing_ || !ok) {  // the reply is out (or failed to), or the server is shutting down
      if (finishing_ && !ok && undelivered_) undelivered_();
      delete this;
      return;
    }
    Listen(method_);
    method_->handle(this);
  }
  std::shared_ptr<const Method> method_;
  Writer writer_{&ctx};
  bool finishing_ = false;
  std::function<void()> undelivered_;
};

// Serves a method whose answer is ready at once: `answer(req, &reply)` runs
// on the polling thread and returns the call's status.
template <typename Svc, typename Base, typename Req, typename Reply, typename Answer>
void ServeUnary(Svc* svc, grpc::ServerCompletionQueue* cq, RequestMethod<Base, Req, Reply> request, Answer answer) {
  ServerCall<Req, Reply>::Serve(svc, cq, request, [answer = std::move(answer)](ServerCall<Req, Reply>* c) {
    c->Finish(answer(std::as_const(c->req), &c->reply));
  });
}

// The same, answered by a method of `self`: (self->*answer)(req, &reply).
template <typename Svc, typename Base, typename Req, typename Reply, typename Self>
void ServeUnary(Svc* svc, grpc::ServerCompletionQueue* cq, RequestMethod<Base, Req, Reply> request, Self* self,
                absl::Status (Self::*answer)(const Req&, Reply*)) {
  ServeUnary(svc, cq, request, [self, answer](const Req& req, Reply* reply) { return (self->*answer)(req, reply); });
}

// Serves a unary method whose reply is held open until the client goes away
// (a driver's keep-alive): `arrive(req)` runs when a call comes; if it
// refuses (not OK) the call ends at once with that status, else the call is
// held until the client cancels it or disconnects, or the server shuts
// down: then `gone(req)` runs. (No reply follows: the call is over, and an
// operation started now could find the queue shut down.)
template <typename Req, typename Reply>
class HeldServerCall final : public CqTag {
 public:
  struct Handlers {
    std::function<absl::Status(const Req&)> arrive;
    std::function<void(const Req&)> gone;
  };
  template <typename Svc, typename Base>
  static void Serve(Svc* svc, grpc::ServerCompletionQueue* cq, RequestMethod<Base, Req, Reply> request,
                    Handlers handlers) {
    Listen(std::make_shared<const Method>(Method{
        [svc, cq, request](grpc::ServerContext* ctx, Req* req, Writer* w, CqTag* tag) {
          (static_cast<Base*>(svc)->*request)(ctx, req, w, cq, cq, tag);
        },
        std::move(handlers)}));
  }

 private:
  using Writer = grpc::ServerAsyncResponseWriter<Reply>;
  struct Method {
    std::function<void(grpc::ServerContext*, Req*, Writer*, CqTag*)> request;
    Handlers handlers;
  };
  static void Listen(std::shared_ptr<const Method> m) {
    auto* c = new HeldServerCall(std::move(m));
    // gRPC returns this tag once a call has started and ended, never for a
    // request that no call matched (the server shut down first).
    c->ctx_.AsyncNotifyWhenDone(&c->done_tag_);
    c->method_->request(&c->ctx_, &c->req_, &c->writer_, c);
  }
  explicit HeldServerCall(std::shared_ptr<const Method> m) : method_(std::move(m)) {}

  // This object is the tag of the request, then of the finish; done_tag_
  // comes once the call has ended. Either may be taken by another poller
  // thread while this one still runs.
  void Proceed(bool ok) override {
    absl::ReleasableMutexLock lock(&mu_);
    if (!started_) {
      if (!ok) {  // the server shut down before a call came
        lock.Release();
        delete this;
        return;
      }
      started_ = true;
      events_left_ = 1;  // the done tag
      Listen(method_);
      if (auto s = method_->handlers.arrive(req_); !s.ok()) FinishLocked(s);
      return;
    }
    EndOneLocked(&lock);  // the finish went out (or failed: the call was gone)
  }
  void Done(bool) {
    absl::ReleasableMutexLock lock(&mu_);
    if (!finishing_) method_->handlers.gone(req_);  // only a cancel ends a call not finished
    EndOneLocked(&lock);
  }
  void FinishLocked(const absl::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    finishing_ = true;
    ++events_left_;
    writer_.Finish(reply_, ToGrpc(s), this);
  }
  void EndOneLocked(absl::ReleasableMutexLock* lock) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    bool last = --events_left_ == 0;
    lock->Release();
    if (last) delete this;
  }

  std::shared_ptr<const Method> method_;
  grpc::ServerContext ctx_;
  Req req_;
  Reply reply_;
  Writer writer_{&ctx_};
  MemberTag<HeldServerCall> done_tag_{this, &HeldServerCall::Done};
  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  int events_left_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace glint
