#include "client/src/execute/call_transport.h"

#include "client/src/errors.h"
#include "client/src/execute/lease_ledger.h"
#include "common/rpc.h"

namespace glint::internal {
namespace {
constexpr int kAcceptSlots = 16;  // PushTask requests the server may hand us before we ask again
}  // namespace

// One caller's PushTasks stream. Its calls are admitted like PushTask
// requests; their replies queue here and go out many to a message, one
// message in flight at a time.
class PushStream {
 public:
  explicit PushStream(CallTransport* t) : t_(t) {}
  void Listen() {
    ops_ = 1;
    t_->service_->RequestPushTasks(&ctx_, &rw_, t_->cq_, t_->cq_, &accept_tag_);
  }
  // Queues the reply to one of this stream's calls, and deletes the call.
  void Reply(IncomingCall* call) {
    bool done;
    {
      absl::MutexLock lock(&mu_);
      call->reply.set_task_id(call->req.task().task_id());
      queued_.add_replies()->Swap(&call->reply);
      // A reply that waits is counted (a lone one goes out at once, uncounted).
      if (queued_.replies_size() > 1 || writing_) {
        queued_bytes_ += static_cast<int64_t>(queued_.replies(queued_.replies_size() - 1).ByteSizeLong());
      }
      --calls_;
      WriteLocked();
      done = Settle();
    }
    delete call;
    if (done) Delete();
  }
  // Queues one generator item for `call`, which stays open.
  bool SendItem(IncomingCall* call, proto::PushTaskReply& item) {
    absl::MutexLock lock(&mu_);
    if (broken_ || finishing_) return false;
    item.set_task_id(call->req.task().task_id());
    queued_.add_replies()->Swap(&item);
    if (queued_.replies_size() > 1 || writing_) {
      queued_bytes_ += static_cast<int64_t>(queued_.replies(queued_.replies_size() - 1).ByteSizeLong());
    }
    WriteLocked();
    return true;
  }
  // The actor is exiting: end the stream once its calls are answered.
  void Wind() {
    absl::MutexLock lock(&mu_);
    Settle();  // never done here: a Finish starts
  }

