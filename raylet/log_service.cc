#include "raylet/log_service.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/server_call.h"

namespace glint::raylet {
namespace {

int64_t ModifiedMs(const struct stat& st) { return int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1000000; }

absl::Status CheckName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "." || name == ".." ||
      name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("a log is named by its file name alone, as 'glint logs' lists it");
  }
  return absl::OkStatus();
}

// Where the last `lines` lines of the file start, looking back at most
// `limit` bytes from `size`.
int64_t TailStart(int fd, int64_t size, int lines, int64_t limit) {
  if (lines <= 0) return size;
  int64_t stop = std::max<int64_t>(0, size - limit);
  int64_t pos = size;
  int seen = 0;
  char buf[16 << 10];
  // A final newline ends the last line; it does not start one.
  bool skip_last = false;
  if (size > 0 && pread(fd, buf, 1, size - 1) == 1 && buf[0] == '\n') skip_last = true;
  while (pos > stop) {
    int64_t n = std::min<int64_t>(sizeof(buf), pos - stop);
    if (pread(fd, buf, n, pos - n) != n) return pos;
    for (int64_t i = n - 1; i >= 0; --i) {
      if (buf[i] != '\n') continue;
      if (skip_last && pos - n + i == size - 1) continue;
      if (++seen == lines) return pos - n + i + 1;
    }
    pos -= n;
  }
  return stop;
}

}  // namespace

void LogService::Serve(grpc::ServerCompletionQueue* cq) {
  ServeUnary(this, cq, &LogService::RequestListLogs, this, &LogService::ListLogs);
  ServeUnary(this, cq, &LogService::RequestReadLog, this, &LogService::ReadLog);
}

absl::Status LogService::ListLogs(const proto::ListLogsRequest&, proto::ListLogsReply* reply) {
  reply->set_node_id(node_id_);
  if (log_dir_.empty()) return absl::FailedPreconditionError("this node keeps no log files (its logs go to its stderr)");
  DIR* dir = opendir(log_dir_.c_str());
  if (!dir) return absl::NotFoundError(absl::StrCat("the log directory ", log_dir_, " cannot be read"));
  std::vector<proto::LogFile> files;
  while (dirent* e = readdir(dir)) {
    struct stat st;
    if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    proto::LogFile f;
    f.set_name(e->d_name);
    f.set_size(st.st_size);
    f.set_modified_ms(ModifiedMs(st));
    files.push_back(std::move(f));
  }
  closedir(dir);
  std::sort(files.begin(), files.end(), [](auto& a, auto& b) {
    return a.modified_ms() != b.modified_ms() ? a.modified_ms() > b.modified_ms() : a.name() < b.name();
  });
  if (files.size() > kMaxFiles) files.resize(kMaxFiles);
  for (auto& f : files) *reply->add_files() = std::move(f);
  return absl::OkStatus();
}

absl::Status LogService::ReadLog(const proto::ReadLogRequest& req, proto::ReadLogReply* reply) {
  if (auto s = CheckName(req.name()); !s.ok()) return s;
  if (log_dir_.empty()) return absl::FailedPreconditionError("this node keeps no log files");
  int fd = open(absl::StrCat(log_dir_, "/", req.name()).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) close(fd);
    return absl::NotFoundError(
        absl::StrCat("node ", ShortHex(node_id_), " has no log '", req.name(), "' (glint logs lists them)"));
  }
  int64_t max = req.max_bytes() > 0 ? std::min(req.max_bytes(), kMaxReadBytes) : kDefaultReadBytes;
  int64_t size = st.st_size;
  int64_t start = req.offset() >= 0 ? std::min<int64_t>(req.offset(), size) : TailStart(fd, size, req.tail_lines(), max);
  int64_t n = std::min(max, size - start);
  std::string data(n, '\0');
  ssize_t got = n > 0 ? pread(fd, data.data(), n, start) : 0;
  close(fd);
  data.resize(std::max<ssize_t>(got, 0));
  reply->set_data(std::move(data));
  reply->set_offset(start);
  reply->set_size(size);
  return absl::OkStatus();
}

}  // namespace glint::raylet
