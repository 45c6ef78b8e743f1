#include "dashboard/job_supervisor.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "common/logging.h"
#include "common/process.h"
#include "common/rpc.h"
#include "common/utf8.h"

namespace glint::dashboard {
namespace {

constexpr size_t kMaxEntrypointBytes = 64 * 1024;
constexpr size_t kMaxMetadataEntries = 64;
constexpr auto kWatchPeriod = std::chrono::milliseconds(50);
constexpr auto kFlushPeriod = std::chrono::seconds(1);

// What a wait status says, in words, with the exit code it gives (-1: a signal).
std::string Ending(int status, int* exit_code) {
  if (WIFEXITED(status)) {
    *exit_code = WEXITSTATUS(status);
    return absl::StrCat("exited with code ", *exit_code);
  }
  *exit_code = -1;
  if (WIFSIGNALED(status)) {
    return absl::StrCat("was killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)), ")");
  }
  return "ended";
}

}  // namespace

bool ValidSubmissionId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

JobSupervisor::JobSupervisor(JobSupervisorOptions options, JobStore* store)
    : options_(std::move(options)), store_(store) {}

JobSupervisor::~JobSupervisor() { Shutdown(); }

absl::Status JobSupervisor::Start() {
  std::error_code ec;
  for (const auto& dir : {options_.logs_dir, options_.jobs_dir}) {
    if (!std::filesystem::create_directories(dir, ec) && ec) {
      return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
    }
  }
  if (auto s = store_->Load(); !s.ok()) return s;
  for (auto job : store_->List()) {
    if (JobEnded(job.status())) continue;
    job.set_status(proto::JOB_FAILED);
    job.set_message("its job supervisor exited while it ran (the head's dashboard restarted)");
    job.set_end_ms(NowMs());
    store_->Update(job);
  }
  store_->Flush();
  watcher_ = std::thread([this] {
    SetThreadName("glint-jobs");
    Watch();
  });
  return absl::OkStatus();
}

void JobSupervisor::Shutdown() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_ || !watcher_.joinable()) return;
    for (auto& [id, r] : running_) RequestStop(&r, "the cluster stopped");
  }
  // The watcher reaps them (SIGKILL past the grace); bounded by the grace.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.stop_grace_ms + 2000);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (running_.empty()) break;
    }
    std::this_thread::sleep_for(kWatchPeriod);
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  watcher_.join();
}

absl::StatusOr<proto::JobSubmission> JobSupervisor::Submit(proto::JobSubmission request) {
  proto::JobSubmission job;
  if (request.entrypoint().empty()) return absl::InvalidArgumentError("a job needs an entrypoint (a command)");
  if (request.entrypoint().size() > kMaxEntrypointBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the entrypoint is longer than ", kMaxEntrypointBytes, " bytes"));
  }
  if (request.entrypoint().find('\0') != std::string::npos || !IsUtf8(request.entrypoint())) {
    return absl::InvalidArgumentError("the entrypoint must be UTF-8 text without NUL bytes");
  }
  job.set_entrypoint(request.entrypoint());
  job.set_submission_id(request.submission_id().empty() ? absl::StrCat("glint_job_", NewAuthToken().substr(0, 16))
                                                        : request.submission_id());
  if (!ValidSubmissionId(job.submission_id())) {
    return absl::InvalidArgumentError(absl::StrCat("'", job.submission_id(),
                                                   "' is not a submission id: 1 to 64 letters, digits, _ or -"));
  }
  if (request.metadata_size() > static_cast<int>(kMaxMetadataEntries)) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxMetadataEntries, " metadata entries"));
  }
  *job.mutable_metadata() = request.metadata();
  std::error_code ec;
  if (!request.working_dir().empty()) {
    if (request.working_dir()[0] != '/' || !std::filesystem::is_directory(request.working_dir(), ec)) {
      return absl::InvalidArgumentError(absl::StrCat("the working directory '", request.working_dir(),
                                                     "' is not a directory on the head node (give an absolute "
                                                     "path there)"));
    }
    job.set_working_dir(request.working_dir());
  } else {
    job.set_working_dir(absl::StrCat(options_.jobs_dir, "/", job.submission_id()));
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return absl::UnavailableError("the dashboard is stopping");
    if (running_.size() >= options_.max_running) {
      return absl::ResourceExhaustedError(absl::StrCat(options_.max_running, " jobs run already; stop one first"));
    }
  }
  job.set_status(proto::JOB_PENDING);
  job.set_submitted_ms(NowMs());
  job.set_log_file(absl::StrCat(options_.logs_dir, "/job-driver-", job.submission_id(), ".log"));
  if (auto s = store_->Add(job); !s.ok()) return s;
  for (const auto& old : store_->Prune(options_.max_records)) {
    std::filesystem::remove(old.log_file(), ec);
  }

  std::filesystem::create_directories(job.working_dir(), ec);
  std::ofstream(job.log_file(), std::ios::trunc).close();  // a new job's log starts empty, even on a reused id
  auto env = options_.env;
  env["GLINT_ADDRESS"] = options_.gcs_address;
  env["GLINT_JOB_SUBMISSION_ID"] = job.submission_id();
  {
    // The record says RUNNING before the watcher can see the entrypoint end.
    std::lock_guard<std::mutex> l(mu_);
    auto pid = SpawnProcess({"/bin/sh", "-c", job.entrypoint()}, env, job.log_file(), /*new_group=*/true,
                            job.working_dir());
    if (pid.ok()) {
      job.set_status(proto::JOB_RUNNING);
      job.set_driver_pid(*pid);
      job.set_start_ms(NowMs());
      job.set_message("the entrypoint runs");
      running_[job.submission_id()].pid = *pid;
      LOG(INFO) << "job '" << job.submission_id() << "' runs (pid " << *pid << "): " << job.entrypoint();
    } else {
      job.set_status(proto::JOB_FAILED);
      job.set_message(absl::StrCat("the entrypoint could not start: ", pid.status().message()));
      job.set_end_ms(NowMs());
    }
    store_->Update(job);
  }
  store_->Flush();
  return job;
}

