// PackageStore: uploaded working directories, on the head's disk. A job
// submitted from another machine names its working directory by a package
// (`glint job submit --working-dir DIR` packs DIR and uploads it first, as
// Ray's CLI does); the supervisor unpacks a fresh copy for each job.
//
// A package is an archive (dir_archive.h: tar, tar.gz or zip) stored under
// the SHA-256 of its bytes, which the uploader names and the store checks:
// the same directory is uploaded once, and a name always means the same
// bytes. Every entry is checked when it arrives (paths, kinds, counts,
// unpacked size), so a bad archive is refused at upload, not when a job
// starts. Bounded: kMaxPackageBytes (dir_archive.h) per package, and `max_total_bytes` in
// all, the least recently used packages removed to make room (a job's copy
// is unpacked at submission, so no job needs its package afterwards).
// Thread-safe.
#pragma once
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "common/dir_archive.h"

namespace glint::dashboard {

class PackageStore {
 public:
  struct Options {
    std::string dir;  // made if missing
    uint64_t max_total_bytes = uint64_t{2} << 30;
    ArchiveLimits limits;
  };
  explicit PackageStore(Options options);

  // Stores `bytes` as package `sha256` (64 lowercase hex digits, which must
  // be the bytes' SHA-256). InvalidArgument says what is wrong with it.
  absl::Status Put(const std::string& sha256, const std::string& bytes);
  // The package's size, if it is here.
  std::optional<uint64_t> Size(const std::string& sha256);
  // Unpacks package `sha256` into the existing directory `dest`; NotFound
  // when it is not here.
  absl::Status Unpack(const std::string& sha256, const std::string& dest);

 private:
  std::string PathOf(const std::string& sha256) const;
  // Removes the least recently used packages but `keep` until all fit.
  void MakeRoom(const std::string& keep);

  const Options options_;
  std::mutex mu_;
};

}  // namespace glint::dashboard
