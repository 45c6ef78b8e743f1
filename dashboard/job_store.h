// JobStore: the submitted jobs' records. Kept in memory (the API reads them
// there) and written through to the GCS's key-value store (namespace
// "jobs"), which keeps them with the cluster's other tables. A write the GCS
// could not take (it restarts) stays pending and is tried again by Flush, so
// a status change is never lost while the dashboard runs.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/async_call.h"
#include "proto/gcs.grpc.pb.h"
#include "proto/jobs.pb.h"

namespace glint::dashboard {

class JobStore {
 public:
  static constexpr char kNamespace[] = "jobs";

  explicit JobStore(const std::string& gcs_address);

  // Reads every record the GCS keeps (once, before the rest).
  absl::Status Load();
  // Adds a new record, in the GCS first: AlreadyExists when its id is
  // taken, Unavailable when the GCS cannot be reached (then nothing changed).
  absl::Status Add(const proto::JobSubmission& job);
  // Replaces a record in memory; Flush writes it to the GCS.
  void Update(const proto::JobSubmission& job);
  // Writes the records updated since (each as it is now; one Flush at a
  // time, so a later state is never overwritten by an earlier one); what
  // the GCS could not take stays for the next Flush.
  void Flush();
  // Forgets the oldest finished records beyond `keep` (their ids returned).
  std::vector<proto::JobSubmission> Prune(size_t keep);

  std::optional<proto::JobSubmission> Get(const std::string& id);
  // Every record, oldest submission first.
  std::vector<proto::JobSubmission> List();

 private:
  absl::Status Write(const proto::JobSubmission& job, bool overwrite, bool* added);

  std::unique_ptr<proto::KvService::Stub> kv_;
  ClientQueueThread client_;
  absl::Mutex flush_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::Mutex mu_;
  std::map<std::string, proto::JobSubmission> jobs_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> unwritten_ ABSL_GUARDED_BY(mu_);
};

// Whether a job has ended (STOPPED, SUCCEEDED or FAILED).
bool JobEnded(proto::JobStatus s);

}  // namespace glint::dashboard
