#include "client/src/submit/transport.h"

#include "absl/strings/str_cat.h"
#include "client/src/submit/call_stream.h"
#include "common/async_stream.h"

namespace glint::internal {
namespace {
using RayletStub = proto::RayletService::Stub;
}  // namespace

std::shared_ptr<CallSink> GrpcTransport::OpenStream(const proto::Address& worker, const std::string& lease_id,
                                                    CallSink::DoneFn done) {
  return CallStream::Open(queue_, workers_->Get(AddrString(worker), worker.worker_id()).get(), lease_id,
                          std::move(done), items_);
}

void GrpcTransport::RequestLeases(const std::string& raylet, const proto::LeaseRequest& req, int count,
                                  LeaseFn each) {
  proto::LeaseRequest batch = req;
  batch.set_count(count);
  auto answered = std::make_shared<int>(0);  // the stream's callbacks run one at a time
  ReadStreamAsync(
      queue_, raylets_->Get(raylet), &RayletStub::PrepareAsyncRequestWorkerLeases, std::move(batch), 0,
      [each, answered, count](proto::LeaseReply& reply) {
        if (*answered == count) return;  // more answers than asked: a broken raylet's, ignored
        ++*answered;
        each(absl::OkStatus(), reply);
      },
      [each, answered, count, raylet](const absl::Status& s) {
        absl::Status why = s.ok() ? absl::InternalError(absl::StrCat("the raylet at ", raylet, " answered ", *answered,
                                                                     " of ", count, " lease requests"))
                                  : s;
        for (proto::LeaseReply none; *answered < count; ++*answered) each(why, none);
      });
}

void GrpcTransport::ReturnLease(const std::string& raylet, const std::string& lease_id, bool disconnect) {
  proto::ReturnWorkerRequest req;
  req.set_lease_id(lease_id);
  req.set_disconnect(disconnect);
  SendOneWay(queue_, raylets_->Get(raylet), &RayletStub::PrepareAsyncReturnWorker, std::move(req), 5000,
             absl::StrCat("returning a leased worker to ", raylet));
}

}  // namespace glint::internal
