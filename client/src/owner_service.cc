#include "client/src/owner_service.h"

#include "common/limits.h"
#include "common/logging.h"
#include "common/rpc.h"
#include "common/server_call.h"

namespace glint::internal {
namespace {

// A driver's answer to PushTask and PushTasks: it runs no tasks.
constexpr const char* kDriverRunsNoTasks = "this process is a driver; it runs no tasks";

class RefusedStream final : public CqTag {
 public:
  static void Listen(TaskExecutor::AsyncService* svc, grpc::ServerCompletionQueue* cq) {
    auto* r = new RefusedStream(svc, cq);
    svc->RequestPushTasks(&r->ctx_, &r->rw_, cq, cq, r);
  }

 private:
  RefusedStream(TaskExecutor::AsyncService* svc, grpc::ServerCompletionQueue* cq) : svc_(svc), cq_(cq) {}
  void Proceed(bool ok) override {
    if (!ok || answered_) {
      delete this;
      return;
    }
    Listen(svc_, cq_);
    answered_ = true;
    rw_.Finish(ToGrpc(absl::FailedPreconditionError(kDriverRunsNoTasks)), this);
  }
  TaskExecutor::AsyncService* svc_;
  grpc::ServerCompletionQueue* cq_;
  grpc::ServerContext ctx_;
  grpc::ServerAsyncReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer> rw_{&ctx_};
  bool answered_ = false;
};

}  // namespace

void OwnerService::Start(bool refuse_tasks) {
  using Service = proto::WorkerService::AsyncService;
  auto* svc = service_;
  auto* cq = cq_;
  using GetCall = ServerCall<proto::GetObjectRequest, proto::GetObjectReply>;
  GetCall::Serve(svc, cq, &Service::RequestGetObject, [this](GetCall* call) {
    if (!store_->Contains(call->req.object_id())) {
      call->reply.set_unknown(true);
      return call->Finish(absl::OkStatus());
    }
    if (call->req.has_lost()) {
      if (auto why_not = rebuild_(call->req.object_id(), call->req.lost())) {
        call->reply.set_ready(true);
        *call->reply.mutable_value() = std::move(*why_not);
        return call->Finish(absl::OkStatus());
      }
    }
    store_->OnReady(call->req.object_id(), [call](const proto::ObjectValue& v) {
      call->reply.set_ready(true);
      *call->reply.mutable_value() = v;
      call->Finish(absl::OkStatus());
    });
  });
  using BorrowCall = ServerCall<proto::BorrowRequest, proto::BorrowReply>;
  auto borrow = [this](bool add) {
    return [this, add](BorrowCall* call) {
      // The borrower is asked later whether it lives: only a HOST:PORT.
      for (auto s : {CheckId("the object id", call->req.object_id()),
                     CheckAddress("the borrower", call->req.borrower(), /*may_be_empty=*/false)}) {
        if (!s.ok()) return call->Finish(s);
      }
      if (auto a = ParseAddress(call->req.borrower()); !a.ok()) return call->Finish(a.status());
      call->reply.set_unknown(!refs_->OnBorrow(call->req.object_id(), call->req.borrower(), add));
      call->Finish(absl::OkStatus());
    };
  };
  BorrowCall::Serve(svc, cq, &Service::RequestAddBorrower, borrow(true));
  BorrowCall::Serve(svc, cq, &Service::RequestRemoveBorrower, borrow(false));
  using ExitCall = ServerCall<proto::ExitRequest, proto::ExitReply>;
  ExitCall::Serve(svc, cq, &Service::RequestExit, [this](ExitCall* call) {
    LOG(INFO) << "asked to exit: " << call->req.reason();
    on_exit_();
    call->Finish(absl::OkStatus());
  });
  if (!refuse_tasks) return;  // the executor takes PushTask and PushTasks
  using PushCall = ServerCall<proto::PushTaskRequest, proto::PushTaskReply>;
  PushCall::Serve(svc, cq, &Service::RequestPushTask, [](PushCall* call) {
    call->Finish(absl::FailedPreconditionError(kDriverRunsNoTasks));
  });
  RefusedStream::Listen(svc, cq);
}

}  // namespace glint::internal
