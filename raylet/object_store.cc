#include "raylet/object_store.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/huge_pages.h"
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

}  // namespace

namespace {
constexpr int64_t kAlign = 4096;
// At most this much is read into the arena per call (a stopping raylet waits for one call).
constexpr int64_t kReadBytes = 64 << 20;
// The client name chunks lent to pulling raylets are pinned under.
constexpr char kChunkReader[] = "(chunk reader)";
// The range an object takes: whole pages, at least one (so the number of
// objects, and what the store keeps about them, is bounded by its capacity).
int64_t Aligned(int64_t size) { return std::max(kAlign, (size + kAlign - 1) / kAlign * kAlign); }
}  // namespace

ObjectStore::ObjectStore(ObjectStoreOptions options) : options_(std::move(options)) {}

ObjectStore::~ObjectStore() {
  Clear();
  // Unmapped only now, not at Clear(): gRPC may still hold slices of chunks
  // lent from the mapping until the server that sent them is gone.
  if (mapped_) munmap(const_cast<char*>(mapped_), static_cast<size_t>(options_.capacity));
  if (warm_) munmap(warm_, static_cast<size_t>(WarmBytes()));
}

std::string ObjectStore::arena_path() const { return options_.dir + "/arena"; }

std::string ObjectStore::SpillPath(const std::string& id) const { return ObjectFilePath(options_.spill_dir, id); }

void ObjectStore::Clear() {
  absl::MutexLock lock(&mu_);
  for (auto& [id, e] : objects_) {
    if (e.offset < 0) unlink(SpillPath(id).c_str());
  }
  objects_.clear();
  free_.clear();
  used_ = spilled_bytes_ = num_spilled_ = 0;
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
    unlink(arena_path().c_str());
  }
  std::error_code ec;
  std::filesystem::remove(options_.dir, ec);  // only if empty: never someone else's files
  if (!options_.spill_dir.empty()) std::filesystem::remove(options_.spill_dir, ec);
}

absl::Status ObjectStore::Init() {
  // The objects are the cluster's user's only: no other local account may
  // read the arena or a spilled object (its directories are private).
  for (const auto& d : {options_.dir, options_.spill_dir}) {
    if (d.empty()) continue;
    std::error_code ec;
    std::filesystem::create_directories(d, ec);
    if (!ec) std::filesystem::permissions(d, std::filesystem::perms::owner_all, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot make the object store directory ", d, ": ", ec.message()));
  }
  if (options_.capacity < kAlign) return absl::InvalidArgumentError("the object store needs a capacity of at least 4 KiB");
  fd_ = open(arena_path().c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0 || ftruncate(fd_, options_.capacity) != 0) {
    return absl::InternalError(absl::StrCat("cannot make the object store ", arena_path(), ": ", strerror(errno)));
  }
  void* m = mmap(nullptr, static_cast<size_t>(options_.capacity), PROT_READ, MAP_SHARED, fd_, 0);
  if (m == MAP_FAILED) {
    return absl::InternalError(absl::StrCat("cannot map the object store ", arena_path(), ": ", strerror(errno)));
  }
  mapped_ = static_cast<const char*>(m);
  huge_pages_ = HugePagesIn(options_.dir);
  AdviseHugePages(m, static_cast<size_t>(options_.capacity));
  if (WarmBytes() > 0) {
    m = mmap(nullptr, static_cast<size_t>(WarmBytes()), PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (m == MAP_FAILED) {
      return absl::InternalError(absl::StrCat("cannot map the object store ", arena_path(), ": ", strerror(errno)));
    }
    warm_ = static_cast<char*>(m);
    AdviseHugePages(m, static_cast<size_t>(WarmBytes()));
    copies_into_ = std::make_unique<std::atomic<uint8_t>[]>(static_cast<size_t>(
        (WarmBytes() + kWarmBlock - 1) / kWarmBlock));
  }
  absl::MutexLock lock(&mu_);
  free_[0] = options_.capacity / kAlign * kAlign;
  return absl::OkStatus();
}

int64_t ObjectStore::Allocate(int64_t size) {
  int64_t need = Aligned(size);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < need) continue;
    int64_t offset = it->first, left = it->second - need;
    free_.erase(it);
    if (left > 0) free_[offset + need] = left;
    used_ += need;
    return offset;
  }
  return -1;
}

