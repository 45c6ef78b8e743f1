#include "gcs/job_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/logging.h"

namespace glint::gcs {

absl::StatusOr<proto::JobInfo> JobManager::Register(proto::JobInfo job, int64_t now_ms) {
  {
    absl::MutexLock lock(&mu_);
    if (unproven_.size() >= kMaxUnprovenJobs) {
      return absl::ResourceExhaustedError(absl::StrCat(
          kMaxUnprovenJobs, " jobs wait for their drivers' keep-alive calls; no more may register until they do"));
    }
  }
  job.set_job_id(RandomId());
  if (job.ray_namespace().empty()) job.set_ray_namespace("anonymous-" + IdHex(job.job_id()));
  job.set_finished(false);
  job.set_start_time_ms(now_ms);
  store_->Put("jobs", job.job_id(), job.SerializeAsString());
  LOG(INFO) << "job " << ShortHex(job.job_id()) << " started (driver pid " << job.driver_pid()
            << ", namespace " << job.ray_namespace() << ")";
  absl::MutexLock lock(&mu_);
  jobs_[job.job_id()] = job;
  unproven_[job.job_id()] = now_ms;
  return job;
}

void JobManager::MarkDriverAlive(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  unproven_.erase(job_id);
}

void JobManager::FinishUnproven(int64_t now_ms, int64_t grace_ms) {
  std::vector<std::string> expired;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, since] : unproven_) {
      if (now_ms - since > grace_ms) expired.push_back(id);
    }
    for (auto& id : expired) unproven_.erase(id);
  }
  for (auto& id : expired) {
    LOG(INFO) << "job " << ShortHex(id) << ": its driver never kept it alive; finishing it";
    Finish(id, now_ms);
  }
}

bool JobManager::Finish(const std::string& job_id, int64_t now_ms) {
  proto::JobInfo finished;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return false;
    unproven_.erase(job_id);
    if (it->second.finished()) return true;
    it->second.set_finished(true);
    it->second.set_end_time_ms(now_ms);
    finished = it->second;
    finished_.push_back(job_id);
  }
  store_->Put("jobs", job_id, finished.SerializeAsString());
  LOG(INFO) << "job " << ShortHex(job_id) << " finished";
  for (auto& l : listeners_) l(finished);
  return true;
}

std::optional<proto::JobInfo> JobManager::Get(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second;
}

bool JobManager::TooManyFinished() {
  absl::MutexLock lock(&mu_);
  return finished_.size() > kMaxFinishedJobs;
}

void JobManager::ForgetOldFinished(const absl::flat_hash_set<std::string>& keep) {
  absl::MutexLock lock(&mu_);
  // Kept jobs go to the back; each is looked at once per call.
  for (size_t looked = 0, n = finished_.size(); finished_.size() > kMaxFinishedJobs && looked < n; ++looked) {
    std::string id = std::move(finished_.front());
    finished_.pop_front();
    if (keep.contains(id)) {
      finished_.push_back(std::move(id));
      continue;
    }
    jobs_.erase(id);
    store_->Delete("jobs", id);
  }
}

std::vector<proto::JobInfo> JobManager::All() {
  absl::MutexLock lock(&mu_);
  std::vector<proto::JobInfo> out;
  for (auto& [id, j] : jobs_) out.push_back(j);
  return out;
}

std::vector<proto::JobInfo> JobManager::Recover(int64_t now_ms) {
  std::vector<proto::JobInfo> running, finished;
  for (auto& job : ReadRecords(*store_, "jobs", &proto::JobInfo::job_id, "job")) {
    (job.finished() ? finished : running).push_back(std::move(job));
  }
  std::sort(finished.begin(), finished.end(),
            [](const proto::JobInfo& a, const proto::JobInfo& b) { return a.end_time_ms() < b.end_time_ms(); });
  absl::MutexLock lock(&mu_);
  for (auto& job : finished) {
    finished_.push_back(job.job_id());
    jobs_[job.job_id()] = std::move(job);
  }
  for (auto& job : running) {
    unproven_[job.job_id()] = now_ms;
    jobs_[job.job_id()] = job;
  }
  if (!jobs_.empty()) {
    LOG(INFO) << "read back " << jobs_.size() << " jobs (" << running.size() << " running) from the store";
  }
  return running;
}

}  // namespace glint::gcs
