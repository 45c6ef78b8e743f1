// ObjectPuller: copies objects stored on other nodes into this node's store,
// in chunks, several chunks at once over a few connections to each source
// (one connection is one stream of bytes through one thread at each end);
// each chunk goes from gRPC's buffers straight into the arena
// (object_chunks.h). The first chunk comes from the node holding the
// primary copy, which names the other nodes that pulled a copy; the rest
// are read from all of them in turn, and a chunk a holder cannot give (its
// copy gone, or the node) is read from the primary instead. Concurrent
// pulls of one object share the work.
// From a raylet of this host, an object of kLendMinBytes or more is copied
// whole from its arena instead (same_host_copy.h), on the puller's own
// copying threads (kCopiers; a large object in parts, one per thread); if
// that is not possible, in chunks.
// Thread-safe; `done` callbacks run on the client queue's thread or the
// copying thread.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/async_call.h"
#include "common/memory.h"
#include "common/rpc.h"
#include "proto/raylet.grpc.pb.h"
#include "raylet/object_chunks.h"
#include "raylet/object_store.h"
#include "raylet/same_host_copy.h"

namespace glint::raylet {

class ObjectPuller {
 public:
  static constexpr int64_t kChunkBytes = 4 << 20;
  static constexpr int kInFlight = 4;
  static constexpr int kLanes = 2;  // connections to one source
  static constexpr int64_t kLendMinBytes = 1 << 20;
  static constexpr int64_t kLoanMs = 30000;  // a copy that takes longer is not trusted
  static constexpr size_t kCopiers = 2;
  static constexpr int64_t kCopyPartMinBytes = 32 << 20;
  using Done = std::function<void(const absl::Status&)>;

  // Borrows `store` and `queue` (they must outlive it); `self` is
  // this raylet's address, which the source records as holding a copy.
  // `same_host_copy`: ask raylets of this host to lend objects.
  ObjectPuller(ObjectStore* store, ClientQueue* queue, std::string self, bool same_host_copy = true)
      : store_(store), queue_(queue), self_(std::move(self)), same_host_copy_(same_host_copy) {}
  ~ObjectPuller() { Stop(); }
  // Ends the copying threads (copies under way end first; pulls waiting to
  // copy fail). Call it after the client queue is closed.
  void Stop();

  // Makes object `id` (stored at `source`) sealed in this node's store, then
  // calls `done` (at once if it is here already).
  void Pull(const std::string& id, const proto::StoredObject& source, Done done);

  // While pulls run, and for kKeepMemoryMs after, freed heap memory stays
  // with this process (gRPC's buffers for the chunks stay warm, see
  // common/memory.h); this gives it back after that (call it now and then).
  static constexpr int64_t kKeepMemoryMs = 2000;
  void GiveBackIdleMemory(int64_t now_ms);

 private:
  struct Transfer {
    std::string id;
    proto::StoredObject source;
    std::vector<Done> waiters;  // guarded by ObjectPuller::mu_
    absl::Mutex mu;
    int64_t next = 0;      // guarded by mu
    int in_flight = 0;     // guarded by mu
    absl::Status error;    // guarded by mu once started
    // Where chunks are read from, the primary first (guarded by mu); a
    // holder that failed once is dropped.
    std::vector<std::string> sources;
    size_t turn = 0;       // guarded by mu
  };
  // An object lent by a raylet of this host, being copied in parts.
  struct LentCopy {
    std::shared_ptr<Transfer> t;
    proto::LendObjectReply lent;
    absl::Time asked;  // when the loan was asked for
    std::unique_ptr<LentArena> arena;
    absl::Mutex mu;
    int parts_left = 0;   // guarded by mu
    absl::Status status;  // the first part's failure; guarded by mu while parts run
  };
  // Asks the source to lend the object, then copies it (or falls back to chunks).
  void Borrow(const std::shared_ptr<Transfer>& t);
  // Opens the lender's arena and copies the object in parts (on the copying threads).
  void CopyLent(const std::shared_ptr<Transfer>& t, const proto::LendObjectReply& lent, absl::Time asked);
  void CopyPart(const std::shared_ptr<LentCopy>& copy, int64_t offset, int64_t length);
  // After the last part: gives the loan back, then seals the object, or reads it in chunks.
  void EndCopy(const std::shared_ptr<LentCopy>& copy);
  void GiveBackLoan(const std::string& lender, const std::string& id, const std::string& client);
  void ChunksOnly(const std::string& source);
  // Reads the object in chunks, kInFlight at once.
  void ReadChunks(const std::shared_ptr<Transfer>& t);
  // Runs `copy` on a copying thread; false once stopped.
  bool PostCopy(std::function<void()> copy);
  // Asks for the next chunk from the next source.
  void ReadNext(const std::shared_ptr<Transfer>& t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(t->mu);
  void Read(const std::shared_ptr<Transfer>& t, int64_t offset, int64_t length, const std::string& from)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(t->mu);
  void Finish(const std::shared_ptr<Transfer>& t);

  ObjectStore* const store_;
  ClientQueue* const queue_;
  StubCache<ChunkService> chunk_stubs_;
  StubCache<proto::RayletService> raylet_stubs_;
  const std::string self_;
  const bool same_host_copy_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Transfer>> transfers_ ABSL_GUARDED_BY(mu_);
  // Sources that cannot lend to this raylet (another host, or lending off).
  absl::flat_hash_set<std::string> chunks_only_ ABSL_GUARDED_BY(mu_);
  absl::Mutex copy_mu_;
  std::deque<std::function<void()>> copies_ ABSL_GUARDED_BY(copy_mu_);
  bool stopped_ ABSL_GUARDED_BY(copy_mu_) = false;
  std::vector<std::thread> copiers_ ABSL_GUARDED_BY(copy_mu_);  // started with the first copies
  std::unique_ptr<KeepFreedMemory> keep_ ABSL_GUARDED_BY(mu_);
  int64_t last_pull_end_ms_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace glint::raylet
