#include "dashboard/job_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/rpc.h"

namespace glint::dashboard {
namespace {
constexpr int64_t kGcsDeadlineMs = 5000;
}

bool JobEnded(proto::JobStatus s) {
  return s == proto::JOB_STOPPED || s == proto::JOB_SUCCEEDED || s == proto::JOB_FAILED;
}

JobStore::JobStore(const std::string& gcs_address) : kv_(MakeStub<proto::KvService>(gcs_address)) {}

absl::Status JobStore::Load() {
  proto::KvKeysRequest req;
  req.set_ns(kNamespace);
  proto::KvKeysReply keys;
  if (auto s = BlockingCall(client_.queue(), kv_, &proto::KvService::Stub::PrepareAsyncKeys, req, kGcsDeadlineMs,
                            &keys, /*wait_for_ready=*/true);
      !s.ok()) {
    return s;
  }
  for (const auto& key : keys.keys()) {
    proto::KvGetRequest get;
    get.set_ns(kNamespace);
    get.set_key(key);
    proto::KvGetReply value;
    if (auto s = BlockingCall(client_.queue(), kv_, &proto::KvService::Stub::PrepareAsyncGet, get, kGcsDeadlineMs,
                              &value);
        !s.ok()) {
      return s;
    }
    proto::JobSubmission job;
    if (!value.found() || !job.ParseFromString(value.value()) || job.submission_id() != key) {
      LOG(WARNING) << "the jobs store holds a record it cannot read under '" << key << "'; skipped";
      continue;
    }
    absl::MutexLock l(&mu_);
    jobs_[key] = std::move(job);
  }
  return absl::OkStatus();
}

absl::Status JobStore::Write(const proto::JobSubmission& job, bool overwrite, bool* added) {
  proto::KvPutRequest req;
  req.set_ns(kNamespace);
  req.set_key(job.submission_id());
  req.set_value(job.SerializeAsString());
  req.set_overwrite(overwrite);
  proto::KvPutReply reply;
  auto s = BlockingCall(client_.queue(), kv_, &proto::KvService::Stub::PrepareAsyncPut, req, kGcsDeadlineMs, &reply);
  if (added) *added = reply.added();
  return s;
}

absl::Status JobStore::Add(const proto::JobSubmission& job) {
  {
    absl::MutexLock l(&mu_);
    if (jobs_.count(job.submission_id())) {
      return absl::AlreadyExistsError(absl::StrCat("a job with the submission id '", job.submission_id(),
                                                   "' exists already"));
    }
  }
  bool added = false;
  if (auto s = Write(job, /*overwrite=*/false, &added); !s.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot record the job in the GCS: ", s.message()));
  }
  if (!added) {
    return absl::AlreadyExistsError(absl::StrCat("a job with the submission id '", job.submission_id(),
                                                 "' exists already"));
  }
  absl::MutexLock l(&mu_);
  jobs_[job.submission_id()] = job;
  return absl::OkStatus();
}

void JobStore::Update(const proto::JobSubmission& job) {
  absl::MutexLock l(&mu_);
  jobs_[job.submission_id()] = job;
  unwritten_.insert(job.submission_id());
}

void JobStore::Flush() {
  absl::MutexLock flushing(&flush_mu_);
  std::vector<proto::JobSubmission> pending;
  {
    absl::MutexLock l(&mu_);
    for (const auto& id : unwritten_) pending.push_back(jobs_[id]);
    unwritten_.clear();
  }
  for (const auto& job : pending) {
    if (auto s = Write(job, /*overwrite=*/true, nullptr); !s.ok()) {
      LOG(WARNING) << "cannot record job '" << job.submission_id() << "' in the GCS (tried again later): "
                   << s.message();
      absl::MutexLock l(&mu_);
      unwritten_.insert(job.submission_id());
    }
  }
}

std::vector<proto::JobSubmission> JobStore::Prune(size_t keep) {
  std::vector<proto::JobSubmission> gone;
  const auto all = List();
  for (const auto& job : all) {
    if (all.size() - gone.size() <= keep) break;
    if (!JobEnded(job.status())) continue;
    proto::KvDeleteRequest req;
    req.set_ns(kNamespace);
    req.set_key(job.submission_id());
    proto::KvDeleteReply reply;
    if (!BlockingCall(client_.queue(), kv_, &proto::KvService::Stub::PrepareAsyncDelete, req, kGcsDeadlineMs, &reply)
             .ok()) {
      break;
    }
    absl::MutexLock l(&mu_);
    jobs_.erase(job.submission_id());
    unwritten_.erase(job.submission_id());
    gone.push_back(job);
  }
  return gone;
}

std::optional<proto::JobSubmission> JobStore::Get(const std::string& id) {
  absl::MutexLock l(&mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second;
}

std::vector<proto::JobSubmission> JobStore::List() {
  std::vector<proto::JobSubmission> out;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [id, job] : jobs_) out.push_back(job);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.submitted_ms() < b.submitted_ms();
  });
  return out;
}

}  // namespace glint::dashboard
