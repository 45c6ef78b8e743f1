#include "raylet/lease_batch.h"

#include <deque>

#include "absl/synchronization/mutex.h"
#include "common/rpc.h"

namespace glint::raylet {

struct LeaseBatch::Method {
  RequestFn request;
  LeaseManager* leases;
  Arrive arrive;
};

struct LeaseBatch::Answers {
  Answers(LeaseManager* l, LeaseBatch* c) : leases(l), call(c) {}
  // A grant that will not reach the caller goes back to the pool.
  void GiveBack(const proto::LeaseReply& reply) {
    if (reply.has_worker()) leases->Return(reply.lease_id(), NowMs());
  }
  LeaseManager* const leases;
  // Valid while someone owns the writing, and until the call is over.
  LeaseBatch* const call;
  absl::Mutex mu;
  int count ABSL_GUARDED_BY(mu) = 0;  // the leases asked for, set as the call comes
  std::deque<proto::LeaseReply> queued ABSL_GUARDED_BY(mu);  // decided, not written yet
  int written ABSL_GUARDED_BY(mu) = 0;
  // Whoever sets it from false owns the writing: an operation on the
  // stream is out (or about to be), and no one else may start one.
  bool writing ABSL_GUARDED_BY(mu) = false;
  bool broken ABSL_GUARDED_BY(mu) = false;     // cancelled, or a write failed: nothing more goes out
  bool finishing ABSL_GUARDED_BY(mu) = false;  // Finish was called: nothing more is written
  // The call came, and its done tag: the call may go once no one writes.
  // (Both tags may be run at once by two pollers.)
  bool arrived ABSL_GUARDED_BY(mu) = false;
  bool over ABSL_GUARDED_BY(mu) = false;
  bool Ended() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return arrived && over && !writing; }
  int Count() ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    return count;
  }
};

void LeaseBatch::Serve(RequestFn request, LeaseManager* leases, Arrive arrive) {
  Listen(std::make_shared<const Method>(Method{std::move(request), leases, std::move(arrive)}));
}

void LeaseBatch::Listen(std::shared_ptr<const Method> m) {
  auto* c = new LeaseBatch(std::move(m));
  // The done tag comes once a call has started and is over, never for a
  // request that no call matched.
  c->ctx_.AsyncNotifyWhenDone(&c->done_tag_);
  c->method_->request(&c->ctx_, &c->req_, &c->writer_, c);
}

LeaseBatch::LeaseBatch(std::shared_ptr<const Method> m)
    : method_(std::move(m)), answers_(std::make_shared<Answers>(method_->leases, this)) {}

void LeaseBatch::Proceed(bool ok) {
  if (!ok) {  // the server shut down before a call came
    delete this;
    return;
  }
  Listen(method_);
  {
    absl::MutexLock lock(&answers_->mu);
    answers_->count = req_.count();
  }
  auto s = method_->arrive(req_, answers_);
  bool refuse = false, ended;
  {
    absl::MutexLock lock(&answers_->mu);
    answers_->arrived = true;
    if (!s.ok() && !answers_->broken) answers_->writing = answers_->finishing = refuse = true;
    ended = answers_->Ended();
  }
  if (refuse) {
    writer_.Finish(ToGrpc(s), &finish_tag_);
  } else if (ended) {  // cancelled before it was taken
    delete this;
  }
}

void LeaseBatch::Start(const std::shared_ptr<Answers>& a, const proto::LeaseRequest& req) {
  int n;
  {
    absl::MutexLock lock(&a->mu);
    if (a->finishing || a->broken) return;  // the caller went away meanwhile
    n = a->count;
  }
  for (int i = 0; i < n; ++i) {
    a->leases->Request(req, [a](const proto::LeaseReply& reply) { Answer(a, reply); });
  }
}

void LeaseBatch::Refuse(const std::shared_ptr<Answers>& a, const proto::LeaseReply& refusal) {
  for (int i = 0, n = a->Count(); i < n; ++i) Answer(a, refusal);
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
  enum { kWrite, kFinish, kLetGo } next;
  std::deque<proto::LeaseReply> unsent;
  bool ended = false;
  {
    absl::MutexLock lock(&a.mu);
    if (a.broken) {  // no Finish: the call is over, or about to be
      unsent.swap(a.queued);
      a.writing = false;
      ended = a.Ended();
      next = kLetGo;
    } else if (!a.queued.empty()) {
      out_ = std::move(a.queued.front());
      a.queued.pop_front();
      next = kWrite;
    } else if (a.written == a.count) {
      a.finishing = true;
      next = kFinish;
    } else {
      a.writing = false;  // the next answer's writer carries on
      next = kLetGo;
    }
  }
  for (auto& reply : unsent) a.GiveBack(reply);
  switch (next) {
    case kWrite: writer_.Write(out_, &write_tag_); return;
    case kFinish: writer_.Finish(grpc::Status::OK, &finish_tag_); return;
    case kLetGo:
      if (ended) delete this;
      return;
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

void LeaseBatch::OnFinishDone(bool) {
  bool ended;
  {
    absl::MutexLock lock(&answers_->mu);
    answers_->writing = false;
    ended = answers_->Ended();
  }
  if (ended) delete this;
}

void LeaseBatch::OnDone(bool) {
  bool claim = false, ended = false;
  {
    absl::MutexLock lock(&answers_->mu);
    answers_->over = true;
    if (ctx_.IsCancelled()) answers_->broken = true;  // answers from now on are given back
    if (!answers_->writing && answers_->broken && !answers_->finishing && answers_->arrived) {
      answers_->writing = claim = true;  // to give back what is queued
    }
    ended = answers_->Ended();
  }
  if (claim) {
    WriteNextOrFinish();
  } else if (ended) {
    delete this;
  }
}

}  // namespace glint::raylet