void ObjectStore::Release(int64_t offset, int64_t size) {
  int64_t len = Aligned(size);
  used_ -= len;
  auto next = free_.lower_bound(offset);
  int64_t start = offset, end = offset + len;
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      free_.erase(prev);
    }
  }
  if (next != free_.end() && next->first == end) {
    end += next->second;
    free_.erase(next);
  }
  free_[start] = end - start;
  // Memory above the warm part goes back to the system.
  int64_t lo = std::max(offset, WarmBytes());
  if (offset + len > lo) fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, lo, offset + len - lo);
}

int64_t ObjectStore::WarmBytes() const {
  int64_t warm = options_.warm_bytes >= 0 ? options_.warm_bytes : options_.capacity / 2;
  return std::min(warm, options_.capacity / kAlign * kAlign);
}

int64_t ObjectStore::Largest() {
  int64_t best = 0;
  for (auto& [off, len] : free_) best = std::max(best, len);
  return best;
}

std::string ObjectStore::Describe() {
  int pinned = 0;
  for (auto& [id, e] : objects_) pinned += e.primary && e.offset >= 0;
  return absl::StrCat("capacity ", Mib(options_.capacity), ", ", Mib(used_), " used by ", objects_.size(),
                      " objects (", pinned, " primary copies in memory), spilling ",
                      options_.spill_dir.empty() ? "off" : "on");
}

absl::StatusOr<int64_t> ObjectStore::Create(const std::string& id, int64_t size, const ObjectMeta& meta,
                                            bool primary) {
  if (size < 0) return absl::InvalidArgumentError("an object's size cannot be negative");
  absl::MutexLock lock(&mu_);
  if (objects_.contains(id)) return absl::AlreadyExistsError(absl::StrCat("object ", ShortHex(id), " exists"));
  if (size > options_.capacity || Aligned(size) > options_.capacity / kAlign * kAlign) {
    return absl::ResourceExhaustedError(absl::StrCat("an object of ", Mib(size),
                                                     " is larger than the node's object store (",
                                                     Mib(options_.capacity), "; see --object_store_memory)"));
  }
  if (!MakeRoom(size)) {
    return absl::ResourceExhaustedError(absl::StrCat("the object store has no room for ", Mib(size), ": ",
                                                     Describe()));
  }
  int64_t offset = Allocate(size);
  Entry& e = objects_[id];
  e.size = size;
  e.offset = offset;
  e.primary = primary;
  e.meta = meta;
  e.created_ms = NowMs();
  e.last_use = ++clock_;
  return offset;
}

bool ObjectStore::MakeRoom(int64_t size) {
  while (Largest() < Aligned(size)) {
    // The least recently used sealed, unpinned object in memory: a cached
    // copy if there is one (evicted), else a primary copy (spilled).
    std::string victim;
    const Entry* best = nullptr;
    for (auto& [id, e] : objects_) {
      if (!e.sealed || e.offset < 0 || !e.pins.empty() || e.freed) continue;
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
  std::string dest = SpillPath(id);
  std::string part = dest + ".part";
  int out = open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  off_t from = e.offset;
  int64_t done = 0;
  while (out >= 0 && done < e.size) {
    ssize_t n = sendfile(out, fd_, &from, static_cast<size_t>(e.size - done));
    if (n <= 0) break;
    done += n;
  }
  if (out >= 0) close(out);
  if (done != e.size || rename(part.c_str(), dest.c_str()) != 0) {
    LOG(WARNING) << "cannot spill object " << ShortHex(id) << " to " << options_.spill_dir << ": " << strerror(errno);
    unlink(part.c_str());
    return false;
  }
  Release(e.offset, e.size);
  e.offset = -1;
  spilled_bytes_ += e.size;
  ++num_spilled_;
  VLOG(1) << "spilled object " << ShortHex(id) << " (" << e.size << " bytes)";
  return true;
}

absl::Status ObjectStore::Seal(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end()) return absl::NotFoundError(absl::StrCat("no object ", ShortHex(id), " is being written"));
  if (it->second.freed && it->second.pins.empty()) {
    Erase(id, nullptr);
    return absl::NotFoundError(absl::StrCat("object ", ShortHex(id), " was freed while it was being written"));
  }
  it->second.sealed = true;
  return absl::OkStatus();
}

void ObjectStore::Abort(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || it->second.sealed) return;
  if (it->second.pins.empty()) {
    Erase(id, nullptr);
  } else {
    it->second.freed = true;
  }
}

