// Serving calls: ServerCall serves one unary method of an async service
// from a completion queue (libglint's WorkerService); FinishUnary and
// FinishStream end a callback-API call (the GCS's and raylets' services)
// with an absl::Status, converted here at the edge.
#pragma once
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "common/queue_poller.h"
#include "common/rpc.h"

namespace glint {

// Finishes a callback-API unary call with `s`; returns its reactor.
inline grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  auto* r = ctx->DefaultReactor();
  r->Finish(ToGrpc(s));
  return r;
}

// Ends a callback-API server-streaming call at once with `s` (a request
// refused before any reply); returns its reactor.
template <typename Msg>
grpc::ServerWriteReactor<Msg>* FinishStream(const absl::Status& s) {
  class Ended final : public grpc::ServerWriteReactor<Msg> {
   public:
    explicit Ended(const grpc::Status& s) { this->Finish(s); }
    void OnDone() override { delete this; }
  };
  return new Ended(ToGrpc(s));
}

// Serves one unary method of an async service from a completion queue:
// `handle(call)` runs on the polling thread for each request and must (then
// or later, from any thread) call call->Finish exactly once.
template <typename Req, typename Reply>
class ServerCall final : public CqTag {
 public:
  using Writer = grpc::ServerAsyncResponseWriter<Reply>;
  // Serves `request` (a generated &Service::RequestMethod) of `svc` from `cq`.
  template <typename Svc, typename Base>
  static void Serve(Svc* svc, grpc::ServerCompletionQueue* cq,
                    void (Base::*request)(grpc::ServerContext*, Req*, Writer*, grpc::CompletionQueue*,
                                          grpc::ServerCompletionQueue*, void*),
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
    if (finishing_ || !ok) {  // the reply is out, or the server is shutting down
      delete this;
      return;
    }
    Listen(method_);
    method_->handle(this);
  }
  std::shared_ptr<const Method> method_;
  Writer writer_{&ctx};
  bool finishing_ = false;
};

}  // namespace glint
