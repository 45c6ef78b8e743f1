// NodeManager: the cluster's nodes, their resources and their health.
//
// Node lifecycle:  (RegisterNode) -> ALIVE --(no heartbeat for timeout)--> DEAD
// A dead node never comes back under the same id; a restarted raylet
// registers anew. Thread-safe.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "gcs/store.h"
#include "proto/common.pb.h"

namespace glint::gcs {

class NodeManager {
 public:
  using DeathListener = std::function<void(const proto::NodeInfo&)>;
  NodeManager(GcsStore* store, int64_t heartbeat_timeout_ms)
      : store_(store), timeout_ms_(heartbeat_timeout_ms) {}

  void AddDeathListener(DeathListener l) { listeners_.push_back(std::move(l)); }
  void Register(proto::NodeInfo node, int64_t now_ms);
  // False when the node is unknown or dead (it must register again).
  bool Heartbeat(const std::string& node_id, const google::protobuf::Map<std::string, double>& avail,
                 int64_t num_workers, int64_t now_ms, const proto::ObjectStoreInfo* store = nullptr);
  // Marks nodes silent for longer than the timeout as dead.
  void CheckHealth(int64_t now_ms);
  std::vector<proto::NodeInfo> All();
  std::optional<proto::NodeInfo> Get(const std::string& node_id);
  // An alive node to run `demand` on: one with the resources free now, the
  // preferred node first; else one whose totals fit (it will queue); else none.
  std::optional<proto::NodeInfo> PickNode(const google::protobuf::Map<std::string, double>& demand,
                                          const std::string& preferred_node);

 private:
  void MarkDead(proto::NodeInfo& node, const std::string& cause);
  GcsStore* store_;
  const int64_t timeout_ms_;
  std::vector<DeathListener> listeners_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, proto::NodeInfo> nodes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int64_t> last_seen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace glint::gcs