void ObjectStore::Erase(const std::string& id, Holders* holders) {
  auto it = objects_.find(id);
  if (it == objects_.end()) return;
  Entry& e = it->second;
  if (e.offset >= 0) {
    Release(e.offset, e.size);
  } else {
    unlink(SpillPath(id).c_str());
    spilled_bytes_ -= e.size;
    --num_spilled_;
  }
  if (holders) {
    for (auto& h : e.holders) (*holders)[h].push_back(id);
  }
  objects_.erase(it);
}

void ObjectStore::FreeOne(const std::string& id, Holders* holders) {
  auto it = objects_.find(id);
  if (it == objects_.end()) return;
  Entry& e = it->second;
  // An object being written is dropped by its writer (Seal or Abort).
  if (e.pins.empty() && e.sealed) return Erase(id, holders);
  e.freed = true;
  if (holders) {
    for (auto& h : e.holders) (*holders)[h].push_back(id);
    e.holders.clear();
  }
}

ObjectStore::Holders ObjectStore::Free(const std::vector<std::string>& ids) {
  Holders holders;
  absl::MutexLock lock(&mu_);
  for (auto& id : ids) FreeOne(id, &holders);
  return holders;
}

ObjectStore::Holders ObjectStore::FreeOwnedIf(const std::function<bool(const ObjectMeta&)>& pred) {
  Holders holders;
  absl::MutexLock lock(&mu_);
  std::vector<std::string> ids;
  for (auto& [id, e] : objects_) {
    if (e.primary && !e.freed && pred(e.meta)) ids.push_back(id);
  }
  for (auto& id : ids) FreeOne(id, &holders);
  return holders;
}

bool ObjectStore::IsSealed(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || !it->second.sealed || it->second.freed) return false;
  it->second.last_use = ++clock_;
  return true;
}

bool ObjectStore::Pin(const std::string& id, const std::string& client, ObjectLocation* where) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || !it->second.sealed || it->second.freed) return false;
  Entry& e = it->second;
  if (e.pins.size() >= kMaxPinClients && !e.pins.contains(client)) {
    LOG_EVERY_N(WARNING, 1000) << "object " << ShortHex(id) << " is pinned by " << e.pins.size()
                               << " clients already; refusing another";
    return false;
  }
  e.last_use = ++clock_;
  ++e.pins[client];
  where->offset = e.offset;
  where->size = e.size;
  where->spill_path = e.offset < 0 ? SpillPath(id) : "";
  return true;
}

void ObjectStore::Unpin(const std::string& id, const std::string& client) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end()) return;
  Entry& e = it->second;
  auto p = e.pins.find(client);
  if (p == e.pins.end()) return;
  if (--p->second == 0) e.pins.erase(p);
  if (e.pins.empty() && e.freed && e.sealed) Erase(id, nullptr);  // an unsealed one goes at Seal/Abort
}

void ObjectStore::UnpinAll(const std::string& client) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> gone;
  for (auto& [id, e] : objects_) {
    if (e.pins.erase(client) > 0 && e.pins.empty() && e.freed && e.sealed) gone.push_back(id);
  }
  for (auto& id : gone) Erase(id, nullptr);
}

absl::Status ObjectStore::LendChunk(const std::string& id, int64_t offset, int64_t length,
                                    const std::string& requester, Chunk* out) {
  ObjectLocation where;
  if (!Pin(id, kChunkReader, &where)) return absl::NotFoundError("no such object");
  out->id = id;
  out->total_size = where.size;
  absl::Status status;
  if (offset < 0 || length < 0 || offset + length > where.size) {
    status = absl::OutOfRangeError("the chunk is outside the object");
  } else if (where.offset >= 0) {
    out->in_arena = mapped_ + where.offset + offset;
    out->size = length;
    // One call maps the chunk's pages here, instead of a fault per page as
    // they are sent (the pages exist: the object is sealed).
    int64_t first = (where.offset + offset) / kAlign * kAlign;
    madvise(const_cast<char*>(mapped_) + first, static_cast<size_t>(where.offset + offset + length - first),
            MADV_POPULATE_READ);
  } else {
    int fd = open(where.spill_path.c_str(), O_RDONLY | O_CLOEXEC);
    out->copy.resize(static_cast<size_t>(length));
    ssize_t n = fd < 0 ? -1 : pread(fd, out->copy.data(), out->copy.size(), offset);
    if (fd >= 0) close(fd);
    if (n != length) status = absl::DataLossError("cannot read the object's bytes");
    out->size = length;
  }
  if (!status.ok()) {
    Unpin(id, kChunkReader);
    return status;
  }
  absl::MutexLock lock(&mu_);
  bytes_served_ += length;
  auto it = objects_.find(id);
  if (it != objects_.end() && offset == 0) {
    for (const auto& h : it->second.holders) {
      if (out->holders.size() == kMaxHoldersTold) break;
      if (h != requester) out->holders.push_back(h);
    }
    AddHolder(it->second, requester);
  }
  return status;
}

