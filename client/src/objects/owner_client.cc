#include "client/src/objects/owner_client.h"

#include "absl/strings/str_cat.h"
#include "common/ids.h"

namespace glint::internal {
namespace {
using Stub = proto::WorkerService::Stub;
}  // namespace

absl::Status GrpcOwnerClient::AddBorrower(const std::string& owner, const std::string& id) {
  proto::BorrowRequest req;
  req.set_object_id(id);
  req.set_borrower(self_);
  proto::BorrowReply reply;
  return BlockingCall(queue_, workers_->Get(owner), &Stub::PrepareAsyncAddBorrower, std::move(req), 5000, &reply);
}

void GrpcOwnerClient::RemoveBorrower(const std::string& owner, const std::string& id) {
  proto::BorrowRequest req;
  req.set_object_id(id);
  req.set_borrower(self_);
  SendOneWay(queue_, workers_->Get(owner), &Stub::PrepareAsyncRemoveBorrower, std::move(req), 10000,
             absl::StrCat("letting go of object ", ShortHex(id), " owned by ", owner));
}

void GrpcOwnerClient::GetObject(const std::string& owner, const std::string& id, int64_t deadline_ms,
                                ObjectFn done) {
  proto::GetObjectRequest req;
  req.set_object_id(id);
  CallAsync(queue_, workers_->Get(owner), &Stub::PrepareAsyncGetObject, std::move(req), deadline_ms,
            std::move(done));
}

void GrpcOwnerClient::RecoverObject(const std::string& owner, const std::string& id, const proto::StoredObject& lost,
                                    ObjectFn done) {
  proto::GetObjectRequest req;
  req.set_object_id(id);
  *req.mutable_lost() = lost;
  CallAsync(queue_, workers_->Get(owner), &Stub::PrepareAsyncGetObject, std::move(req), 0, std::move(done));
}

}  // namespace glint::internal