 private:
  void OnAccept(bool ok) {
    if (!ok) {  // the server is shutting down
      delete this;
      return;
    }
    t_->AcceptStream();
    {
      absl::MutexLock lock(&t_->mu_);
      t_->streams_.insert(this);
    }
    const auto& metadata = ctx_.client_metadata();
    if (auto it = metadata.find(kLeaseIdMetadataKey); it != metadata.end() && it->second.size() <= LeaseLedger::kMaxLeaseIdBytes) {
      lease_id_.assign(it->second.data(), it->second.size());
    }
    if (!lease_id_.empty() && t_->hooks_.lease_opened && !t_->hooks_.lease_opened(lease_id_)) {
      bool done;
      {
        absl::MutexLock lock(&mu_);
        revoked_ = true;
        --ops_;  // the accept's; nothing is read
        done = Settle();
      }
      if (done) Delete();
      return;
    }
    absl::MutexLock lock(&mu_);
    reading_ = true;
    rw_.Read(&in_, &read_tag_);
  }
  void OnRead(bool ok) {
    std::vector<IncomingCall*> calls;
    google::protobuf::RepeatedPtrField<proto::GeneratorAck> acks;
    google::protobuf::RepeatedPtrField<proto::CancelRequest> cancels;
    bool got = false;   // a batch of calls
    bool busy = false;  // at the end: calls of this stream still to answer
    {
      absl::MutexLock lock(&mu_);
      got = ok && grpc::SerializationTraits<proto::PushTaskBatch>::Deserialize(&in_, &batch_).ok();
      if (!got) {  // the caller closed the stream, it broke, or the message is garbage
        // The read stays counted in ops_ until the hook below has run, so
        // no other thread's end of the Finish deletes the stream meanwhile.
        reading_ = false;
        malformed_ = ok;
        busy = calls_ > 0;
      } else {
        calls.reserve(batch_.tasks_size());
        for (auto& t : *batch_.mutable_tasks()) {
          auto* c = new IncomingCall(t_);
          c->stream = this;
          c->req.mutable_task()->Swap(&t);
          calls.push_back(c);
        }
        calls_ += static_cast<int>(calls.size());
        acks.Swap(batch_.mutable_acks());
        cancels.Swap(batch_.mutable_cancels());
        batch_.Clear();
        rw_.Read(&in_, &read_tag_);
      }
    }
    if (!got) {
      t_->hooks_.stream_ended(this);  // its generators stop (their calls keep it alive)
      if (!lease_id_.empty() && t_->hooks_.lease_ended) t_->hooks_.lease_ended(lease_id_, busy);
      bool done;
      {
        absl::MutexLock lock(&mu_);
        --ops_;
        done = Settle();
      }
      if (done) Delete();
      return;
    }
    std::vector<IncomingCall*> good;
    good.reserve(calls.size());
    for (auto* c : calls) {
      if (!t_->Refuse(c)) good.push_back(c);
    }
    if (!good.empty()) t_->arrived_(good);
    for (auto& a : acks) t_->hooks_.acked(this, a);
    for (auto& c : cancels) t_->hooks_.cancelled(c);
  }
  void OnWrite(bool ok) {
    bool done;
    {
      absl::MutexLock lock(&mu_);
      --ops_;
      writing_ = false;
      if (!ok) broken_ = true;
      WriteLocked();
      done = Settle();
    }
    if (done) Delete();
  }
  void OnFinish(bool) {
    bool done;
    {
      absl::MutexLock lock(&mu_);
      --ops_;
      done = Settle();
    }
    if (done) Delete();
  }
  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || queued_.replies_size() == 0) return;
    if (broken_ || finishing_) {  // nobody to read them
      queued_.Clear();
      queued_bytes_ = 0;
      return;
    }
    writing_ = true;
    ++ops_;
    grpc::ByteBuffer bytes;
    bool own = false;
    if (queued_bytes_ <= kBatchBytes) {
      (void)grpc::SerializationTraits<proto::PushTaskReplyBatch>::Serialize(queued_, &bytes, &own);
      queued_.Clear();
      queued_bytes_ = 0;
    } else {  // too much for one message: the first kBatchBytes' worth now, the rest next
      int n = 0;
      int64_t taken = 0;
      while (n < queued_.replies_size() && (n == 0 || taken < kBatchBytes)) {
        taken += static_cast<int64_t>(queued_.replies(n++).ByteSizeLong());
      }
      proto::PushTaskReplyBatch part;
      part.mutable_replies()->Reserve(n);
      for (int i = 0; i < n; ++i) part.add_replies()->Swap(queued_.mutable_replies(i));
      queued_.mutable_replies()->DeleteSubrange(0, n);
      queued_bytes_ -= taken;
      (void)grpc::SerializationTraits<proto::PushTaskReplyBatch>::Serialize(part, &bytes, &own);
    }
    rw_.Write(bytes, &write_tag_);  // takes its own reference to the bytes
  }
  // Starts the Finish once nothing is left to answer; true once the stream
  // is over and nothing refers to it any more.
  bool Settle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!finishing_ && calls_ == 0 && !writing_ && (!reading_ || broken_ || t_->exiting_)) {
      finishing_ = true;
      ++ops_;
      absl::Status end = malformed_ ? absl::InvalidArgumentError("a PushTasks message that is not a PushTaskBatch")
                         : revoked_   ? absl::FailedPreconditionError(
                                          "this worker's lease went unused for long and was given back to its raylet")
                                      : absl::OkStatus();
      rw_.Finish(ToGrpc(end), &finish_tag_);
    }
    return finishing_ && ops_ == 0 && calls_ == 0;
  }
  void Delete() {
    {
      absl::MutexLock lock(&t_->mu_);
      t_->streams_.erase(this);
    }
    delete this;
  }

  CallTransport* const t_;
  grpc::ServerContext ctx_;
  grpc::ServerAsyncReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer> rw_{&ctx_};
  MemberTag<PushStream> accept_tag_{this, &PushStream::OnAccept};
  MemberTag<PushStream> read_tag_{this, &PushStream::OnRead};
  MemberTag<PushStream> write_tag_{this, &PushStream::OnWrite};
  MemberTag<PushStream> finish_tag_{this, &PushStream::OnFinish};
  std::string lease_id_;        // the lease this stream serves (kLeaseIdMetadataKey), if any
  grpc::ByteBuffer in_;         // the message being read
  proto::PushTaskBatch batch_;  // ... parsed
  absl::Mutex mu_;
  proto::PushTaskReplyBatch queued_ ABSL_GUARDED_BY(mu_);  // replies not written yet
  int64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;          // their size (when more than one waits)
  int ops_ ABSL_GUARDED_BY(mu_) = 0;                       // events outstanding
  int calls_ ABSL_GUARDED_BY(mu_) = 0;                     // admitted, not answered
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool malformed_ ABSL_GUARDED_BY(mu_) = false;  // a message did not parse
  bool revoked_ ABSL_GUARDED_BY(mu_) = false;    // it names a lease revoked before it came
};

void IncomingCall::Proceed(bool ok) {
  if (state != kWaiting || !ok) {  // the reply is out, or shutting down
    delete this;
    return;
  }
  transport->OnUnary(this);
}

void CallTransport::Start() {
  for (int i = 0; i < kAcceptSlots; ++i) Accept();
  AcceptStream();
}

void CallTransport::Accept() {
  auto* c = new IncomingCall(this);
  service_->RequestPushTask(&c->ctx, &c->req, &c->responder, cq_, cq_, c);
}

void CallTransport::AcceptStream() { (new PushStream(this))->Listen(); }

void CallTransport::OnUnary(IncomingCall* call) {
  Accept();
  if (Refuse(call)) return;
  std::vector<IncomingCall*> one{call};
  arrived_(one);
}

bool CallTransport::Refuse(IncomingCall* call) {
  const auto& t = call->task();
  const char* why = t.task_id().empty() || t.function_name().empty() ? "a task needs an id and a function name"
                    : t.streaming() && !call->stream ? "a generator's items need a PushTasks stream"
                                                     : nullptr;
  if (!why) return false;
  *call->reply.mutable_result() = ErrorValue(proto::SYSTEM_ERROR, why);
  if (call->stream) {
    call->stream->Reply(call);
  } else {
    call->state = IncomingCall::kReplying;
    call->responder.FinishWithError(ToGrpc(absl::InvalidArgumentError(why)), call);
  }
  return true;
}

void CallTransport::Reply(IncomingCall* call) {
  if (call->stream) {
    call->stream->Reply(call);
    return;
  }
  call->state = IncomingCall::kReplying;
  call->responder.Finish(call->reply, grpc::Status::OK, call);
}

bool CallTransport::SendItem(IncomingCall* call, proto::PushTaskReply& item) {
  return call->stream && call->stream->SendItem(call, item);
}

void CallTransport::Wind() {
  exiting_ = true;
  absl::MutexLock lock(&mu_);
  for (auto* s : streams_) s->Wind();
}

}  // namespace glint::internal
