// PlacementGroupManager: placement groups, each a set of resource bundles
// reserved together across nodes (as Ray's GCS does it).
//
// A group is placed in two phases: a node is chosen for each bundle from the
// view of free resources, per strategy (PlaceBundles); each chosen raylet is
// asked to reserve its bundles (Prepare); only once every one agreed are
// they all committed, and the group is CREATED. If any refused (the view was
// stale, or another group got there first: a raylet reserves under its own
// lock, so two groups never both hold the same CPUs), the reserved ones are
// returned and the group is tried again later. No group is ever half placed.
// A group that fits nowhere now waits PENDING with the reason, and is tried
// again whenever the node view changes (and every second).
//
// Group lifecycle: PENDING --(every bundle committed)--> CREATED;
//   CREATED --(a node holding bundles died)--> RESCHEDULING --(those bundles
//   placed again, the others kept)--> CREATED;
//   any --(Remove; if not detached: its job finished, or, for a group a
//          detached actor's work made, that actor died after the job)--> REMOVED.
// The actors of a dead node's bundles restart per max_restarts once their
// bundle is placed again (ActorManager waits for a node with its resources).
// Removing a group returns its bundles to their nodes and kills the actors
// placed in it. Each group is in the store while it exists (written as it is
// registered, placed, or loses a node); a restarted GCS reads them back
// (Recover). Thread-safe; the cluster client's callbacks and waiters run
// without the lock held.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/resources.h"
#include "gcs/actor_manager.h"
#include "gcs/cluster_client.h"
#include "gcs/job_manager.h"
#include "gcs/node_manager.h"
#include "gcs/store.h"
#include "proto/common.pb.h"

namespace glint::gcs {

// A node (index into `nodes`) for each bundle, by `strategy`, from the
// nodes' free resources; or why none can be chosen now (FAILED_PRECONDITION:
// the resources are taken; UNAVAILABLE: no node could ever hold them).
// `fixed[i]` >= 0: bundle i is on that node already (the others of a group
// whose node died are placed around them).
absl::StatusOr<std::vector<size_t>> PlaceBundles(proto::PlacementStrategy strategy,
                                                 const std::vector<ResourceSet>& bundles,
                                                 const std::vector<proto::NodeInfo>& nodes, std::vector<int> fixed = {});

class PlacementGroupManager {
 public:
  using Info = proto::PlacementGroupInfo;
  using Waiter = std::function<void(std::optional<Info>)>;
  static constexpr size_t kMaxGroups = 100000;
  static constexpr int kMaxBundles = 1000;

  // Borrows the others (they must outlive this).
  PlacementGroupManager(GcsStore* store, NodeManager* nodes, JobManager* jobs, ActorManager* actors,
                        ClusterClient* cluster)
      : store_(store), nodes_(nodes), jobs_(jobs), actors_(actors), cluster_(cluster) {}

  // Registers the group (claiming its name) and starts placing it.
  // `registered`, if given, runs once the group is recorded (in the store
  // too), or refused, and before the calls that place it go out: the GCS
  // answers its caller from there, so the reply waits for none of them.
  using Registered = std::function<void(const absl::StatusOr<Info>&)>;
  absl::StatusOr<Info> Create(const Info& req, const Registered& registered = nullptr);
  std::optional<Info> Get(const std::string& group_id);
  std::optional<Info> GetByName(const std::string& name, const std::string& ns);
  // Calls `done` once the group is placed or removed, or at `deadline_ms`.
  void WaitPlaced(const std::string& group_id, int64_t deadline_ms, Waiter done);
  // Removes the group: it is gone from the tables, the store and its nodes'
  // resources, its actors are dead (their calls fail saying why) and its
  // waits are answered when `removed` (if given) runs; then its bundles
  // are returned to their raylets.
  absl::Status Remove(const std::string& group_id, const std::function<void(const absl::Status&)>& removed = nullptr);
  std::vector<Info> List();
  // Tries pending groups again; answers waits past their deadline (`all`: every wait).
  void Tick(int64_t now_ms, bool all = false);
  // A group that is not detached goes with its job, unless a detached
  // actor's work made it (Info.root_detached_actor): then it goes with
  // that actor, if the actor outlives the job.
  void OnJobFinished(const proto::JobInfo& job);
  void OnActorDead(const proto::ActorInfo& actor);
  void OnNodeDead(const proto::NodeInfo& node);
  // At start, after the nodes are read back: reads the groups back from the
  // store. CREATED ones keep their bundles; a group that was being placed may
  // have left reservations on raylets, so its unplaced bundles are returned
  // on every alive node before it is tried again.
  void Recover();

 private:
  struct Group {
    Info info;
    bool in_flight = false;  // a two-phase round is under way
    int64_t tried_ms = 0;
    int64_t tried_view = -1;
  };
  struct Wait {
    int64_t deadline_ms;
    Waiter done;
  };
  // The bundles of one round: (bundle index, its chosen node: id and
  // address only, as the round's callbacks copy it).
  using Placing = std::vector<std::pair<int, proto::NodeInfo>>;
  // Create's checks and record: the group, PENDING (or the one this same
  // request made before).
  absl::StatusOr<Info> Register(const Info& req);
  // Starts a round for a pending (or rescheduling) group if its unplaced
  // bundles can be placed now.
  void TryPlace(const std::string& group_id, int64_t now_ms);
  // After every Prepare answered: commit all, or return what was reserved.
  // `why`: the first refusal, when not all were reserved.
  void Prepared(const std::string& group_id, Placing where, std::vector<bool> reserved, const std::string& why);
  // `failed`: empty when every bundle was committed, else the first failure.
  void Committed(const std::string& group_id, Placing where, const std::string& failed);
  void ReturnBundles(const std::string& group_id, const Placing& where, const std::vector<bool>& which);
  // Ends the group's waits (placed or removed); runs them unlocked.
  void Notify(const std::string& group_id);
  // Writes the group's record to the store.
  void Persist(const Info& info);
  // The job's groups that are not detached.
  std::vector<Info> NotDetachedOf(const std::string& job_id);

  GcsStore* const store_;
  NodeManager* const nodes_;
  JobManager* const jobs_;
  ActorManager* const actors_;
  ClusterClient* const cluster_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Group> groups_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> names_ ABSL_GUARDED_BY(mu_);  // namespace/name -> id
  absl::flat_hash_map<std::string, std::vector<Wait>> waits_ ABSL_GUARDED_BY(mu_);
};

}  // namespace glint::gcs
