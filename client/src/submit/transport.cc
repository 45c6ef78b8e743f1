#include "client/src/submit/transport.h"

#include "absl/strings/str_cat.h"
#include "client/src/submit/call_stream.h"

namespace glint::internal {
namespace {
using RayletStub = proto::RayletService::Stub;
}  // namespace

std::shared_ptr<CallSink> GrpcTransport::OpenStream(const proto::Address& worker, CallSink::DoneFn done) {
  return CallStream::Open(queue_, workers_->Get(AddrString(worker), worker.worker_id()).get(), std::move(done), items_);
}

void GrpcTransport::RequestLease(const std::string& raylet, const proto::LeaseRequest& req, LeaseFn done) {
  CallAsync(queue_, raylets_->Get(raylet), &RayletStub::PrepareAsyncRequestWorkerLease, req, 0, std::move(done));
}

void GrpcTransport::ReturnLease(const std::string& raylet, const std::string& lease_id, bool disconnect) {
  proto::ReturnWorkerRequest req;
  req.set_lease_id(lease_id);
  req.set_disconnect(disconnect);
  SendOneWay(queue_, raylets_->Get(raylet), &RayletStub::PrepareAsyncReturnWorker, std::move(req), 5000,
             absl::StrCat("returning a leased worker to ", raylet));
}

}  // namespace glint::internal