void ObjectStore::AddHolder(Entry& e, const std::string& requester) {
  // A holder left out is not told when the object is freed: its copy is a
  // cache, evicted when it needs the room.
  if (!requester.empty() && e.holders.size() < kMaxHolders) e.holders.insert(requester);
}

bool ObjectStore::PinToLend(const std::string& id, const std::string& client, const std::string& requester,
                            ObjectLocation* where) {
  if (!Pin(id, client, where)) return false;
  if (where->offset < 0) {  // spilled: read in chunks instead
    Unpin(id, client);
    return false;
  }
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it != objects_.end()) AddHolder(it->second, requester);
  return true;
}

void ObjectStore::ReturnChunk(const Chunk& chunk) { Unpin(chunk.id, kChunkReader); }

absl::StatusOr<int64_t> ObjectStore::WriteAt(const std::string& id, int64_t offset, int64_t length) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || it->second.sealed) return absl::NotFoundError("no such object being written");
  if (offset < 0 || length < 0 || offset + length > it->second.size) {
    return absl::OutOfRangeError("the chunk is outside the object");
  }
  // Unsealed objects are never moved or reused: the range stays this
  // object's after the lock is gone.
  return it->second.offset + offset;
}

absl::Status ObjectStore::Write(const std::string& id, int64_t offset, const std::vector<absl::string_view>& parts) {
  int64_t length = 0;
  for (auto p : parts) length += static_cast<int64_t>(p.size());
  auto at_or = WriteAt(id, offset, length);
  if (!at_or.ok()) return at_or.status();
  std::vector<iovec> iov;
  for (auto p : parts) {
    if (!p.empty()) iov.push_back({const_cast<char*>(p.data()), p.size()});
  }
  size_t next = 0;
  int64_t at = *at_or;
  while (next < iov.size()) {
    int n = static_cast<int>(std::min<size_t>(iov.size() - next, IOV_MAX));
    ssize_t wrote = pwritev(fd_, iov.data() + next, n, at);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) {
      return absl::ResourceExhaustedError(absl::StrCat("cannot write to the object store: ", strerror(errno)));
    }
    at += wrote;
    // Skip what was written; a part written in part is moved on.
    for (auto left = static_cast<size_t>(wrote); left > 0 && next < iov.size();) {
      size_t take = std::min(left, iov[next].iov_len);
      iov[next].iov_base = static_cast<char*>(iov[next].iov_base) + take;
      iov[next].iov_len -= take;
      left -= take;
      if (iov[next].iov_len == 0) ++next;
    }
  }
  return absl::OkStatus();
}

bool ObjectStore::ThroughMapping(int64_t arena_offset, int64_t object_start) {
  if (huge_pages_) return true;  // on 2 MiB pages a first touch costs little: nothing to count
  const int64_t block = arena_offset / kWarmBlock;
  auto& count = copies_into_[static_cast<size_t>(block)];
  uint8_t before = count.load(std::memory_order_relaxed);
  // Counted once per object that lands in the block: by the write of the
  // object's first byte there (not by a read that ended short and comes
  // back, nor by another part of the object starting in the block).
  if (arena_offset == std::max(object_start, block * kWarmBlock) && before < UINT8_MAX) {
    count.store(before + 1, std::memory_order_relaxed);
  }
  return before >= kCopiesBeforeMapping;
}

