// NodeStore: this process's side of its node's object store (see
// raylet/object_store.h): writing large values into the arena, reading them
// (pinned while read), pulling copies from other nodes, freeing. Thread-safe
// once connected. Bytes read from the store stay valid after Stop() (they
// keep the mapping); their pins are then dropped by the raylet, not here.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/async_call.h"
#include "common/object_file.h"
#include "common/rpc.h"
#include "glint/internal/runtime_api.h"
#include "proto/raylet.grpc.pb.h"

namespace glint::internal {

class NodeStore {
 public:
  // `full_wait_ms`: how long a write waits for room in a full store.
  // Borrows `queue` and `raylets` until Stop().
  NodeStore(ClientQueue* queue, StubCache<proto::RayletService>* raylets, int64_t full_wait_ms)
      : queue_(queue), raylets_(raylets), full_wait_ms_(full_wait_ms) {}
  ~NodeStore() { Stop(); }

  // Reads the store's settings from the node's raylet and maps its arena.
  // `client` names this process in pins; `job_id` is recorded with its objects.
  absl::Status Connect(const std::string& raylet, const std::string& node_id, const std::string& client,
                       const std::string& job_id);
  // Values of at least this many bytes go to the store.
  size_t inline_threshold() const { return inline_threshold_; }

  // Makes object `id`, owned by `owner`, from `write`: its value (where it
  // is stored), or an error value (e.g. the store is full).
  proto::ObjectValue Store(const std::string& id, size_t size, const std::function<void(char*)>& write,
                           const proto::Address& owner);
  // Frees a stored object on the node that has its primary copy (which
  // tells the nodes holding copies).
  void Free(const std::string& id, const proto::StoredObject& s);
  // A value is here when it is inline or stored on this node. (A copy pulled
  // here earlier is found by pulling again, which is answered at once.)
  bool IsLocal(const proto::ObjectValue& v) const;
  // Copies a stored object from another node into this node's store; `done`
  // gets the error, if any.
  void Pull(const std::string& id, const proto::StoredObject& s,
            std::function<void(std::optional<proto::ObjectValue> error)> done);
  // The bytes of a ready value: inline, or the stored object read in place
  // (pulled from another node first). False, with `v` turned into the
  // error, if that fails.
  bool Materialize(const std::string& id, proto::ObjectValue& v, Bytes* out);
  // Pins released from now on are not reported (the queue is about to go).
  void Stop();

 private:
  // What a pin needs to unpin itself, shared with the pins still held.
  struct Unpinner {
    absl::Mutex mu;
    ClientQueue* queue ABSL_GUARDED_BY(mu) = nullptr;  // null once stopped
    std::shared_ptr<proto::RayletService::Stub> raylet ABSL_GUARDED_BY(mu);
  };
  std::optional<proto::ObjectValue> PullSync(const std::string& id, const proto::StoredObject& s);
  // Pins a sealed object in this node's store and points `out` at it; false
  // if the store does not have it (`error` set when something else failed).
  bool Pin(const std::string& id, Bytes* out, std::optional<proto::ObjectValue>* error);

  ClientQueue* const queue_;
  StubCache<proto::RayletService>* const raylets_;
  const int64_t full_wait_ms_;
  std::shared_ptr<Unpinner> unpinner_ = std::make_shared<Unpinner>();
  std::string raylet_;   // "ip:port" of this node's raylet
  std::string node_id_;
  std::string client_;
  std::string job_id_;
  size_t inline_threshold_ = 100 * 1024;
  std::shared_ptr<MappedFile> arena_;  // mapped while this or a read's bytes hold it
};

}  // namespace glint::internal
