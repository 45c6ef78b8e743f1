// ObjectPuller: copies objects stored on other nodes into this node's store,
// in chunks, several chunks at once; concurrent pulls of one object share
// the work. Thread-safe; `done` callbacks run on the client queue's thread.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/async_call.h"
#include "proto/raylet.grpc.pb.h"
#include "raylet/object_store.h"

namespace glint::raylet {

class ObjectPuller {
 public:
  static constexpr int64_t kChunkBytes = 4 << 20;
  static constexpr int kInFlight = 4;
  using Done = std::function<void(const absl::Status&)>;

  // Borrows `store`, `queue` and `raylets` (they must outlive it); `self` is
  // this raylet's address, which the source records as holding a copy.
  ObjectPuller(ObjectStore* store, ClientQueue* queue, StubCache<proto::RayletService>* raylets, std::string self)
      : store_(store), queue_(queue), raylets_(raylets), self_(std::move(self)) {}

  // Makes object `id` (stored at `source`) sealed in this node's store, then
  // calls `done` (at once if it is here already).
  void Pull(const std::string& id, const proto::StoredObject& source, Done done);

 private:
  struct Transfer {
    std::string id;
    proto::StoredObject source;
    std::vector<Done> waiters;  // guarded by ObjectPuller::mu_
    absl::Mutex mu;
    int64_t next = 0;      // guarded by mu
    int in_flight = 0;     // guarded by mu
    absl::Status error;    // guarded by mu once started
  };
  void ReadNext(const std::shared_ptr<Transfer>& t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(t->mu);
  void Finish(const std::shared_ptr<Transfer>& t);

  ObjectStore* const store_;
  ClientQueue* const queue_;
  StubCache<proto::RayletService>* const raylets_;
  const std::string self_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Transfer>> transfers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace glint::raylet