absl::StatusOr<proto::JobSubmission> JobSupervisor::Stop(const std::string& id) {
  auto job = store_->Get(id);
  if (!job) return absl::NotFoundError(absl::StrCat("no job with the submission id '", id, "'"));
  std::lock_guard<std::mutex> l(mu_);
  auto it = running_.find(id);
  if (it != running_.end()) RequestStop(&it->second, "stopped on request");
  return *job;
}

void JobSupervisor::RequestStop(Running* r, const std::string& why) {
  if (r->stop_requested) return;
  r->stop_requested = true;
  r->stopped_by = why;
  r->kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.stop_grace_ms);
  kill(-r->pid, SIGTERM);
}

absl::StatusOr<proto::JobSubmission> JobSupervisor::Get(const std::string& id) {
  auto job = store_->Get(id);
  if (!job) return absl::NotFoundError(absl::StrCat("no job with the submission id '", id, "'"));
  return *job;
}

absl::StatusOr<LogChunk> JobSupervisor::Logs(const std::string& id, int64_t offset, int64_t max_bytes) {
  auto job = store_->Get(id);
  if (!job) return absl::NotFoundError(absl::StrCat("no job with the submission id '", id, "'"));
  LogChunk chunk;
  chunk.next_offset = std::max<int64_t>(offset, 0);
  std::ifstream f(job->log_file(), std::ios::binary);
  if (!f) return chunk;  // not started, or forgotten
  f.seekg(0, std::ios::end);
  int64_t size = f.tellg();
  if (chunk.next_offset >= size) return chunk;
  int64_t n = std::min(size - chunk.next_offset, std::max<int64_t>(max_bytes, 0));
  chunk.text.resize(n);
  f.seekg(chunk.next_offset);
  f.read(chunk.text.data(), n);
  chunk.text.resize(f.gcount());
  chunk.next_offset += chunk.text.size();
  chunk.text = ToUtf8(chunk.text);
  return chunk;
}

void JobSupervisor::Watch() {
  auto next_flush = std::chrono::steady_clock::now() + kFlushPeriod;
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    wake_.wait_for(l, kWatchPeriod);
    l.unlock();
    ReapOnce();
    if (std::chrono::steady_clock::now() >= next_flush) {
      store_->Flush();
      next_flush = std::chrono::steady_clock::now() + kFlushPeriod;
    }
    l.lock();
  }
}

void JobSupervisor::ReapOnce() {
  struct Ended {
    std::string id;
    int status;
    std::string stopped_by;
  };
  std::vector<Ended> ended;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto now = std::chrono::steady_clock::now();
    for (auto it = running_.begin(); it != running_.end();) {
      int status = 0;
      if (waitpid(it->second.pid, &status, WNOHANG) == it->second.pid) {
        ended.push_back({it->first, status, it->second.stopped_by});
        kill(-it->second.pid, SIGKILL);  // what the entrypoint left behind in its group goes with it
        it = running_.erase(it);
        continue;
      }
      if (it->second.stop_requested && now >= it->second.kill_at) kill(-it->second.pid, SIGKILL);
      ++it;
    }
  }
  for (const auto& e : ended) Finish(e.id, e.status, e.stopped_by);
  if (!ended.empty()) store_->Flush();
}

void JobSupervisor::Finish(const std::string& id, int wait_status, const std::string& stopped_by) {
  auto job = store_->Get(id);
  if (!job) return;
  int exit_code = 0;
  std::string how = Ending(wait_status, &exit_code);
  if (exit_code >= 0) {
    job->set_has_exit_code(true);
    job->set_exit_code(exit_code);
  }
  job->set_end_ms(NowMs());
  if (!stopped_by.empty()) {
    job->set_status(proto::JOB_STOPPED);
    job->set_message(absl::StrCat(stopped_by, " (the entrypoint ", how, ")"));
  } else if (exit_code == 0) {
    job->set_status(proto::JOB_SUCCEEDED);
    job->set_message(absl::StrCat("the entrypoint ", how));
  } else {
    job->set_status(proto::JOB_FAILED);
    job->set_message(absl::StrCat("the entrypoint ", how));
  }
  LOG(INFO) << "job '" << id << "': " << proto::JobStatus_Name(job->status()) << ", the entrypoint " << how;
  store_->Update(*job);
}

}  // namespace glint::dashboard