absl::Status ObjectStore::WriteFrom(const std::string& id, int64_t offset, int src_fd, int64_t src_offset,
                                    int64_t length) {
  auto at = WriteAt(id, offset, length);
  if (!at.ok()) return at.status();
  bool mapping = warm_ != nullptr, kernel_copies = true;
  std::string buffer;
  for (int64_t done = 0; done < length;) {
    loff_t in = src_offset + done, out = *at + done;
    int64_t n = length - done;
    // The warm part, a block at a time: its pages and this process's
    // mapping of them stay, so once a block has been copied into a few
    // times the kernel reads into the mapped range, a copy at memory speed
    // (a range's first touch through a mapping is costly on some VMs: it is
    // paid only where copies keep landing). A page the kernel cannot
    // allocate ends the read short: an error, not a SIGBUS here.
    bool mapped = false;
    if (mapping && out < WarmBytes()) {
      n = std::min({n, (out / kWarmBlock + 1) * kWarmBlock - out, WarmBytes() - out});
      mapped = ThroughMapping(out, *at - offset);
    }
    ssize_t got;
    std::atomic<int64_t>* counted = &copied_file_to_file_;
    if (mapped) {
      got = pread(src_fd, warm_ + out, static_cast<size_t>(std::min(n, kReadBytes)), in);
      if (got < 0 && errno != EINTR) mapping = false;  // file to file from here on
      counted = &copied_through_mapping_;
    } else if (kernel_copies) {
      // Elsewhere the kernel copies from file to file, page by page, with no
      // mapping to fault in.
      got = copy_file_range(src_fd, &in, fd_, &out, static_cast<size_t>(n), 0);
      if (got < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
        kernel_copies = false;  // files it cannot copy between (other file systems, older kernels)
        continue;
      }
      if (got < 0 && errno != EINTR) {
        return absl::ResourceExhaustedError(absl::StrCat("cannot copy into the object store: ", strerror(errno)));
      }
    } else {
      // Through a buffer, written as a chunk is.
      counted = &copied_through_buffer_;
      buffer.resize(static_cast<size_t>(std::min<int64_t>(length - done, 4 << 20)));
      got = pread(src_fd, buffer.data(), static_cast<size_t>(std::min<int64_t>(n, buffer.size())), in);
      if (got < 0 && errno != EINTR) return absl::DataLossError("cannot read the source");
      if (got > 0) {
        auto s = Write(id, offset + done, absl::string_view(buffer.data(), static_cast<size_t>(got)));
        if (!s.ok()) return s;
      }
    }
    if (got == 0) return absl::DataLossError("the source ended before the object did");
    if (got > 0) {
      done += got;
      counted->fetch_add(got, std::memory_order_relaxed);
    }
  }
  return absl::OkStatus();
}

ObjectStore::CopiedBytes ObjectStore::copied_bytes() const {
  return {copied_file_to_file_.load(), copied_through_mapping_.load(), copied_through_buffer_.load()};
}

void ObjectStore::DropStaleWrites(int64_t now_ms, int64_t max_age_ms) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> stale;
  for (auto& [id, e] : objects_) {
    if (!e.sealed && e.pins.empty() && now_ms - e.created_ms > max_age_ms) stale.push_back(id);
  }
  for (auto& id : stale) {
    LOG(WARNING) << "dropping object " << ShortHex(id) << ": created but never sealed";
    Erase(id, nullptr);
  }
}

std::vector<proto::ObjectState> ObjectStore::List(size_t limit, bool* truncated) {
  absl::MutexLock lock(&mu_);
  std::vector<proto::ObjectState> out;
  for (auto& [id, e] : objects_) {
    if (out.size() >= limit) break;
    proto::ObjectState o;
    o.set_object_id(id);
    o.set_size(e.size);
    o.set_owner(e.meta.owner);
    o.set_job_id(e.meta.job_id);
    o.set_state(!e.sealed ? "WRITING" : e.offset < 0 ? "SPILLED" : "IN_MEMORY");
    o.set_primary(e.primary);
    int pins = 0;
    for (auto& [client, n] : e.pins) pins += n;
    o.set_pins(pins);
    o.set_created_ms(e.created_ms);
    out.push_back(std::move(o));
  }
  *truncated = objects_.size() > out.size();
  return out;
}

proto::ObjectStoreInfo ObjectStore::Info() {
  proto::ObjectStoreInfo info;
  info.set_dir(options_.dir);
  info.set_arena(arena_path());
  info.set_spill_dir(options_.spill_dir);
  info.set_capacity(options_.capacity);
  info.set_inline_threshold(options_.inline_threshold);
  info.set_huge_pages(huge_pages_);
  absl::MutexLock lock(&mu_);
  info.set_used(used_);
  info.set_num_objects(static_cast<int64_t>(objects_.size()));
  info.set_spilled_bytes(spilled_bytes_);
  info.set_num_spilled(num_spilled_);
  info.set_bytes_served(bytes_served_);
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
