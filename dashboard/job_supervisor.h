// JobSupervisor: runs submitted jobs on the head. Each job's entrypoint is a
// shell command (/bin/sh -c) started in a process group of its own, in its
// working directory, with GLINT_ADDRESS (and the cluster's credentials) in
// its environment, so the drivers it runs join this cluster; its stdout and
// stderr go to <logs>/job-driver-<submission id>.log.
//
// A job is PENDING until its entrypoint starts (at once, or once the CPUs it
// asked for are reserved on the head: dashboard/entrypoint_reservation.h),
// RUNNING while it runs, then SUCCEEDED (exit 0), FAILED (any other end, or
// it could not start), or STOPPED (Stop: SIGTERM to its process group,
// SIGKILL after a grace; or the dashboard stopping with the cluster). Jobs a
// supervisor that died left PENDING or RUNNING are FAILED when the next one
// loads them, and their reservations removed.
#pragma once
#include <sys/types.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "dashboard/entrypoint_reservation.h"
#include "dashboard/job_store.h"
#include "dashboard/package_store.h"
#include "proto/jobs.pb.h"

namespace glint::dashboard {

struct JobSupervisorOptions {
  std::string gcs_address;
  std::string logs_dir;                     // job-driver-<id>.log go here
  std::string jobs_dir;                     // a job without a working dir runs in <jobs_dir>/<id>
  PackageStore* packages = nullptr;         // uploaded working dirs, unpacked in <jobs_dir>/<id>-<random>
  size_t kept_copies = 16;                  // of those, the newest ended jobs' copies kept
  std::map<std::string, std::string> env;  // added to every entrypoint's (credentials)
  int stop_grace_ms = 3000;                 // SIGTERM, then SIGKILL this much later
  size_t max_records = 1000;                // older finished jobs are forgotten
  size_t max_running = 64;
};

// A piece of a job's log.
struct LogChunk {
  std::string text;
  int64_t next_offset = 0;  // where the next piece starts
};

class JobSupervisor {
 public:
  JobSupervisor(JobSupervisorOptions options, JobStore* store);
  ~JobSupervisor();

  // Loads the records (failing what a dead supervisor left running) and
  // starts watching.
  absl::Status Start();
  // Stops every running job (STOPPED) and the watcher.
  void Shutdown();

  // Starts a job from `request` (entrypoint, and optionally submission_id,
  // metadata, working_dir, entrypoint_num_cpus); its record, RUNNING (or
  // PENDING while its CPUs are not free yet), or an error: InvalidArgument
  // (a bad field, or more CPUs than the head has), AlreadyExists (the id is
  // taken), ResourceExhausted (too many running), Unavailable (the GCS).
  absl::StatusOr<proto::JobSubmission> Submit(proto::JobSubmission request);
  // Asks a running job to stop; its record (NotFound for an unknown id).
  // A job that has ended is left as it is.
  absl::StatusOr<proto::JobSubmission> Stop(const std::string& id);
  absl::StatusOr<proto::JobSubmission> Get(const std::string& id);
  std::vector<proto::JobSubmission> List() { return store_->List(); }
  // Up to `max_bytes` of a job's log from `offset`.
  absl::StatusOr<LogChunk> Logs(const std::string& id, int64_t offset, int64_t max_bytes);

 private:
  // A job that is PENDING or RUNNING.
  struct Running {
    pid_t pid = 0;             // 0: its entrypoint has not started
    std::string reservation;   // its CPUs' placement group ("": none)
    bool stop_requested = false;
    std::string stopped_by;    // why it is stopped, in words
    std::string failed_by;     // why it failed before starting
    std::chrono::steady_clock::time_point kill_at;
  };
  struct Ended {
    std::string id;
    bool started;
    int wait_status;
    std::string stopped_by, failed_by;
  };
  void Watch();
  // Starts the entrypoint of `job` (under mu_); records RUNNING or FAILED.
  // False: it could not start (the caller forgets it).
  bool Launch(proto::JobSubmission& job, Running* r);
  // Starts the pending jobs whose CPUs are now reserved; says what the
  // others wait for.
  void StartReserved();
  // Reaps the entrypoints that exited (and pending jobs stopped or failed);
  // SIGKILLs those past their grace.
  void ReapOnce();
  void Finish(const Ended& e);
  // Whether `job`'s working directory is a copy Submit unpacked for it
  // (<jobs_dir>/<id>-<random>, with a package), whatever a record from the
  // GCS's store may say: only those are ever removed.
  bool OwnCopy(const proto::JobSubmission& job) const;
  // Removes the copies of ended jobs but the newest `kept_copies` (by end).
  void TrimCopies();
  // Returns reservations, keeping those the GCS could not take back yet.
  void Release(std::vector<std::string> reservations);
  // Asks a job to stop (under mu_).
  void RequestStop(Running* r, const std::string& why);

  const JobSupervisorOptions options_;
  JobStore* const store_;
  EntrypointReservations reservations_;
  std::vector<std::string> unreleased_;  // reservations to remove again; guarded by mu_
  std::mutex mu_;
  std::condition_variable wake_;
  std::map<std::string, Running> running_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::thread watcher_;
};

// What a job id may be: 1 to 64 of [A-Za-z0-9_-] (it names a file).
bool ValidSubmissionId(const std::string& id);

}  // namespace glint::dashboard
