// NodeManager: the cluster's nodes, their resources and their health.
//
// Node lifecycle:  (RegisterNode) -> ALIVE --(no heartbeat for timeout)--> DEAD
// A raylet registers with a secret of its own and sends it with each
// heartbeat: only it speaks for its node id. A raylet the GCS buried (or a
// restarted GCS forgot) registers again under its id and secret. The store
// keeps each node's record and a hash of its secret (not the secret): a GCS
// that restarts reads them back (Recover), holds the nodes alive for one
// heartbeat timeout, and asks each raylet to register again (under the same
// id and secret, with its resources as they are now); those that do not are
// declared dead then.
// At most kMaxNodes are alive, and the kMaxDeadNodes that died last are
// remembered. Thread-safe.
#pragma once
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "gcs/store.h"
#include "common/resources.h"
#include "proto/common.pb.h"

namespace glint::gcs {

class NodeManager {
 public:
  using DeathListener = std::function<void(const proto::NodeInfo&)>;
  NodeManager(GcsStore* store, int64_t heartbeat_timeout_ms)
      : store_(store), timeout_ms_(heartbeat_timeout_ms) {}

  void AddDeathListener(DeathListener l) { listeners_.push_back(std::move(l)); }
  static constexpr size_t kMaxNodes = 10000;
  static constexpr size_t kMaxDeadNodes = 1000;

  // ALREADY_EXISTS when the id is alive under another secret,
  // RESOURCE_EXHAUSTED past kMaxNodes.
  absl::Status Register(proto::NodeInfo node, const std::string& secret, int64_t now_ms);
  // NOT_FOUND when the node is unknown (it must register again),
  // PERMISSION_DENIED when `secret` is not the one it registered with,
  // FAILED_PRECONDITION when it was declared dead (its actors were restarted
  // elsewhere: its workers must go before it registers again).
  absl::Status Heartbeat(const std::string& node_id, const std::string& secret,
                         const google::protobuf::Map<std::string, double>& avail, int64_t num_workers, int64_t now_ms,
                         const proto::ObjectStoreInfo* store = nullptr);
  // What waits at the node's raylet (from the heartbeat that just passed):
  // kept for `glint status` and drivers, never stored; bounded here.
  static constexpr int kMaxPendingShapes = 32;
  void SetPending(const std::string& node_id,
                  const google::protobuf::RepeatedPtrField<proto::ResourceDemand>& pending);
  // Marks nodes silent for longer than the timeout as dead.
  void CheckHealth(int64_t now_ms);
  std::vector<proto::NodeInfo> All();
  // At start: reads the nodes back from the store (see above).
  void Recover(int64_t now_ms);
  // The same with only the resources named in `names` (a node that holds
  // many bundles has hundreds of names; placing a group needs a few).
  std::vector<proto::NodeInfo> AllWithOnly(const absl::flat_hash_set<std::string>& names);
  // A node's id and address alone (nullopt: unknown).
  std::optional<proto::NodeInfo> Locate(const std::string& node_id);
  static proto::NodeInfo IdAndAddress(const proto::NodeInfo& node);
  // Bumped whenever a node joins, dies or reports other free resources: a
  // raylet whose view is older gets the nodes with its heartbeat's reply.
  int64_t ViewVersion();
  // How long a node may go without a heartbeat before it is declared dead.
  int64_t heartbeat_timeout_ms() const { return timeout_ms_; }
  std::optional<proto::NodeInfo> Get(const std::string& node_id);
  // An alive node to run `demand` on: one with the resources free now, the
  // preferred node first; else one whose totals fit (it will queue); else none.
  // A placement group bundle committed on (add) or returned from a node:
  // its named resources join (leave) the node's totals and free resources
  // (only the free ones with `free_only`: what the bundle took from the node)
  // at once, without waiting for the next heartbeat.
  void AdjustResources(const std::string& node_id, const ResourceSet& r, bool add, bool free_only = false);
  // Adds to the node's totals and free resources those of `r` it lacks (a
  // restarted GCS restores the bundles it knows are committed there, until
  // the raylet registers again with its own account).
  void AddMissing(const std::string& node_id, const ResourceSet& r);
  std::optional<proto::NodeInfo> PickNode(const google::protobuf::Map<std::string, double>& demand,
                                          const std::string& preferred_node);

 private:
  void MarkDead(proto::NodeInfo& node, const std::string& cause) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ForgetOldDead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  GcsStore* store_;
  const int64_t timeout_ms_;
  std::vector<DeathListener> listeners_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, proto::NodeInfo> nodes_ ABSL_GUARDED_BY(mu_);
  int64_t view_version_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<std::string, int64_t> last_seen_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> secrets_ ABSL_GUARDED_BY(mu_);  // id -> hash of its secret
  // Read back from the store and not registered again since.
  absl::flat_hash_set<std::string> recovered_ ABSL_GUARDED_BY(mu_);
  size_t alive_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::string> dead_ ABSL_GUARDED_BY(mu_);  // in the order they died (some may live again)
};

}  // namespace glint::gcs
