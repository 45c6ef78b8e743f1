// ObjectStore: a node's store of large objects, shared by every process on
// the node. Objects live in one shared-memory file (the arena, in a tmpfs
// directory) that every process maps once and keeps mapped, so writing or
// reading an object touches memory that is already mapped: on machines
// where a page fault is costly this is what makes the store fast (see
// docs/design-notes.md). Ranges of the arena are handed out first-fit, so a
// store that is put into and freed from keeps reusing warm memory; freed
// ranges beyond `warm_bytes` are given back to the system. In a tmpfs
// mounted with huge pages the arena's pages are 2 MiB (huge_pages()).
//
// Object lifecycle: Create (a range reserved) -> the writer fills it -> Seal
// (visible to readers) -> Free. A primary copy (made by the process that
// produced the value) stays until its owner frees it; when memory runs short
// it is spilled to disk (copied to a file of its own, its range reused). A
// secondary copy (pulled from another node) is a cache: it is evicted, least
// recently used first, to make room.
//
// Readers pin an object while they read it (Pin/Unpin, per client): a
// pinned object is never spilled, evicted or reused; freeing it takes effect
// when the last pin goes. A client's pins go when it exits (UnpinAll).
// Thread-safe (one lock; spilling copies under it).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "proto/common.pb.h"
#include "proto/raylet.pb.h"

namespace glint::raylet {

struct ObjectStoreOptions {
  std::string dir;        // made if missing; the arena file is made in it and removed at Clear()
  std::string spill_dir;  // "": never spill
  int64_t capacity = 0;   // bytes of objects in memory (the arena's size)
  int64_t inline_threshold = 100 * 1024;
  // Spilling keeps this much disk free.
  int64_t spill_reserve_bytes = 256 << 20;
  // Freed memory below this offset of the arena stays allocated for reuse
  // (< 0: half the capacity, so a large object and the next one both stay warm).
  int64_t warm_bytes = -1;
};

struct ObjectMeta {
  std::string owner;            // "ip:port" of the owning process
  std::string owner_worker_id;
  std::string job_id;
};

// Where a sealed object's bytes are: a range of the arena, or a spill file.
struct ObjectLocation {
  int64_t offset = -1;     // in the arena; -1 when spilled
  int64_t size = 0;
  std::string spill_path;  // when spilled
};

class ObjectStore {
 public:
  explicit ObjectStore(ObjectStoreOptions options);
  ~ObjectStore();  // Clear()s
  absl::Status Init();
  // Deletes the arena and every spilled file (when the node stops).
  void Clear();

  // Reserves `size` bytes (evicting cached copies and spilling primaries if
  // needed); returns the offset in the arena to write at. AlreadyExists when
  // the object is here or being written; ResourceExhausted when full.
  absl::StatusOr<int64_t> Create(const std::string& id, int64_t size, const ObjectMeta& meta, bool primary);
  absl::Status Seal(const std::string& id);
  // Drops an object being written (the writer failed).
  void Abort(const std::string& id);

  // Raylets holding pulled copies of the freed objects, with those objects.
  using Holders = std::map<std::string, std::vector<std::string>>;
  Holders Free(const std::vector<std::string>& ids);
  // Frees the primary copies whose owner matches.
  Holders FreeOwnedIf(const std::function<bool(const ObjectMeta&)>& pred);

  bool IsSealed(const std::string& id);
  // Distinct clients pinning one object (the processes of a node), and
  // raylets recorded as holding a copy (the nodes of a cluster).
  static constexpr size_t kMaxPinClients = 10000;
  static constexpr size_t kMaxHolders = 10000;
  static constexpr size_t kMaxHoldersTold = 3;
  // Pins a sealed object for `client` and says where it is; false if absent
  // (or already pinned by kMaxPinClients others).
  bool Pin(const std::string& id, const std::string& client, ObjectLocation* where);
  void Unpin(const std::string& id, const std::string& client);
  // A client is gone: its pins go.
  void UnpinAll(const std::string& client);
  // Pins a sealed object in the arena for `client`, a raylet of this host
  // copying it whole (object_lender.h), and records `requester` as holding
  // a copy; false if absent, unsealed or spilled.
  bool PinToLend(const std::string& id, const std::string& client, const std::string& requester,
                 ObjectLocation* where);
  // Part of a sealed object lent to a raylet pulling it (which is then told
  // when the object is freed): its bytes are in the arena, and stay valid,
  // the object pinned, until ReturnChunk; nothing is copied. A spilled
  // object's part is read into `copy`.
  struct Chunk {
    std::string id;
    const char* in_arena = nullptr;  // null for a spilled object's part
    std::string copy;
    int64_t size = 0;
    int64_t total_size = 0;  // the whole object's
    // Lent at offset 0: other raylets recorded as holding a copy (at most
    // kMaxHoldersTold), which the puller may read the rest from.
    std::vector<std::string> holders;
    const char* data() const { return in_arena ? in_arena : copy.data(); }
  };
  // NotFound if absent; OutOfRange for a part outside the object.
  absl::Status LendChunk(const std::string& id, int64_t offset, int64_t length, const std::string& requester,
                         Chunk* out);
  void ReturnChunk(const Chunk& chunk);
  // Writes part of an object being written (a pull), from `parts` in order.
  absl::Status Write(const std::string& id, int64_t offset, const std::vector<absl::string_view>& parts);
  absl::Status Write(const std::string& id, int64_t offset, absl::string_view data) {
    return Write(id, offset, std::vector<absl::string_view>{data});
  }
  // Writes `length` bytes at `offset` of an object being written from the
  // file `src_fd` at `src_offset` (a copy between raylets of one host).
  // Writes to different parts of an object may run at once.
  absl::Status WriteFrom(const std::string& id, int64_t offset, int src_fd, int64_t src_offset, int64_t length);
  // Copies into a block of the warm part that go file to file before the
  // block is copied into through the mapping (see WriteFrom); none when the
  // arena is on 2 MiB pages (huge_pages()).
  static constexpr uint8_t kCopiesBeforeMapping = 4;
  static constexpr int64_t kWarmBlock = 4 << 20;
  // Bytes WriteFrom copied, by how.
  struct CopiedBytes {
    int64_t file_to_file = 0;
    int64_t through_mapping = 0;
    int64_t through_buffer = 0;
  };
  CopiedBytes copied_bytes() const;
  // The arena is on 2 MiB pages (its directory is a tmpfs mounted so;
  // common/huge_pages.h). Known after Init().
  bool huge_pages() const { return huge_pages_; }
  // Drops objects left unsealed longer than `max_age_ms` (their writer died).
  void DropStaleWrites(int64_t now_ms, int64_t max_age_ms);

