// Mapping files of a node's object store (see raylet/object_store.h): the
// arena every process keeps mapped, and the files of spilled objects.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace glint {

// Where a spilled object's file is: its hex id in the spill directory.
std::string ObjectFilePath(const std::string& dir, const std::string& object_id);

// A mapping of a whole file; unmapped when the last holder drops it. An
// unlinked file stays readable while it is mapped.
class MappedFile {
 public:
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  // Maps `path` read-only, populated up front; NotFound if it does not exist.
  static absl::StatusOr<std::shared_ptr<MappedFile>> Open(const std::string& path);
  // Maps an existing file of `size` bytes for reading and writing, lazily
  // (pages are mapped as they are first touched, then stay mapped).
  static absl::StatusOr<std::shared_ptr<MappedFile>> OpenForWrite(const std::string& path, size_t size);
  char* data() const { return data_; }
  size_t size() const { return size_; }
  // Takes over a mapping made by Open*.
  MappedFile(char* data, size_t size) : data_(data), size_(size) {}

 private:
  char* data_;
  size_t size_;
};

}  // namespace glint
