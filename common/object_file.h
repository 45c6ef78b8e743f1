// Files of a node's object store (see raylet/object_store.h): one file per
// object, named by its hex id, in the store's shared-memory directory or, once
// spilled, in its spill directory. Writers fill "<name>.part" and the store
// renames it when sealed, so a reader never sees a half-written object.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace glint {

std::string ObjectFilePath(const std::string& dir, const std::string& object_id);
std::string PartFilePath(const std::string& dir, const std::string& object_id);

// A read-only (or writable) mapping of a whole file; unmapped when the last
// holder drops it. An unlinked file stays readable while it is mapped.
class MappedFile {
 public:
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  // Maps `path` read-only; NotFound if it does not exist.
  static absl::StatusOr<std::shared_ptr<MappedFile>> Open(const std::string& path);
  // Maps an existing file of `size` bytes for writing.
  static absl::StatusOr<std::shared_ptr<MappedFile>> OpenForWrite(const std::string& path, size_t size);
  char* data() const { return data_; }
  size_t size() const { return size_; }
  // Takes over a mapping made by Open*.
  MappedFile(char* data, size_t size) : data_(data), size_(size) {}

 private:
  char* data_;
  size_t size_;
};

// Maps the sealed object from the store's directory or its spill directory.
absl::StatusOr<std::shared_ptr<MappedFile>> OpenStoredObject(const std::string& dir,
                                                             const std::string& spill_dir,
                                                             const std::string& object_id);

}  // namespace glint
