#include "dashboard/job_supervisor.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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
constexpr auto kReservationPeriod = std::chrono::milliseconds(250);  // how often a pending job's CPUs are checked
constexpr double kMaxEntrypointCpus = 1e6;

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

// Whether `pid` still leads the process group of job `id`'s entrypoint (a
// pid in an old record may belong to another program by now): its group's
// leader, with the job's id in its environment.
bool RunsEntrypoint(pid_t pid, const std::string& id) {
  if (pid <= 0 || getpgid(pid) != pid) return false;
  std::ifstream f(absl::StrCat("/proc/", pid, "/environ"), std::ios::binary);
  std::string environ((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const std::string mine = absl::StrCat("GLINT_JOB_SUBMISSION_ID=", id);
  for (absl::string_view var : absl::StrSplit(environ, '\0')) {
    if (var == mine) return true;
  }
  return false;
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
    : options_(std::move(options)), store_(store), reservations_(options_.gcs_address) {}

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
    bool was_running = job.status() == proto::JOB_RUNNING;
    job.set_status(proto::JOB_FAILED);
    job.set_message("its job supervisor exited while it ran (the head's dashboard restarted)");
    // One that was killed left its entrypoints running, unwatched: they go.
    if (was_running && RunsEntrypoint(job.driver_pid(), job.submission_id())) {
      kill(-job.driver_pid(), SIGKILL);
      job.set_message(absl::StrCat(job.message(), "; its entrypoint was stopped"));
    }
    job.set_end_ms(NowMs());
    store_->Update(job);
  }
  store_->Flush();
  TrimCopies();
  reservations_.ReleaseLeftovers();
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
  Release(std::exchange(unreleased_, {}));  // one last try; the next dashboard removes what is left
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
  std::string package;
  if (absl::StartsWith(request.working_dir(), kPackageScheme)) {
    package = request.working_dir().substr(std::strlen(kPackageScheme));
    if (options_.packages == nullptr) return absl::InvalidArgumentError("this dashboard takes no packages");
  } else if (!request.working_dir().empty()) {
    if (request.working_dir()[0] != '/' || !std::filesystem::is_directory(request.working_dir(), ec)) {
      return absl::InvalidArgumentError(absl::StrCat("the working directory '", request.working_dir(),
                                                     "' is not a directory on the head node (give an absolute "
                                                     "path there)"));
    }
    job.set_working_dir(request.working_dir());
  } else {
    job.set_working_dir(absl::StrCat(options_.jobs_dir, "/", job.submission_id()));
  }
  double cpus = request.entrypoint_num_cpus();
  if (!std::isfinite(cpus) || cpus < 0 || cpus > kMaxEntrypointCpus) {
    return absl::InvalidArgumentError(absl::StrCat("entrypoint_num_cpus is ", cpus, "; give a number from 0 to ",
                                                   kMaxEntrypointCpus));
  }
  job.set_entrypoint_num_cpus(cpus);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return absl::UnavailableError("the dashboard is stopping");
    if (running_.size() >= options_.max_running) {
      return absl::ResourceExhaustedError(absl::StrCat(options_.max_running, " jobs run already; stop one first"));
    }
  }
  if (store_->Get(job.submission_id())) {  // said before a reservation is made under its name
    return absl::AlreadyExistsError(absl::StrCat("a job with the submission id '", job.submission_id(),
                                                 "' exists already"));
  }
  // An uploaded working directory: a fresh copy of its own for this job,
  // removed again if the job is not taken after all.
  std::string copy;
  auto drop_copy = absl::MakeCleanup([&copy] {
    std::error_code ignored;
    if (!copy.empty()) std::filesystem::remove_all(copy, ignored);
  });
  if (!package.empty()) {
    copy = absl::StrCat(options_.jobs_dir, "/", job.submission_id(), "-", NewAuthToken().substr(0, 8));
    std::filesystem::create_directories(copy, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("cannot make ", copy, ": ", ec.message()));
    if (auto s = options_.packages->Unpack(package, copy); !s.ok()) {
      return absl::Status(s.code() == absl::StatusCode::kNotFound ? absl::StatusCode::kInvalidArgument : s.code(),
                          absl::StrCat("cannot unpack the working directory: ", s.message()));
    }
    job.set_working_dir(copy);
    job.set_package(package);
  }
  Running entry;
  if (cpus > 0) {
    auto group = reservations_.Reserve(job.submission_id(), cpus);
    if (!group.ok()) return group.status();
    entry.reservation = *group;
  }
  job.set_status(proto::JOB_PENDING);
  job.set_submitted_ms(NowMs());
  job.set_log_file(absl::StrCat(options_.logs_dir, "/job-driver-", job.submission_id(), ".log"));
  if (auto s = store_->Add(job); !s.ok()) {
    if (!entry.reservation.empty()) Release({entry.reservation});
    return s;
  }
  std::move(drop_copy).Cancel();
  for (const auto& old : store_->Prune(options_.max_records)) {
    std::filesystem::remove(old.log_file(), ec);
    if (OwnCopy(old)) std::filesystem::remove_all(old.working_dir(), ec);
  }

  std::filesystem::create_directories(job.working_dir(), ec);
  std::ofstream(job.log_file(), std::ios::trunc).close();  // a new job's log starts empty, even on a reused id
  {
    // The record says RUNNING before the watcher can see the entrypoint end.
    std::lock_guard<std::mutex> l(mu_);
    if (entry.reservation.empty()) {
      Launch(job, &running_[job.submission_id()]);
    } else {  // the watcher starts it once its CPUs are held
      job.set_message(absl::StrCat("waiting for ", cpus, " CPUs on the head node"));
      store_->Update(job);
      running_[job.submission_id()] = std::move(entry);
    }
  }
  wake_.notify_all();
  store_->Flush();
  return job;
}

