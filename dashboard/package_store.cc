#include "dashboard/package_store.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "common/digest.h"
#include "common/logging.h"

namespace glint::dashboard {

namespace fs = std::filesystem;

PackageStore::PackageStore(Options options) : options_(std::move(options)) {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  // What a dashboard that died left half done (uploads, links being read).
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().rfind('.', 0) == 0) fs::remove(it->path(), ec);
  }
}

std::string PackageStore::PathOf(const std::string& sha256) const {
  return absl::StrCat(options_.dir, "/", sha256);
}

absl::Status PackageStore::Put(const std::string& sha256, const std::string& bytes) {
  if (!IsSha256Hex(sha256)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", sha256, "' is not a package name: the SHA-256 of its bytes, 64 lowercase hex digits"));
  }
  if (bytes.size() > kMaxPackageBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a package holds at most ", kMaxPackageBytes, " bytes"));
  }
  if (std::string actual = Sha256Hex(bytes); actual != sha256) {
    return absl::InvalidArgumentError(
        absl::StrCat("the body's SHA-256 is ", actual, ", not ", sha256, " (damaged on the way?)"));
  }
  // Written aside, checked, then moved into place: a package is whole or absent.
  std::string part =
      absl::StrCat(options_.dir, "/.upload-", sha256, "-", NewAuthToken().substr(0, 8));
  {
    std::ofstream out(part, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(part, ignored);
      return absl::UnavailableError(absl::StrCat("cannot store the package in ", options_.dir));
    }
  }
  std::error_code ec;
  if (auto s = CheckArchive(part, options_.limits); !s.ok()) {
    fs::remove(part, ec);
    return s;
  }
  std::lock_guard<std::mutex> l(mu_);
  fs::rename(part, PathOf(sha256), ec);
  if (ec) {
    fs::remove(part, ec);
    return absl::UnavailableError(
        absl::StrCat("cannot store the package in ", options_.dir, ": ", ec.message()));
  }
  MakeRoom(sha256);
  return absl::OkStatus();
}

std::optional<uint64_t> PackageStore::Size(const std::string& sha256) {
  if (!IsSha256Hex(sha256)) return std::nullopt;
  std::error_code ec;
  uint64_t size = fs::file_size(PathOf(sha256), ec);
  if (ec) return std::nullopt;
  return size;
}

absl::Status PackageStore::Unpack(const std::string& sha256, const std::string& dest) {
  std::string path = PathOf(sha256);
  // Read through a link of its own, which making room for another upload
  // meanwhile cannot take away.
  std::string reading =
      absl::StrCat(options_.dir, "/.reading-", sha256, "-", NewAuthToken().substr(0, 8));
  std::error_code ec;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!IsSha256Hex(sha256) || !fs::is_regular_file(path, ec)) {
      return absl::NotFoundError(absl::StrCat("there is no package ", sha256,
                                              " on the head (upload it first: PUT /api/packages/",
                                              sha256, ")"));
    }
    fs::last_write_time(path, fs::file_time_type::clock::now(), ec);  // used now: removed last
    fs::create_hard_link(path, reading, ec);
    if (ec)
      return absl::UnavailableError(
          absl::StrCat("cannot read package ", sha256, ": ", ec.message()));
  }
  auto s = UnpackArchive(reading, dest, options_.limits);
  fs::remove(reading, ec);
  return s;
}

void PackageStore::MakeRoom(const std::string& keep) {
  struct Package {
    fs::path path;
    fs::file_time_type used;
    uint64_t size;
  };
  std::vector<Package> all;
  uint64_t total = 0;
  std::error_code ec;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!IsSha256Hex(name)) continue;
    std::error_code e2;
    Package p{it->path(), fs::last_write_time(it->path(), e2), fs::file_size(it->path(), e2)};
    if (e2) continue;
    total += p.size;
    if (name != keep) all.push_back(std::move(p));
  }
  std::sort(all.begin(), all.end(),
            [](const Package& a, const Package& b) { return a.used < b.used; });
  for (const auto& p : all) {
    if (total <= options_.max_total_bytes) break;
    if (fs::remove(p.path, ec)) {
      total -= p.size;
      VLOG(1) << "package " << p.path.filename().string() << " removed to make room";
    }
  }
}

}  // namespace glint::dashboard
