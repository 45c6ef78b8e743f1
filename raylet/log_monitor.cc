#include "raylet/log_monitor.h"

#include <fcntl.h>
#include <unistd.h>

#include "absl/container/flat_hash_set.h"
#include "common/output_label.h"

namespace glint::raylet {

LogMonitor::~LogMonitor() {
  absl::MutexLock lock(&mu_);
  for (auto& [id, f] : files_) close(f.fd);
}

void LogMonitor::Watch(const std::string& worker_id, pid_t pid, const proto::JobInfo& job, const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // nothing to follow (the worker's output goes elsewhere)
  absl::MutexLock lock(&mu_);
  File& f = files_[worker_id];
  if (f.fd >= 0) close(f.fd);
  f = File{};
  f.job_id = job.job_id();
  f.pid = pid;
  f.fd = fd;
  Job& j = jobs_[job.job_id()];
  j.driver = job.driver();
  j.to_driver = job.log_to_driver() && !job.driver().ip().empty();
}

void LogMonitor::Exited(const std::string& worker_id) {
  absl::MutexLock lock(&mu_);
  if (auto it = files_.find(worker_id); it != files_.end()) it->second.exited = true;
}

size_t LogMonitor::watched() {
  absl::MutexLock lock(&mu_);
  return files_.size();
}

void LogMonitor::Poll() {
  std::vector<Outgoing> out;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = files_.begin(); it != files_.end();) {
      if (ReadFile(&it->second)) {
        ++it;
        continue;
      }
      close(it->second.fd);
      files_.erase(it++);
    }
    out = TakeBatches();
  }
  for (auto& o : out) {
    send_(o.driver, std::move(o.batch), [this, job_id = o.job_id](bool) {
      absl::MutexLock lock(&mu_);
      if (auto it = jobs_.find(job_id); it != jobs_.end()) it->second.in_flight = false;
    });
  }
}

bool LogMonitor::ReadFile(File* f) {
  char buf[64 << 10];
  int64_t budget = kReadBytesPerPoll;
  bool at_end = false;
  while (budget > 0) {
    ssize_t n = pread(f->fd, buf, std::min<int64_t>(sizeof(buf), budget), f->offset);
    if (n <= 0) {
      at_end = true;
      break;
    }
    f->offset += n;
    budget -= n;
    std::string_view data(buf, n);
    while (!data.empty()) {
      auto nl = data.find('\n');
      if (nl == std::string_view::npos) {
        f->partial.append(data);
        break;
      }
      f->partial.append(data.substr(0, nl));
      data.remove_prefix(nl + 1);
      std::string line = std::move(f->partial);
      f->partial.clear();
      std::string_view before, label;
      if (ParseOutputLabel(line, &before, &label)) {
        if (!before.empty()) AddLine(*f, std::string(before));
        f->label = std::string(label);
      } else {
        AddLine(*f, std::move(line));
      }
    }
    if (static_cast<int64_t>(f->partial.size()) >= kMaxLineBytes) {  // a line without end: cut
      AddLine(*f, std::move(f->partial));
      f->partial.clear();
    }
  }
  if (!(at_end && f->exited)) return true;
  if (!f->partial.empty()) AddLine(*f, std::move(f->partial));  // the last words, unfinished
  return false;
}

void LogMonitor::AddLine(const File& f, std::string line) {
  Job& j = jobs_[f.job_id];
  if (!j.to_driver) return;
  if (j.bytes + static_cast<int64_t>(line.size()) > kMaxPendingBytes) {
    ++j.dropped;
    return;
  }
  j.bytes += line.size();
  auto* workers = j.batch.mutable_workers();
  if (workers->empty() || workers->rbegin()->pid() != f.pid || workers->rbegin()->label() != f.label) {
    auto* w = workers->Add();
    w->set_label(f.label);
    w->set_pid(f.pid);
    w->set_node_id(node_id_);
  }
  workers->rbegin()->add_lines(std::move(line));
}

std::vector<LogMonitor::Outgoing> LogMonitor::TakeBatches() {
  absl::flat_hash_set<std::string> followed;
  for (auto& [id, f] : files_) followed.insert(f.job_id);
  std::vector<Outgoing> out;
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    Job& j = it->second;
    bool has_lines = !j.batch.workers().empty() || j.dropped > 0;
    if (has_lines && !j.in_flight) {
      Outgoing o{it->first, j.driver, std::move(j.batch)};
      o.batch.set_job_id(it->first);
      o.batch.set_dropped_lines(j.dropped);
      j.batch.Clear();
      j.bytes = 0;
      j.dropped = 0;
      j.in_flight = true;
      out.push_back(std::move(o));
      has_lines = false;
    }
    if (!has_lines && !j.in_flight && !followed.contains(it->first)) {
      jobs_.erase(it++);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace glint::raylet