bool JobSupervisor::Launch(proto::JobSubmission& job, Running* r) {
  auto env = options_.env;
  env["GLINT_ADDRESS"] = options_.gcs_address;
  env["GLINT_JOB_SUBMISSION_ID"] = job.submission_id();
  auto pid = SpawnProcess({"/bin/sh", "-c", job.entrypoint()}, env, job.log_file(), /*new_group=*/true,
                          job.working_dir());
  if (pid.ok()) {
    job.set_status(proto::JOB_RUNNING);
    job.set_driver_pid(*pid);
    job.set_start_ms(NowMs());
    job.set_message(r->reservation.empty()
                        ? "the entrypoint runs"
                        : absl::StrCat("the entrypoint runs, with ", job.entrypoint_num_cpus(), " CPUs held for it"));
    r->pid = *pid;
    LOG(INFO) << "job '" << job.submission_id() << "' runs (pid " << *pid << "): " << job.entrypoint();
  } else {
    job.set_status(proto::JOB_FAILED);
    job.set_message(absl::StrCat("the entrypoint could not start: ", pid.status().message()));
    job.set_end_ms(NowMs());
    if (!r->reservation.empty()) unreleased_.push_back(r->reservation);
    running_.erase(job.submission_id());
  }
  store_->Update(job);
  return pid.ok();
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
  if (r->pid > 0) kill(-r->pid, SIGTERM);  // one not started yet ends at the next reap
  wake_.notify_all();
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
  auto now = std::chrono::steady_clock::now();
  auto next_flush = now + kFlushPeriod, next_check = now;
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    wake_.wait_for(l, kWatchPeriod);
    std::vector<std::string> unreleased;
    unreleased.swap(unreleased_);
    l.unlock();
    ReapOnce();
    Release(std::move(unreleased));
    now = std::chrono::steady_clock::now();
    if (now >= next_check) {
      StartReserved();
      next_check = now + kReservationPeriod;
    }
    if (now >= next_flush) {
      store_->Flush();
      next_flush = now + kFlushPeriod;
    }
    l.lock();
  }
}

void JobSupervisor::StartReserved() {
  std::vector<std::pair<std::string, std::string>> waiting;  // submission id, reservation
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [id, r] : running_) {
      if (r.pid == 0 && !r.stop_requested && r.failed_by.empty()) waiting.emplace_back(id, r.reservation);
    }
  }
  for (const auto& [id, group] : waiting) {
    auto state = reservations_.Check(group);
    auto job = store_->Get(id);
    if (!state.ok() || !job) continue;  // the GCS is away: ask again later
    std::lock_guard<std::mutex> l(mu_);
    auto it = running_.find(id);
    if (it == running_.end() || it->second.pid != 0 || it->second.stop_requested) continue;
    if (state->placed) {
      Launch(*job, &it->second);
    } else if (state->gone) {
      it->second.failed_by = "its CPU reservation on the head was removed before the entrypoint started";
    } else {
      auto message = absl::StrCat("waiting for ", job->entrypoint_num_cpus(), " CPUs on the head node: ",
                                  state->waiting_for);
      if (job->message() != message) {
        job->set_message(message);
        store_->Update(*job);
      }
    }
  }
  if (!waiting.empty()) store_->Flush();
}

