// gRPC helpers: addresses, a cache of channels, a server builder wrapper.
#pragma once
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/common.pb.h"

namespace glint {

std::string AddrString(const proto::Address& a);
// Parses "host:port"; an error for anything else.
absl::StatusOr<proto::Address> ParseAddress(const std::string& s);

// One channel per target, created on first use. Thread-safe.
class ChannelPool {
 public:
  std::shared_ptr<grpc::Channel> Get(const std::string& target);
  static ChannelPool& Default();

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<grpc::Channel>> channels_ ABSL_GUARDED_BY(mu_);
};

// Stub for `Service` at `target`, from the default pool.
template <typename Service>
std::unique_ptr<typename Service::Stub> MakeStub(const std::string& target) {
  return Service::NewStub(ChannelPool::Default().Get(target));
}

// Sets a deadline `ms` from now.
void SetDeadlineMs(grpc::ClientContext* ctx, int64_t ms);

// Builds and starts a server with `services` on host:port (port 0 picks a free
// port); returns the server and the bound port in *bound_port. With `cq`, also
// makes a completion queue for the services' async methods.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartServer(
    const std::string& host, int port, const std::vector<grpc::Service*>& services, int* bound_port,
    std::unique_ptr<grpc::ServerCompletionQueue>* cq = nullptr);

int64_t NowMs();

// One stub per target for `Service`, created on first use. Thread-safe.
template <typename Service>
class StubCache {
 public:
  typename Service::Stub* Get(const std::string& target) {
    absl::MutexLock lock(&mu_);
    auto& s = stubs_[target];
    if (!s) s = Service::NewStub(ChannelPool::Default().Get(target));
    return s.get();
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<typename Service::Stub>> stubs_ ABSL_GUARDED_BY(mu_);
};

// An event on a completion queue: the thread that polls the queue runs
// Proceed(ok) (for a call's end, a request's arrival, or an alarm).
class CqTag {
 public:
  virtual ~CqTag() = default;
  virtual void Proceed(bool ok) = 0;
};

// Runs every event of `cq` on the calling thread until the queue is shut
// down and drained.
void PollUntilShutdown(grpc::CompletionQueue* cq);

// A CqTag that runs `(obj->*fn)(ok)`: one per kind of operation a stream
// keeps outstanding (a read and a write may be in flight at once).
template <typename T>
class MemberTag final : public CqTag {
 public:
  MemberTag(T* obj, void (T::*fn)(bool)) : obj_(obj), fn_(fn) {}
  void Proceed(bool ok) override { (obj_->*fn_)(ok); }

 private:
  T* obj_;
  void (T::*fn_)(bool);
};

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

// The completion queue CallAsync's calls finish on, with the calls in
// flight, so a shutdown can cancel them. A process that polls a queue itself
// (libglint's runtime) installs its own with SetClientQueue; otherwise the
// first call starts one thread that polls a queue of its own.
class ClientQueue {
 public:
  explicit ClientQueue(grpc::CompletionQueue* cq) : cq_(cq) {}
  grpc::CompletionQueue* cq() const { return cq_; }
  // Cancels every call in flight and waits up to `timeout_ms` for their ends
  // to be run (by whoever polls the queue).
  void CancelAll(int64_t timeout_ms);
  // Starts `c` with `start(cq)` on the current queue (under its lock, so the
  // queue cannot be swapped out and shut down meanwhile; c->queue_ is set
  // first) and tracks it until Remove(c), after its last event.
  static void Begin(QueuedCall* c, const std::function<void(grpc::CompletionQueue*)>& start);
  void Remove(QueuedCall* c);

 private:
  void Add(QueuedCall* c);
  grpc::CompletionQueue* const cq_;
  absl::Mutex mu_;
  absl::flat_hash_set<QueuedCall*> calls_ ABSL_GUARDED_BY(mu_);
};
// Installs `q` (nullptr: back to the default queue). Calls started after
// this returns go to the new queue.
void SetClientQueue(ClientQueue* q);

// One async unary call in flight (see CallAsync).
class ClientCall : public CqTag, public QueuedCall {
 protected:
  void Begin(const std::function<void(grpc::CompletionQueue*)>& start) { ClientQueue::Begin(this, start); }
  void Proceed(bool ok) final;
  virtual void Done() = 0;
  grpc::Status status_;
};

template <typename Req, typename Reply>
class AsyncCall final : public ClientCall {
 public:
  using DoneFn = std::function<void(const grpc::Status&, Req&, Reply&)>;
  template <typename Start>
  static grpc::ClientContext* Run(Req req, int64_t deadline_ms, Start&& start, DoneFn done) {
    auto* c = new AsyncCall();
    c->req_ = std::move(req);
    c->done_ = std::move(done);
    if (deadline_ms > 0) SetDeadlineMs(&c->ctx, deadline_ms);
    c->Begin([c, &start](grpc::CompletionQueue* cq) {
      c->reader_ = start(&c->ctx, c->req_, cq);
      c->reader_->StartCall();
      c->reader_->Finish(&c->reply_, &c->status_, c);
    });
    return &c->ctx;
  }

 private:
  void Done() override { done_(status_, req_, reply_); }
  Req req_;
  Reply reply_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Reply>> reader_;
  DoneFn done_;
};

// Runs one async unary call: `start(ctx, req, cq)` prepares it (e.g.
// stub->PrepareAsyncMethod(ctx, req, cq)); `done(status, req, reply)` runs on
// the thread polling the client queue, never inline. `deadline_ms` <= 0 means
// no deadline. Returns the context, so the caller can TryCancel it until
// `done` has run.
template <typename Req, typename Reply, typename Start>
grpc::ClientContext* CallAsync(Req req, int64_t deadline_ms, Start&& start,
                               std::function<void(const grpc::Status&, Req&, Reply&)> done) {
  return AsyncCall<Req, Reply>::Run(std::move(req), deadline_ms, std::forward<Start>(start), std::move(done));
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
  void Finish(const grpc::Status& s) {
    finishing_ = true;
    writer_.Finish(reply, s, this);
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
