// A directory packed into one archive, and an archive checked and unpacked
// into a directory (libarchive): a job's working directory travels from the
// CLI's machine to the head this way (dashboard/package_store.h).
//
// Unpacking trusts nothing in the archive: every entry must be a relative
// path without "..", and a file, a directory or a symbolic link (no hard
// links, devices or FIFOs); the entries and their unpacked bytes are
// bounded, so a small archive that unpacks to a huge tree (a "zip bomb") is
// stopped at the bound. Links are made as they are, but nothing is ever
// written through one (libarchive's secure-extraction flags). Tar (plain or
// gzip-compressed) and zip are read; PackDirectory writes a gzip-compressed
// tar.
#pragma once
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/ignore_rules.h"

namespace glint {

// A job's uploaded working directory: at most this long packed, and named
// by a job as "package://<SHA-256 of the packed bytes>".
constexpr uint64_t kMaxPackageBytes = uint64_t{100} << 20;
constexpr char kPackageScheme[] = "package://";

struct ArchiveLimits {
  uint64_t max_entries = 100000;
  uint64_t max_unpacked_bytes = uint64_t{1} << 30;
};

struct PackedDirectory {
  std::string bytes;     // the archive
  uint64_t entries = 0;  // files, directories and links in it
  uint64_t skipped = 0;  // sockets, FIFOs and devices, left out
  uint64_t ignored = 0;  // files, directories and links left out by `ignore` (a directory counts once)
};

// Packs `dir`'s contents (not following links; entries in name order, so
// the same tree packs to the same bytes) into at most `max_bytes`; an error
// naming the limit when it packs to more. What `ignore` (if given) says is
// ignored is left out, a directory with all it holds.
absl::StatusOr<PackedDirectory> PackDirectory(const std::string& dir, uint64_t max_bytes,
                                              const ArchiveLimits& limits = {}, IgnoreRules* ignore = nullptr);

// Reads the archive at `path` through, checking every entry as unpacking
// would, without writing anything.
absl::Status CheckArchive(const std::string& path, const ArchiveLimits& limits = {});

// Unpacks the archive at `path` into the existing directory `dest`.
absl::Status UnpackArchive(const std::string& path, const std::string& dest,
                           const ArchiveLimits& limits = {});

}  // namespace glint
