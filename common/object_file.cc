#include "common/object_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/huge_pages.h"
#include "common/ids.h"

namespace glint {
namespace {

// An empty object maps nothing; this stands in for its address.
char g_empty[1];

absl::StatusOr<std::shared_ptr<MappedFile>> Map(const std::string& path, bool write, size_t want) {
  int fd = open(path.c_str(), write ? O_RDWR | O_CLOEXEC : O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string msg = absl::StrCat("cannot open ", path, ": ", strerror(err));
    return err == ENOENT ? absl::NotFoundError(msg) : absl::InternalError(msg);
  }
  struct stat st {};
  size_t size = want;
  if (!write) {
    if (fstat(fd, &st) != 0) {
      close(fd);
      return absl::InternalError(absl::StrCat("cannot stat ", path, ": ", strerror(errno)));
    }
    size = static_cast<size_t>(st.st_size);
  }
  char* data = g_empty;
  if (size > 0) {
    // A read-only file (a spilled object) is read whole: populated up front,
    // one call instead of a page fault per page (costly on some machines).
    void* p = mmap(nullptr, size, write ? PROT_READ | PROT_WRITE : PROT_READ,
                   write ? MAP_SHARED : MAP_SHARED | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      close(fd);
      return absl::ResourceExhaustedError(absl::StrCat("cannot map ", path, ": ", strerror(err)));
    }
    data = static_cast<char*>(p);
    if (write) AdviseHugePages(p, size);  // an arena in a tmpfs mounted huge=advise
  }
  close(fd);
  return std::shared_ptr<MappedFile>(new MappedFile(data, size));
}

}  // namespace

std::string ObjectFilePath(const std::string& dir, const std::string& object_id) {
  return absl::StrCat(dir, "/", IdHex(object_id));
}

MappedFile::~MappedFile() {
  if (data_ != g_empty) munmap(data_, size_);
}

absl::StatusOr<std::shared_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  return Map(path, false, 0);
}

absl::StatusOr<std::shared_ptr<MappedFile>> MappedFile::OpenForWrite(const std::string& path, size_t size) {
  return Map(path, true, size);
}

}  // namespace glint