  proto::ObjectStoreInfo Info();
  // The objects here (at most `limit`), as `glint list objects` shows them;
  // *truncated when there are more.
  std::vector<proto::ObjectState> List(size_t limit, bool* truncated);
  const ObjectStoreOptions& options() const { return options_; }
  std::string arena_path() const;

 private:
  struct Entry {
    int64_t size = 0;
    int64_t offset = -1;  // in the arena; -1 once spilled
    bool sealed = false;
    bool primary = false;
    bool freed = false;   // freed while pinned: goes with the last pin
    int64_t created_ms = 0;
    uint64_t last_use = 0;
    ObjectMeta meta;
    absl::flat_hash_set<std::string> holders;     // raylets that pulled a copy
    absl::flat_hash_map<std::string, int> pins;   // client -> count
  };
  // Frees memory until `size` more bytes fit; false if they cannot.
  bool MakeRoom(int64_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Where in the arena to write `length` bytes at `offset` of an object being written.
  absl::StatusOr<int64_t> WriteAt(const std::string& id, int64_t offset, int64_t length);
  // `requester` will be told when the object is freed (up to kMaxHolders).
  void AddHolder(Entry& e, const std::string& requester) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Spill(const std::string& id, Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes an unpinned object (its range or spill file); collects holders.
  void Erase(const std::string& id, Holders* holders) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Erase, or, if pinned, mark it to go with its last pin.
  void FreeOne(const std::string& id, Holders* holders) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Arena ranges (4 KiB aligned, first fit); -1 if nothing fits.
  int64_t Allocate(int64_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Release(int64_t offset, int64_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t Largest() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Where the warm part of the arena ends (see warm_bytes).
  int64_t WarmBytes() const;
  // Counts a copy of the object at `object_start` that lands in the warm
  // part's block at `arena_offset`; true if it goes through warm_.
  bool ThroughMapping(int64_t arena_offset, int64_t object_start);
  std::string SpillPath(const std::string& id) const;
  std::string Describe() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ObjectStoreOptions options_;
  int fd_ = -1;  // the arena
  // The arena mapped read-only, for good: chunks are lent from it.
  const char* mapped_ = nullptr;
  // Its warm part mapped again, writable, for the kernel to read copies into
  // (WriteFrom). This process never stores to either mapping itself: writes
  // go through fd_ or are the kernel's (pread), so a full tmpfs is an error,
  // never a SIGBUS in the daemon.
  char* warm_ = nullptr;
  // Per kWarmBlock of warm_: how many copies have landed in it (up to 255).
  std::unique_ptr<std::atomic<uint8_t>[]> copies_into_;
  bool huge_pages_ = false;  // the arena's file system gives it 2 MiB pages
  std::atomic<int64_t> copied_file_to_file_{0}, copied_through_mapping_{0}, copied_through_buffer_{0};
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> objects_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, int64_t> free_ ABSL_GUARDED_BY(mu_);  // offset -> length
  int64_t used_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t spilled_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t num_spilled_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t bytes_served_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t clock_ ABSL_GUARDED_BY(mu_) = 0;
};

// The default capacity: 30% of the machine's memory, at most 80% of what the
// store directory's file system has free.
int64_t DefaultStoreCapacity(const std::string& dir);
// Parses a size like "512M", "2G", "1048576".
absl::StatusOr<int64_t> ParseBytes(const std::string& s);

}  // namespace glint::raylet
