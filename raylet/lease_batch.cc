#include "raylet/lease_batch.h"

#include <deque>

#include "absl/synchronization/mutex.h"
#include "common/rpc.h"

namespace glint::raylet {

struct LeaseBatch::Answers {
  Answers(LeaseManager* l, int n, LeaseBatch* c) : leases(l), count(n), call(c) {}
  // A grant that will not reach the caller goes back to the pool.
  void GiveBack(const proto::LeaseReply& reply) {
    if (reply.has_worker()) leases->Return(reply.lease_id(), NowMs());
  }
  LeaseManager* const leases;
  const int count;
  LeaseBatch* const call;  // valid until `finishing` is set and no write is claimed
  absl::Mutex mu;
  std::deque<proto::LeaseReply> queued ABSL_GUARDED_BY(mu);  // decided, not written yet
  int written ABSL_GUARDED_BY(mu) = 0;
  // Whoever sets it from false owns the writing: it writes the next answer,
  // or ends the call, and no one else may meanwhile.
  bool writing ABSL_GUARDED_BY(mu) = false;
  bool broken ABSL_GUARDED_BY(mu) = false;     // cancelled, or a write failed
  bool finishing ABSL_GUARDED_BY(mu) = false;  // Finish was called: nothing more is written
};

LeaseBatch::LeaseBatch(LeaseManager* leases, int count)
    : answers_(std::make_shared<Answers>(leases, count, this)) {}

void LeaseBatch::Start(const std::shared_ptr<Answers>& a, const proto::LeaseRequest& req) {
  {
    absl::MutexLock lock(&a->mu);
    if (a->finishing || a->broken) return;  // the caller went away meanwhile
  }
  for (int i = 0; i < a->count; ++i) {
    a->leases->Request(req, [a](const proto::LeaseReply& reply) { Answer(a, reply); });
  }
}

void LeaseBatch::Refuse(const std::shared_ptr<Answers>& a, const proto::LeaseReply& refusal) {
  for (int i = 0; i < a->count; ++i) Answer(a, refusal);
}

void LeaseBatch::Answer(const std::shared_ptr<Answers>& a, proto::LeaseReply reply) {
  bool writer = false;  // queued, and this caller writes it
  {
    absl::MutexLock lock(&a->mu);
    if (!a->finishing && !a->broken) {
      a->queued.push_back(std::move(reply));
      if (a->writing) return;  // its writer takes it next
      a->writing = writer = true;
    }
  }
  if (!writer) {  // not queued: the call is over (or ending): the answer cannot go out
    a->GiveBack(reply);
    return;
  }
  a->call->WriteNextOrFinish();
}

void LeaseBatch::WriteNextOrFinish() {
  auto& a = *answers_;
  bool finish = false;
  grpc::Status end;
  {
    absl::MutexLock lock(&a.mu);
    if (!a.broken && !a.queued.empty()) {
      out_ = std::move(a.queued.front());
      a.queued.pop_front();
    } else if (!a.finishing && (a.broken || a.written == a.count)) {
      a.finishing = finish = true;
      if (a.broken) end = grpc::Status(grpc::StatusCode::CANCELLED, "the lease call was cut short");
    } else {
      a.writing = false;  // the next answer's writer carries on
      return;
    }
  }
  if (finish) {
    Finish(end);
  } else {
    StartWrite(&out_);
  }
}

void LeaseBatch::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&answers_->mu);
    if (ok) {
      ++answers_->written;
    } else {
      answers_->broken = true;
    }
  }
  if (!ok) answers_->GiveBack(out_);  // it may not have reached the caller
  WriteNextOrFinish();
}

void LeaseBatch::OnCancel() {
  {
    absl::MutexLock lock(&answers_->mu);
    answers_->broken = true;
    if (answers_->writing || answers_->finishing) return;  // the writer ends the call
    answers_->writing = true;
  }
  WriteNextOrFinish();
}

void LeaseBatch::OnDone() {
  std::deque<proto::LeaseReply> unsent;
  {
    absl::MutexLock lock(&answers_->mu);
    answers_->finishing = true;  // answers from now on are given back
    unsent.swap(answers_->queued);
  }
  for (auto& reply : unsent) answers_->GiveBack(reply);
  delete this;
}

}  // namespace glint::raylet
