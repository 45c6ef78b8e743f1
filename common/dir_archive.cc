#include "common/dir_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace glint {
namespace {

namespace fs = std::filesystem;

struct ReadCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryCloser {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using Reader = std::unique_ptr<archive, ReadCloser>;
using Writer = std::unique_ptr<archive, WriteCloser>;

std::string Why(archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "unknown error";
}

// Where the packed bytes go, bounded.
struct Sink {
  std::string* out;
  uint64_t max_bytes;
  bool too_big = false;
};

la_ssize_t SinkWrite(archive* a, void* data, const void* buffer, size_t length) {
  auto* sink = static_cast<Sink*>(data);
  if (sink->out->size() + length > sink->max_bytes) {
    sink->too_big = true;
    archive_set_error(a, EFBIG, "too big");
    return -1;
  }
  sink->out->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

// The entry's path relative to the archive's top ("./a/b" is "a/b"), or an
// error when it is absolute, climbs out with "..", or is empty.
absl::StatusOr<std::string> RelativePath(const char* raw) {
  if (raw == nullptr) return absl::InvalidArgumentError("the archive has an entry without a name");
  absl::string_view p(raw);
  if (absl::StartsWith(p, "/")) {
    return absl::InvalidArgumentError(
        absl::StrCat("the archive's entry '", p, "' is an absolute path"));
  }
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(p, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("the archive's entry '", p, "' climbs out of it with '..'"));
    }
    parts.emplace_back(part);
  }
  return absl::StrJoin(parts, "/");
}

// Reads the archive at `path`; with `dest`, unpacks it there.
absl::Status ReadArchive(const std::string& path, const std::string* dest,
                         const ArchiveLimits& limits) {
  Reader in(archive_read_new());
  archive_read_support_filter_gzip(in.get());
  archive_read_support_format_tar(in.get());
  archive_read_support_format_zip(in.get());
  if (archive_read_open_filename(in.get(), path.c_str(), 64 << 10) != ARCHIVE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an archive Glint reads (tar, tar.gz or zip): ", Why(in.get())));
  }
  Writer out;
  std::string top;
  if (dest != nullptr) {
    std::error_code ec;
    top =
        fs::canonical(*dest, ec).string();  // no link on the way to it, for the secure flags' sake
    if (ec)
      return absl::InternalError(absl::StrCat("cannot unpack into ", *dest, ": ", ec.message()));
    out.reset(archive_write_disk_new());
    archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                  ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                  ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  }
  uint64_t entries = 0, bytes = 0, unpacked = 0;
  archive_entry* entry = nullptr;
  while (true) {
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return absl::InvalidArgumentError(absl::StrCat("the archive is damaged: ", Why(in.get())));
    }
    if (++entries > limits.max_entries) {
      return absl::InvalidArgumentError(
          absl::StrCat("the archive has more than ", limits.max_entries, " entries"));
    }
    auto rel = RelativePath(archive_entry_pathname(entry));
    if (!rel.ok()) return rel.status();
    auto type = archive_entry_filetype(entry);
    if (archive_entry_hardlink(entry) != nullptr ||
        (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the archive's entry '", *rel, "' is not a file, a directory or a symbolic link"));
    }
    if (type == AE_IFREG && archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0) {
      bytes += static_cast<uint64_t>(archive_entry_size(entry));
    }
    if (bytes > limits.max_unpacked_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("the archive unpacks to more than ", limits.max_unpacked_bytes, " bytes"));
    }
    if (dest == nullptr) continue;  // checked; its data is skipped
    if (rel->empty()) continue;     // the top itself
    archive_entry_set_pathname(entry, absl::StrCat(top, "/", *rel).c_str());
    archive_entry_set_perm(entry, archive_entry_perm(entry) & 0777);  // no set-id bits
    if (archive_write_header(out.get(), entry) != ARCHIVE_OK) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot unpack '", *rel, "': ", Why(out.get())));
    }
    if (type == AE_IFREG) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      while ((r = archive_read_data_block(in.get(), &block, &size, &offset)) == ARCHIVE_OK) {
        // Counted as written too: a zip entry need not declare its size.
        unpacked += size;
        if (unpacked > limits.max_unpacked_bytes) {
          return absl::InvalidArgumentError(absl::StrCat("the archive unpacks to more than ",
                                                         limits.max_unpacked_bytes, " bytes"));
        }
        if (archive_write_data_block(out.get(), block, size, offset) != ARCHIVE_OK) {
          return absl::InternalError(absl::StrCat("cannot write '", *rel, "': ", Why(out.get())));
        }
      }
      if (r != ARCHIVE_EOF)
        return absl::InvalidArgumentError(absl::StrCat("the archive is damaged: ", Why(in.get())));
    }
    if (archive_write_finish_entry(out.get()) != ARCHIVE_OK) {
      return absl::InternalError(absl::StrCat("cannot finish '", *rel, "': ", Why(out.get())));
    }
  }
  if (out && archive_write_close(out.get()) != ARCHIVE_OK) {
    return absl::InternalError(absl::StrCat("cannot finish unpacking: ", Why(out.get())));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PackedDirectory> PackDirectory(const std::string& dir, uint64_t max_bytes,
                                              const ArchiveLimits& limits, IgnoreRules* ignore) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return absl::InvalidArgumentError(absl::StrCat("'", dir, "' is not a directory"));
  PackedDirectory packed;
  std::vector<fs::path> paths;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (ignore) {
      bool is_dir = it->is_directory(ec) && !it->is_symlink(ec);  // a link is packed as a link
      if (ignore->Ignored(it->path().lexically_relative(dir).generic_string(), is_dir)) {
        ++packed.ignored;
        if (is_dir) it.disable_recursion_pending();
        continue;
      }
    }
    paths.push_back(it->path());
    if (paths.size() > limits.max_entries) {
      return absl::InvalidArgumentError(absl::StrCat("'", dir, "' holds more than ",
                                                     limits.max_entries, " files and directories"));
    }
  }
  if (ec)
    return absl::InvalidArgumentError(absl::StrCat("cannot read '", dir, "': ", ec.message()));
  std::sort(paths.begin(), paths.end());

  Sink sink{&packed.bytes, max_bytes};
  Writer out(archive_write_new());
  archive_write_add_filter_gzip(out.get());
  archive_write_set_options(out.get(), "gzip:!timestamp");  // the same tree, the same bytes
  archive_write_set_format_pax_restricted(out.get());
  archive_write_set_bytes_in_last_block(out.get(), 1);
  auto too_big = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("'", dir, "' packs to more than ", max_bytes, " bytes"));
  };
  if (archive_write_open(out.get(), &sink, nullptr, SinkWrite, nullptr) != ARCHIVE_OK) {
    return absl::InternalError(absl::StrCat("cannot pack: ", Why(out.get())));
  }
  uint64_t bytes = 0;
  std::vector<char> buffer(256 << 10);
  for (const auto& p : paths) {
    auto status = fs::symlink_status(p, ec);
    if (ec)
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read '", p.string(), "': ", ec.message()));
    std::unique_ptr<archive_entry, EntryCloser> entry(archive_entry_new());
    struct stat st {};
    if (lstat(p.c_str(), &st) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read '", p.string(), "': ", strerror(errno)));
    }
    archive_entry_copy_stat(entry.get(), &st);
    archive_entry_set_uid(entry.get(),
                          0);  // whose it was on this machine means nothing on the head
    archive_entry_set_gid(entry.get(), 0);
    archive_entry_set_pathname(entry.get(), p.lexically_relative(dir).c_str());
    std::ifstream file;
    if (fs::is_symlink(status)) {
      archive_entry_set_symlink(entry.get(), fs::read_symlink(p, ec).c_str());
    } else if (fs::is_regular_file(status)) {
      bytes += static_cast<uint64_t>(st.st_size);
      if (bytes > limits.max_unpacked_bytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", dir, "' holds more than ", limits.max_unpacked_bytes, " bytes"));
      }
      file.open(p, std::ios::binary);
      if (!file) return absl::InvalidArgumentError(absl::StrCat("cannot read '", p.string(), "'"));
    } else if (!fs::is_directory(status)) {
      ++packed.skipped;
      continue;
    }
    if (archive_write_header(out.get(), entry.get()) != ARCHIVE_OK) {
      if (sink.too_big) return too_big();
      return absl::InternalError(absl::StrCat("cannot pack '", p.string(), "': ", Why(out.get())));
    }
    ++packed.entries;
    // A file that changes while it is packed: what its header said is what
    // is written (padded with zeros if it shrank).
    int64_t left = fs::is_regular_file(status) ? st.st_size : 0;
    while (left > 0) {
      file.read(buffer.data(),
                static_cast<std::streamsize>(std::min<int64_t>(left, buffer.size())));
      std::streamsize n = file.gcount();
      if (n <= 0) {
        std::fill(buffer.begin(), buffer.end(), 0);
        n = static_cast<std::streamsize>(std::min<int64_t>(left, buffer.size()));
      }
      if (archive_write_data(out.get(), buffer.data(), static_cast<size_t>(n)) < 0) {
        if (sink.too_big) return too_big();
        return absl::InternalError(
            absl::StrCat("cannot pack '", p.string(), "': ", Why(out.get())));
      }
      left -= n;
    }
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK) {
    if (sink.too_big) return too_big();
    return absl::InternalError(absl::StrCat("cannot pack: ", Why(out.get())));
  }
  return packed;
}

absl::Status CheckArchive(const std::string& path, const ArchiveLimits& limits) {
  return ReadArchive(path, nullptr, limits);
}

absl::Status UnpackArchive(const std::string& path, const std::string& dest,
                           const ArchiveLimits& limits) {
  return ReadArchive(path, &dest, limits);
}

}  // namespace glint
