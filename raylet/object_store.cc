#include "raylet/object_store.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/object_file.h"
#include "common/rpc.h"

namespace glint::raylet {
namespace {

std::string Mib(int64_t bytes) { return absl::StrCat(bytes / (1 << 20), " MiB"); }

int64_t FreeBytes(const std::string& dir) {
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

// Copies `from` to `to` (a new file) in the kernel.
bool CopyFile(const std::string& from, const std::string& to, int64_t size) {
  int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return false;
  int out = open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    close(in);
    return false;
  }
  int64_t done = 0;
  while (done < size) {
    ssize_t n = sendfile(out, in, nullptr, static_cast<size_t>(size - done));
    if (n <= 0) break;
    done += n;
  }
  close(in);
  close(out);
  return done == size;
}

}  // namespace

ObjectStore::ObjectStore(ObjectStoreOptions options) : options_(std::move(options)) {}

ObjectStore::~ObjectStore() { Clear(); }

void ObjectStore::Clear() {
  absl::MutexLock lock(&mu_);
  for (auto& [id, e] : objects_) {
    unlink((e.sealed ? ObjectFilePath : PartFilePath)(e.spilled ? options_.spill_dir : options_.dir, id).c_str());
  }
  objects_.clear();
  used_ = spilled_bytes_ = num_spilled_ = 0;
  std::error_code ec;
  std::filesystem::remove(options_.dir, ec);  // only if empty: never someone else's files
  if (!options_.spill_dir.empty()) std::filesystem::remove(options_.spill_dir, ec);
}

absl::Status ObjectStore::Init() {
  for (const auto& d : {options_.dir, options_.spill_dir}) {
    if (d.empty()) continue;
    std::error_code ec;
    std::filesystem::create_directories(d, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot make the object store directory ", d, ": ", ec.message()));
  }
  if (options_.capacity <= 0) return absl::InvalidArgumentError("the object store needs a capacity above 0");
  return absl::OkStatus();
}

std::string ObjectStore::Describe() {
  int pinned = 0;
  for (auto& [id, e] : objects_) pinned += e.primary && !e.spilled;
  return absl::StrCat("capacity ", Mib(options_.capacity), ", ", Mib(used_), " used by ", objects_.size(),
                      " objects (", pinned, " primary copies in memory), spilling ",
                      options_.spill_dir.empty() ? "off" : "on");
}

absl::StatusOr<std::string> ObjectStore::Create(const std::string& id, int64_t size, const ObjectMeta& meta,
                                                bool primary) {
  if (size < 0) return absl::InvalidArgumentError("an object's size cannot be negative");
  absl::MutexLock lock(&mu_);
  if (objects_.contains(id)) return absl::AlreadyExistsError(absl::StrCat("object ", ShortHex(id), " exists"));
  if (size > options_.capacity) {
    return absl::ResourceExhaustedError(absl::StrCat("an object of ", Mib(size),
                                                     " is larger than the node's object store (",
                                                     Mib(options_.capacity), "; see --object_store_memory)"));
  }
  if (!MakeRoom(size)) {
    return absl::ResourceExhaustedError(absl::StrCat("the object store has no room for ", Mib(size), ": ",
                                                     Describe()));
  }
  std::string path = PartFilePath(options_.dir, id);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot create ", path, ": ", strerror(errno)));
  int rc = ftruncate(fd, size);
  int err = errno;
  close(fd);
  if (rc != 0) {
    unlink(path.c_str());
    return absl::ResourceExhaustedError(absl::StrCat("cannot size ", path, ": ", strerror(err)));
  }
  Entry& e = objects_[id];
  e.size = size;
  e.primary = primary;
  e.meta = meta;
  e.created_ms = NowMs();
  e.last_use = ++clock_;
  used_ += size;
  return path;
}

bool ObjectStore::MakeRoom(int64_t size) {
  while (used_ + size > options_.capacity) {
    // The least recently used sealed object in memory: a cached copy if
    // there is one (evicted), else a primary copy (spilled).
    std::string victim;
    const Entry* best = nullptr;
    for (auto& [id, e] : objects_) {
      if (!e.sealed || e.spilled) continue;
      if (e.primary && options_.spill_dir.empty()) continue;
      bool better = !best || (best->primary && !e.primary) ||
                    (best->primary == e.primary && e.last_use < best->last_use);
      if (better) {
        best = &e;
        victim = id;
      }
    }
    if (!best) return false;
    Entry& e = objects_[victim];
    if (!e.primary) {
      VLOG(1) << "evicting cached object " << ShortHex(victim);
      Erase(victim, nullptr);
    } else if (!Spill(victim, e)) {
      return false;
    }
  }
  return true;
}

bool ObjectStore::Spill(const std::string& id, Entry& e) {
  if (FreeBytes(options_.spill_dir) < e.size + options_.spill_reserve_bytes) {
    LOG(WARNING) << "cannot spill object " << ShortHex(id) << ": the disk at " << options_.spill_dir
                 << " is nearly full";
    return false;
  }
  std::string part = PartFilePath(options_.spill_dir, id);
  std::string dest = ObjectFilePath(options_.spill_dir, id);
  if (!CopyFile(ObjectFilePath(options_.dir, id), part, e.size) || rename(part.c_str(), dest.c_str()) != 0) {
    LOG(WARNING) << "cannot spill object " << ShortHex(id) << " to " << options_.spill_dir << ": "
                 << strerror(errno);
    unlink(part.c_str());
    return false;
  }
  // Readers look in memory first, then on disk: both exist until here.
  unlink(ObjectFilePath(options_.dir, id).c_str());
  e.spilled = true;
  used_ -= e.size;
  spilled_bytes_ += e.size;
  ++num_spilled_;
  VLOG(1) << "spilled object " << ShortHex(id) << " (" << e.size << " bytes)";
  return true;
}

absl::Status ObjectStore::Seal(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end()) return absl::NotFoundError(absl::StrCat("no object ", ShortHex(id), " is being written"));
  if (it->second.sealed) return absl::OkStatus();
  std::string part = PartFilePath(options_.dir, id);
  if (rename(part.c_str(), ObjectFilePath(options_.dir, id).c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot seal ", part, ": ", strerror(errno)));
  }
  it->second.sealed = true;
  return absl::OkStatus();
}

void ObjectStore::Abort(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it != objects_.end() && !it->second.sealed) Erase(id, nullptr);
}

void ObjectStore::Erase(const std::string& id, Holders* holders) {
  auto it = objects_.find(id);
  if (it == objects_.end()) return;
  Entry& e = it->second;
  const std::string& dir = e.spilled ? options_.spill_dir : options_.dir;
  unlink((e.sealed ? ObjectFilePath(dir, id) : PartFilePath(dir, id)).c_str());
  if (e.spilled) {
    spilled_bytes_ -= e.size;
    --num_spilled_;
  } else {
    used_ -= e.size;
  }
  if (holders) {
    for (auto& h : e.holders) (*holders)[h].push_back(id);
  }
  objects_.erase(it);
}

ObjectStore::Holders ObjectStore::Free(const std::vector<std::string>& ids) {
  Holders holders;
  absl::MutexLock lock(&mu_);
  for (auto& id : ids) Erase(id, &holders);
  return holders;
}

ObjectStore::Holders ObjectStore::FreeOwnedIf(const std::function<bool(const ObjectMeta&)>& pred) {
  Holders holders;
  absl::MutexLock lock(&mu_);
  std::vector<std::string> ids;
  for (auto& [id, e] : objects_) {
    if (e.primary && pred(e.meta)) ids.push_back(id);
  }
  for (auto& id : ids) Erase(id, &holders);
  return holders;
}

bool ObjectStore::IsSealed(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || !it->second.sealed) return false;
  it->second.last_use = ++clock_;
  return true;
}