void JobSupervisor::ReapOnce() {
  std::vector<Ended> ended;
  std::vector<std::string> reservations;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto now = std::chrono::steady_clock::now();
    for (auto it = running_.begin(); it != running_.end();) {
      auto& r = it->second;
      int status = 0;
      bool done = false;
      if (r.pid == 0) {  // not started: ends when stopped, or its reservation went away
        done = r.stop_requested || !r.failed_by.empty();
        if (done) ended.push_back({it->first, false, 0, r.stopped_by, r.failed_by});
      } else if (waitpid(r.pid, &status, WNOHANG) == r.pid) {
        done = true;
        ended.push_back({it->first, true, status, r.stopped_by, ""});
        kill(-r.pid, SIGKILL);  // what the entrypoint left behind in its group goes with it
      } else if (r.stop_requested && now >= r.kill_at) {
        kill(-r.pid, SIGKILL);
      }
      if (done && !r.reservation.empty()) reservations.push_back(r.reservation);
      it = done ? running_.erase(it) : std::next(it);
    }
  }
  for (const auto& e : ended) Finish(e);
  Release(std::move(reservations));
  if (!ended.empty()) store_->Flush();
}

void JobSupervisor::Release(std::vector<std::string> reservations) {
  std::vector<std::string> kept;
  for (auto& group : reservations) {
    if (!reservations_.Release(group)) kept.push_back(std::move(group));
  }
  if (kept.empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  unreleased_.insert(unreleased_.end(), kept.begin(), kept.end());
}

void JobSupervisor::Finish(const Ended& e) {
  auto job = store_->Get(e.id);
  if (!job) return;
  job->set_end_ms(NowMs());
  if (!e.started) {
    job->set_status(e.stopped_by.empty() ? proto::JOB_FAILED : proto::JOB_STOPPED);
    job->set_message(e.stopped_by.empty() ? e.failed_by
                                          : absl::StrCat(e.stopped_by, " (before the entrypoint started)"));
    LOG(INFO) << "job '" << e.id << "': " << proto::JobStatus_Name(job->status()) << ", " << job->message();
    store_->Update(*job);
    TrimCopies();
    return;
  }
  int exit_code = 0;
  std::string how = Ending(e.wait_status, &exit_code);
  if (exit_code >= 0) {
    job->set_has_exit_code(true);
    job->set_exit_code(exit_code);
  }
  if (!e.stopped_by.empty()) {
    job->set_status(proto::JOB_STOPPED);
    job->set_message(absl::StrCat(e.stopped_by, " (the entrypoint ", how, ")"));
  } else if (exit_code == 0) {
    job->set_status(proto::JOB_SUCCEEDED);
    job->set_message(absl::StrCat("the entrypoint ", how));
  } else {
    job->set_status(proto::JOB_FAILED);
    job->set_message(absl::StrCat("the entrypoint ", how));
  }
  LOG(INFO) << "job '" << e.id << "': " << proto::JobStatus_Name(job->status()) << ", the entrypoint " << how;
  store_->Update(*job);
  TrimCopies();
}

bool JobSupervisor::OwnCopy(const proto::JobSubmission& job) const {
  std::filesystem::path dir(job.working_dir());
  return !job.package().empty() && dir.parent_path() == std::filesystem::path(options_.jobs_dir) &&
         dir.filename().string().rfind(job.submission_id() + "-", 0) == 0;
}

void JobSupervisor::TrimCopies() {
  std::vector<proto::JobSubmission> ended;
  for (auto& j : store_->List()) {
    if (JobEnded(j.status()) && OwnCopy(j)) ended.push_back(std::move(j));
  }
  if (ended.size() <= options_.kept_copies) return;
  std::sort(ended.begin(), ended.end(), [](const auto& a, const auto& b) { return a.end_ms() > b.end_ms(); });
  std::error_code ec;
  for (size_t i = options_.kept_copies; i < ended.size(); ++i) std::filesystem::remove_all(ended[i].working_dir(), ec);
}

}  // namespace glint::dashboard
