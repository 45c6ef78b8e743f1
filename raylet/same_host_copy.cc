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

absl::StatusOr<std::unique_ptr<LentArena>> LentArena::Open(const proto::LendObjectReply& lent) {
  if (HostId().empty() || lent.host_id() != HostId()) {
    return absl::FailedPreconditionError("the lender is on another host");
  }
  if (lent.offset() < 0 || lent.size() < 0) return absl::InvalidArgumentError("the lent range is negative");
  int fd = open(lent.arena_path().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot open the lender's arena: ", strerror(errno)));
  }
  std::unique_ptr<LentArena> arena(new LentArena(fd, lent.offset()));
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_dev != lent.arena_device() || st.st_ino != lent.arena_inode()) {
    return absl::FailedPreconditionError("the lender's arena path names another file here");
  }
  if (lent.offset() + lent.size() > st.st_size) {
    return absl::InvalidArgumentError("the lent range is outside the lender's arena");
  }
  return arena;
}

LentArena::~LentArena() { close(fd_); }

absl::Status LentArena::CopyPart(ObjectStore* store, const std::string& id, int64_t offset, int64_t length) const {
  return store->WriteFrom(id, offset, fd_, object_offset_ + offset, length);
}

absl::Status CopyLentObject(const proto::LendObjectReply& lent, ObjectStore* store, const std::string& id) {
  auto arena = LentArena::Open(lent);
  if (!arena.ok()) return arena.status();
  return (*arena)->CopyPart(store, id, 0, lent.size());
}

}  // namespace glint::raylet
