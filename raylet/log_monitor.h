// LogMonitor: follows the output files of a node's workers (their stdout and
// stderr, common/output_label.h for the label lines in them) and sends the
// new lines to each job's driver (PushLogs, proto/logs.proto), in order, one
// batch per job in flight. Poll() reads what the files gained since the
// last poll; the raylet calls it every kPollMs.
//
// Bounded: at most kReadBytesPerPoll per file per poll (a chatty worker is
// read over several polls, its file keeps everything), lines cut at
// kMaxLineBytes, and at most kMaxPendingBytes waiting per job: a driver too
// slow or gone loses lines past that (counted and reported to it with the
// next batch), never the raylet's memory. A job whose driver asked for no
// output (JobInfo.log_to_driver false) is read and not sent. Thread-safe.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "proto/common.pb.h"
#include "proto/logs.pb.h"

namespace glint::raylet {

class LogMonitor {
 public:
  static constexpr int64_t kPollMs = 50;
  static constexpr int64_t kReadBytesPerPoll = 256 << 10;
  static constexpr int64_t kMaxLineBytes = 64 << 10;
  static constexpr int64_t kMaxPendingBytes = 4 << 20;
  // Sends a batch to a driver; `done(ok)` once it was taken or failed.
  using Sender =
      std::function<void(const proto::Address& driver, proto::PushLogsRequest batch, std::function<void(bool)> done)>;

  LogMonitor(std::string node_id, Sender send) : node_id_(std::move(node_id)), send_(std::move(send)) {}
  ~LogMonitor();
  // Follows `path`, written by worker `pid` of `job`, from its start.
  void Watch(const std::string& worker_id, pid_t pid, const proto::JobInfo& job, const std::string& path);
  // The worker is gone: its file is read to the end, then let go.
  void Exited(const std::string& worker_id);
  void Poll();
  // Files followed now.
  size_t watched();

 private:
  struct File {
    std::string job_id;
    pid_t pid = 0;
    int fd = -1;
    int64_t offset = 0;
    std::string partial;  // an unfinished last line
    std::string label;    // what the worker runs (its last label line)
    bool exited = false;
  };
  struct Job {
    proto::Address driver;
    bool to_driver = false;
    proto::PushLogsRequest batch;
    int64_t bytes = 0;
    int64_t dropped = 0;
    bool in_flight = false;
  };
  // Reads what `f` gained; returns false once it is read to the end after
  // its worker exited.
  bool ReadFile(File* f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddLine(const File& f, std::string line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  struct Outgoing {
    std::string job_id;
    proto::Address driver;
    proto::PushLogsRequest batch;
  };
  // Takes the batches to send now (one per job not waiting for its last),
  // and forgets jobs with nothing left.
  std::vector<Outgoing> TakeBatches() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string node_id_;
  const Sender send_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, File> files_ ABSL_GUARDED_BY(mu_);  // by worker id
  absl::flat_hash_map<std::string, Job> jobs_ ABSL_GUARDED_BY(mu_);    // by job id
};

}  // namespace glint::raylet
