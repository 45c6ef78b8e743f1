// ActorManager: every actor's record, its name, and its state machine.
//
// Actor lifecycle:
//
//   (Create) -> PENDING_CREATION --(worker leased, constructor ran)--> ALIVE
//       ALIVE --(worker or node died, restarts left)--> RESTARTING -> ALIVE
//       (a restart that no alive node fits waits RESTARTING until one joins;
//        an actor in a placement group not placed yet waits for it likewise)
//       any --(Kill, ExitActor, job finished for non-detached, constructor
//              threw, no node can host a new actor, no restarts left)--> DEAD
//
// The name (namespace, name) is claimed at Create and freed at DEAD; the
// kMaxDeadActors that died last are remembered (Ray keeps a bounded cache
// of destroyed actors too), older ones are forgotten. Each record (with the
// worker it was leased) is in the store before the call that changed it
// returns; a restarted GCS reads them back (Recover). Every
// change bumps `version`; callers long-poll with WaitNewer to hear changes.
// Thread-safe; callbacks and listeners run without the lock held.
#pragma once
#include <atomic>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gcs/cluster_client.h"
#include "gcs/job_manager.h"
#include "gcs/node_manager.h"
#include "gcs/store.h"
#include "proto/gcs.pb.h"

namespace glint::gcs {

class ActorManager {
 public:
  using Waiter = std::function<void(std::optional<proto::ActorInfo>)>;
  ActorManager(GcsStore* store, NodeManager* nodes, JobManager* jobs, ClusterClient* cluster)
      : store_(store), nodes_(nodes), jobs_(jobs), cluster_(cluster) {}

  // Registers the actor (claiming its name) and starts scheduling it.
  absl::StatusOr<proto::ActorInfo> Create(const proto::CreateActorRequest& req);
  std::optional<proto::ActorInfo> GetById(const std::string& actor_id);
  std::optional<proto::ActorInfo> GetByName(const std::string& name, const std::string& ns);
  // Calls `done` once the actor's version exceeds `version`, or at `deadline_ms`
  // (see ExpireWaiters) with the current record.
  void WaitNewer(const std::string& actor_id, int64_t version, int64_t deadline_ms, Waiter done);
  void ExpireWaiters(int64_t now_ms, bool all = false);
  absl::Status Kill(const std::string& actor_id, bool no_restart, const std::string& reason);
  std::vector<proto::ActorInfo> List(const std::string& ns, bool include_dead);
  // Kills (for good) the actors placed in placement group `group_hex`.
  void KillInPlacementGroup(const std::string& group_hex, const std::string& reason);
  // Whether a placement group still exists (placed or not): an actor in one
  // that no node holds yet waits for it, in a removed one it dies.
  using GroupExistsFn = std::function<bool(const std::string& group_id)>;
  void SetGroupExists(GroupExistsFn fn) { group_exists_ = std::move(fn); }

  static constexpr size_t kMaxDeadActors = 10000;
  // Forgets the oldest dead actors beyond kMaxDeadActors.
  void ForgetOldDead();
  // The jobs with an actor that is not dead (their records must stay).
  absl::flat_hash_set<std::string> JobsWithLiveActors();

  // Before the cluster client stops: its callbacks change nothing from now on.
  void Stop() { stopped_ = true; }

  // Restarts the RESTARTING actors that waited for a node that fits, once
  // one does (called on every tick: cheap while none waits).
  void PlaceWaiting();
  // Actors whose lease the chosen raylet did not answer (its process gone,
  // say) never started there: each waits for that node's fate, and is
  // scheduled again, with no restart counted, once the node is declared
  // dead; if the node still heartbeats past its timeout (alive but not
  // reachable from here), the actor fails or restarts as for a crash.
  // Called on every tick.
  void RetryUnanswered(int64_t now_ms);

  // At start, after the nodes are read back: reads the actors back from the
  // store. ALIVE ones stay ALIVE (their workers are asked whether they still
  // answer; one that does not is handled as a worker failure); those that
  // were being created or restarted are scheduled again (a worker leased for
  // one is killed first, so no actor ever runs twice).
  void Recover();

  // After job `job_id` has finished, only a detached actor, or what it made
  // (TaskSpec.root_detached_actor), goes on making work: OK when `root` is a
  // live detached actor of that job, else why not.
  absl::Status RootGoesOn(const std::string& job_id, const std::string& root);
  // Listeners hear each actor die (for good) once, after what died with it.
  using DeathListener = std::function<void(const proto::ActorInfo&)>;
  void AddDeathListener(DeathListener l) { death_listeners_.push_back(std::move(l)); }

  // Cluster events.
  void OnWorkerFailure(const std::string& worker_id, const std::string& reason);
  void OnNodeDead(const proto::NodeInfo& node);
  void OnJobFinished(const proto::JobInfo& job);

 private:
  struct PendingWaiter {
    int64_t version;
    int64_t deadline_ms;
    Waiter done;
  };
  using Notifications = std::vector<std::pair<Waiter, std::optional<proto::ActorInfo>>>;

  void Schedule(const std::string& actor_id);
  // `crashed_starts`: the raylet's workers for this lease that died before
  // they were ready, in a row (asked again up to kMaxCrashedStarts times).
  void RequestLease(const std::string& actor_id, const proto::Address& raylet,
                    const proto::LeaseRequest& req, int hops, int crashed_starts = 0);
  void OnLeased(const std::string& actor_id, const proto::LeaseReply& reply,
                const proto::Address& raylet);
  // Worker gone: restart if allowed, else DEAD.
  void HandleFailure(const std::string& actor_id, const std::string& reason,
                     proto::ErrorType type);
  void MarkDead(const std::string& actor_id, proto::ErrorInfo error);
  // `root` died: if it is a detached actor whose job has finished, the
  // actors it made that are not detached die with it (before then, they
  // end with the job).
  void EndOrphansOf(const std::string& root);
  // Sets the state (bumping the version), persists, frees the name on DEAD,
  // and moves the waiters to `out` for the caller to run unlocked.
  void SetState(proto::ActorInfo& a, proto::ActorState s, Notifications* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void Notify(Notifications& n);

  GcsStore* store_;
  NodeManager* nodes_;
  JobManager* jobs_;
  ClusterClient* cluster_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, proto::ActorInfo> actors_ ABSL_GUARDED_BY(mu_);
  // namespace + '\0' + name -> actor id
  absl::flat_hash_map<std::string, std::string> names_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> by_worker_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, proto::Address> raylet_of_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<PendingWaiter>> waiters_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> dead_ ABSL_GUARDED_BY(mu_);  // in the order they died
  // RESTARTING actors that no alive node fits, and actors waiting for their
  // placement group: retried as nodes join and groups are placed.
  std::set<std::string> unplaced_ ABSL_GUARDED_BY(mu_);
  struct Unanswered {
    std::string node_id;  // whose raylet did not answer the actor's lease
    int64_t since_ms;
    std::string why;
  };
  absl::flat_hash_map<std::string, Unanswered> unanswered_ ABSL_GUARDED_BY(mu_);  // by actor
  GroupExistsFn group_exists_;  // set before any actor is created
  std::vector<DeathListener> death_listeners_;  // added before any actor is created
  std::atomic<bool> stopped_{false};
};

}  // namespace glint::gcs
