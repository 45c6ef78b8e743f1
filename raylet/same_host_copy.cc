#include "raylet/same_host_copy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"

namespace glint::raylet {

const std::string& HostId() {
  static const std::string id = [] {
    std::ifstream f("/proc/sys/kernel/random/boot_id");
    std::string s;
    std::getline(f, s);
    return s;
  }();
  return id;
}

absl::Status CopyLentObject(const proto::LendObjectReply& lent, ObjectStore* store, const std::string& id) {
  if (HostId().empty() || lent.host_id() != HostId()) {
    return absl::FailedPreconditionError("the lender is on another host");
  }
  if (lent.offset() < 0 || lent.size() < 0) return absl::InvalidArgumentError("the lent range is negative");
  int fd = open(lent.arena_path().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot open the lender's arena: ", strerror(errno)));
  }
  struct stat st;
  absl::Status status;
  if (fstat(fd, &st) != 0 || st.st_dev != lent.arena_device() || st.st_ino != lent.arena_inode()) {
    status = absl::FailedPreconditionError("the lender's arena path names another file here");
  } else if (lent.offset() + lent.size() > st.st_size) {
    status = absl::InvalidArgumentError("the lent range is outside the lender's arena");
  }
  if (status.ok()) status = store->WriteFrom(id, fd, lent.offset(), lent.size());
  close(fd);
  return status;
}

}  // namespace glint::raylet
