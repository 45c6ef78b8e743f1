// ObjectStore: a node's store of large objects, shared by every process on
// the node. Each object is one file in a shared-memory directory (tmpfs), so
// readers map it without a copy through a socket, and freeing it gives the
// memory straight back (no allocator inside a big arena to fragment).
//
// Object lifecycle: Create (room reserved, "<id>.part" made) -> the writer
// fills it -> Seal (renamed to "<id>", visible to readers) -> Free. A primary
// copy (made by the process that produced the value) stays until its owner
// frees it; when memory runs short it is spilled to disk (copied, then the
// in-memory file unlinked). A secondary copy (pulled from another node) is a
// cache: it is evicted, least recently used first, to make room.
//
// Readers that have a file mapped keep reading it after it is unlinked.
// Thread-safe (one lock; spilling copies under it).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/common.pb.h"

namespace glint::raylet {

struct ObjectStoreOptions {
  std::string dir;        // made if missing; its object files are removed at destruction
  std::string spill_dir;  // "": never spill
  int64_t capacity = 0;   // bytes of objects in memory
  int64_t inline_threshold = 100 * 1024;
  // Spilling keeps this much disk free.
  int64_t spill_reserve_bytes = 256 << 20;
};

struct ObjectMeta {
  std::string owner;            // "ip:port" of the owning process
  std::string owner_worker_id;
  std::string job_id;
};

class ObjectStore {
 public:
  explicit ObjectStore(ObjectStoreOptions options);
  ~ObjectStore();  // Clear()s
  absl::Status Init();
  // Deletes every object's file and the directory (when the node stops).
  void Clear();

  // Reserves `size` bytes (evicting cached copies and spilling primaries if
  // needed) and makes the file to write, whose path it returns. AlreadyExists
  // when the object is here or being written; ResourceExhausted when full.
  absl::StatusOr<std::string> Create(const std::string& id, int64_t size, const ObjectMeta& meta,
                                     bool primary);
  absl::Status Seal(const std::string& id);
  // Drops an object being written (the writer failed).
  void Abort(const std::string& id);

  // Raylets holding pulled copies of the freed objects, with those objects.
  using Holders = std::map<std::string, std::vector<std::string>>;
  Holders Free(const std::vector<std::string>& ids);
  // Frees the primary copies whose owner matches.
  Holders FreeOwnedIf(const std::function<bool(const ObjectMeta&)>& pred);

  bool IsSealed(const std::string& id);
  // A sealed object's file (in memory or spilled) and size, for a raylet
  // reading it in chunks; `requester` is then told when it is freed.
  bool Locate(const std::string& id, const std::string& requester, std::string* path, int64_t* size);
  // Drops objects left unsealed longer than `max_age_ms` (their writer died).
  void DropStaleWrites(int64_t now_ms, int64_t max_age_ms);

  proto::ObjectStoreInfo Info();
  const ObjectStoreOptions& options() const { return options_; }

 private:
  struct Entry {
    int64_t size = 0;
    bool sealed = false;
    bool primary = false;
    bool spilled = false;
    int64_t created_ms = 0;
    uint64_t last_use = 0;
    ObjectMeta meta;
    absl::flat_hash_set<std::string> holders;  // raylets that pulled a copy
  };
  // Frees memory until `size` more bytes fit; false if they cannot.
  bool MakeRoom(int64_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Spill(const std::string& id, Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Erase(const std::string& id, Holders* holders) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Describe() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ObjectStoreOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> objects_ ABSL_GUARDED_BY(mu_);
  int64_t used_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t spilled_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t num_spilled_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t clock_ ABSL_GUARDED_BY(mu_) = 0;
};

// The default capacity: 30% of the machine's memory, at most 80% of what the
// store directory's file system has free.
int64_t DefaultStoreCapacity(const std::string& dir);
// Parses a size like "512M", "2G", "1048576".
absl::StatusOr<int64_t> ParseBytes(const std::string& s);

}  // namespace glint::raylet
