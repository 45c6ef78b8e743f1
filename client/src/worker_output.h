// WorkerOutput: a driver's end of its workers' output. The raylets send the
// lines the job's workers print (PushLogs, proto/logs.proto); they are
// printed to this process's stderr, each prefixed with where it came from:
//   (Counter pid=1234 node=7f81c2d0) hello
// by a thread of their own, so a slow stderr never holds up the process's
// RPCs; what arrives while more than kMaxPendingBytes wait is dropped and
// counted (the workers' log files keep everything). A worker answers
// PushLogs with a refusal: only drivers print. Served from the process's
// completion queue.
#pragma once
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <deque>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/logs.pb.h"
#include "proto/worker.grpc.pb.h"

namespace glint::internal {

class WorkerOutput {
 public:
  static constexpr int64_t kMaxPendingBytes = 8 << 20;
  // Prints to `out` (stderr in a driver).
  explicit WorkerOutput(FILE* out) : out_(out) {}
  ~WorkerOutput() { Stop(); }
  // Starts serving PushLogs on `svc` (outliving the server's queue); a
  // driver prints, a worker (`is_driver` false) refuses.
  void Serve(proto::WorkerService::AsyncService* svc, grpc::ServerCompletionQueue* cq, bool is_driver);
  // Returns once nothing came in for `quiet`, counted from now at the
  // earliest (or after `max`): lets the
  // last lines of work that just finished arrive before the driver exits.
  void AwaitQuiet(absl::Duration quiet, absl::Duration max);
  // Prints what waits, then stops the printing thread.
  void Stop();

  // The text printed for one batch (exposed for tests).
  static std::string Format(const proto::PushLogsRequest& batch);

 private:
  void Take(const proto::PushLogsRequest& batch);
  void PrintLoop();

  FILE* const out_;
  absl::Mutex mu_;
  std::deque<std::string> pending_ ABSL_GUARDED_BY(mu_);
  int64_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_lines_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_batch_ ABSL_GUARDED_BY(mu_) = absl::Now();
  std::thread thread_;  // started with the first batch
};

}  // namespace glint::internal
