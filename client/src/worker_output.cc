#include "client/src/worker_output.h"

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/process.h"
#include "common/server_call.h"

namespace glint::internal {
namespace {

std::string DroppedNote(int64_t lines, const char* where) {
  return absl::StrCat("(glint) ", lines, " lines the job's workers printed were dropped ", where,
                      "; the workers' log files have them (glint logs)\n");
}

}  // namespace

std::string WorkerOutput::Format(const proto::PushLogsRequest& batch) {
  std::string text;
  for (auto& w : batch.workers()) {
    std::string prefix = absl::StrCat("(", w.label().empty() ? "worker" : w.label(), " pid=", w.pid(),
                                      " node=", ShortHex(w.node_id()), ") ");
    for (auto& line : w.lines()) absl::StrAppend(&text, prefix, line, "\n");
  }
  if (batch.dropped_lines() > 0) {
    text += DroppedNote(batch.dropped_lines(), "on their node (this driver took them too slowly)");
  }
  return text;
}

void WorkerOutput::Serve(proto::WorkerService::AsyncService* svc, grpc::ServerCompletionQueue* cq,
                         bool is_driver) {
  using Call = ServerCall<proto::PushLogsRequest, proto::PushLogsReply>;
  Call::Serve(svc, cq, &proto::WorkerService::AsyncService::RequestPushLogs, [this, is_driver](Call* call) {
    if (!is_driver) return call->Finish(absl::FailedPreconditionError("this process is a worker; only drivers print their workers' output"));
    Take(call->req);
    call->Finish(absl::OkStatus());
  });
}

void WorkerOutput::Take(const proto::PushLogsRequest& batch) {
  std::string text = Format(batch);
  if (text.empty()) return;
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  last_batch_ = absl::Now();
  if (pending_bytes_ + static_cast<int64_t>(text.size()) > kMaxPendingBytes) {
    for (auto& w : batch.workers()) dropped_lines_ += w.lines_size();
    return;
  }
  pending_bytes_ += text.size();
  pending_.push_back(std::move(text));
  if (!thread_.joinable()) thread_ = std::thread([this] { PrintLoop(); });
}

void WorkerOutput::PrintLoop() {
  SetThreadName("glint-output");
  for (;;) {
    std::string text;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WorkerOutput* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->stopping_ || !self->pending_.empty();
          },
          this));
      if (pending_.empty()) return;  // stopping, all printed
      text = std::move(pending_.front());
      pending_.pop_front();
      pending_bytes_ -= text.size();
      if (dropped_lines_ > 0) {
        text += DroppedNote(dropped_lines_, "in this driver (its stderr took them too slowly)");
        dropped_lines_ = 0;
      }
    }
    fwrite(text.data(), 1, text.size(), out_);
    fflush(out_);
  }
}

void WorkerOutput::AwaitQuiet(absl::Duration quiet, absl::Duration max) {
  absl::Time give_up = absl::Now() + max;
  absl::MutexLock lock(&mu_);
  last_batch_ = std::max(last_batch_, absl::Now());  // counted from now at the earliest
  while (absl::Now() < give_up && absl::Now() - last_batch_ < quiet) {
    mu_.AwaitWithDeadline(absl::Condition(&stopping_), std::min(give_up, last_batch_ + quiet));
  }
}

void WorkerOutput::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace glint::internal