bool ObjectStore::Locate(const std::string& id, const std::string& requester, std::string* path,
                         int64_t* size) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || !it->second.sealed) return false;
  Entry& e = it->second;
  e.last_use = ++clock_;
  if (!requester.empty()) e.holders.insert(requester);
  *path = ObjectFilePath(e.spilled ? options_.spill_dir : options_.dir, id);
  *size = e.size;
  return true;
}

void ObjectStore::DropStaleWrites(int64_t now_ms, int64_t max_age_ms) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> stale;
  for (auto& [id, e] : objects_) {
    if (!e.sealed && now_ms - e.created_ms > max_age_ms) stale.push_back(id);
  }
  for (auto& id : stale) {
    LOG(WARNING) << "dropping object " << ShortHex(id) << ": created but never sealed";
    Erase(id, nullptr);
  }
}

proto::ObjectStoreInfo ObjectStore::Info() {
  proto::ObjectStoreInfo info;
  info.set_dir(options_.dir);
  info.set_spill_dir(options_.spill_dir);
  info.set_capacity(options_.capacity);
  info.set_inline_threshold(options_.inline_threshold);
  absl::MutexLock lock(&mu_);
  info.set_used(used_);
  info.set_num_objects(static_cast<int64_t>(objects_.size()));
  info.set_spilled_bytes(spilled_bytes_);
  info.set_num_spilled(num_spilled_);
  return info;
}

int64_t DefaultStoreCapacity(const std::string& dir) {
  int64_t mem = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  int64_t cap = mem / 10 * 3;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  int64_t fs = FreeBytes(dir) / 10 * 8;
  if (fs > 0) cap = std::min(cap, fs);
  return std::max<int64_t>(cap, 64 << 20);
}

absl::StatusOr<int64_t> ParseBytes(const std::string& text) {
  std::string s = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  int64_t mult = 1;
  if (!s.empty() && s.back() == 'B') s.pop_back();
  if (!s.empty() && s.back() == 'I') s.pop_back();  // "MiB" as "M"
  if (!s.empty()) {
    switch (s.back()) {
      case 'K': mult = int64_t{1} << 10; break;
      case 'M': mult = int64_t{1} << 20; break;
      case 'G': mult = int64_t{1} << 30; break;
      case 'T': mult = int64_t{1} << 40; break;
      default: mult = 0;
    }
    if (mult) s.pop_back(); else mult = 1;
  }
  double v = 0;
  if (s.empty() || !absl::SimpleAtod(s, &v) || v < 0) {
    return absl::InvalidArgumentError(absl::StrCat("bad size '", text, "': expected bytes, or a number with K, M or G"));
  }
  return static_cast<int64_t>(v * static_cast<double>(mult));
}

}  // namespace glint::raylet
