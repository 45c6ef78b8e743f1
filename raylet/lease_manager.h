// LeaseManager: grants this node's workers to callers, one resource shape per
// lease, and decides when to spill a request back to another node.
//
// A request is (1) infeasible here (the node's totals lack it): spilled to a
// node whose totals fit, or refused with a clear error when none does;
// (2) feasible but busy: spilled to a node with the resources free now (unless
// the caller asked for grant-or-reject), else queued — and spilled later if a
// node frees up before this one does (SetClusterView); (3) free now: granted,
// unless a request of the same shape waits (first come, first served per
// shape; a request waiting for something busy holds up no other shape).
// Lease lifecycle: GRANTED --(ReturnWorker, or the worker exits)--> RELEASED;
// a task lease still GRANTED long after is asked about once, and RELEASED if
// no holder ever used it (OldLeasesToAsk).
// A worker blocked in Get lends its CPU back until it unblocks (as Ray does),
// so nested tasks cannot starve the node. A lease of GPUs holds specific
// GPU ids (GpuSlots), told to the caller with the grant so the worker runs
// with CUDA_VISIBLE_DEVICES set to them. Thread-safe; reply callbacks run
// without the lock held.
#pragma once
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/resources.h"
#include "proto/raylet.pb.h"
#include "raylet/gpus.h"
#include "raylet/worker_pool.h"

namespace glint::raylet {

class LeaseManager {
 public:
  using Reply = std::function<void(const proto::LeaseReply&)>;
  // `gpu_ids`: the node's GPUs (default: "0".."N-1" for total GPU N).
  LeaseManager(std::string node_id, ResourceSet total, WorkerPool* pool, std::vector<std::string> gpu_ids = {});

  // Fetches a fresh cluster view (asynchronously), then calls `done`.
  using ViewRefresher = std::function<void(std::function<void()> done)>;
  void SetViewRefresher(ViewRefresher r) { refresher_ = std::move(r); }

  // `view_fresh`: the cluster view was just refreshed, so an infeasible
  // request is refused rather than re-checked.
  void Request(const proto::LeaseRequest& req, Reply reply, bool view_fresh = false);
  // `disconnect`: the holder saw the worker fail; it is killed, not reused.
  void Return(const std::string& lease_id, int64_t now_ms, bool disconnect = false);
  // The worker is gone (exit or kill): free what its lease held.
  void OnWorkerGone(const std::string& worker_id);
  // Task leases granted at least `age_ms` before `now_ms` that were not
  // returned and not yet asked about: each once, as lease id -> worker id.
  // Their holders may have died before their first call (lease_ledger.h
  // on the worker's side); Return gives back one that went unused.
  std::vector<std::pair<std::string, std::string>> OldLeasesToAsk(int64_t now_ms, int64_t age_ms);
  void SetBlocked(const std::string& worker_id, bool blocked);
  // What the other nodes have, from the GCS, for spill-back decisions.
  // Queued requests that cannot be granted here now are spilled to nodes
  // that now have room for them (Ray's raylet does the same as views change).
  void SetClusterView(std::vector<proto::NodeInfo> nodes);
  // A queued request spilled here this many times already stays when the
  // view changes: a request spilled here on a view a heartbeat old, that
  // waits for this node while another frees up, moves once more, and two
  // busy nodes with stale views of each other cannot toss one for long.
  static constexpr int kMaxSpillbacksToMove = 2;
  ResourceSet Available();
  // How many resource names the node has (its own and its bundles').
  size_t ResourceNames();
  // The requests queued here, by shape (at most kMaxPendingShapes), with
  // what holds the resources they wait for.
  static constexpr size_t kMaxPendingShapes = 32;
  std::vector<proto::ResourceDemand> PendingDemand(int64_t now_ms);
  // The node's resources, committed placement group bundles' included.
  ResourceSet Total();
  size_t QueueLength();
  // Lease calls this node answered, and the workers asked for in them (one
  // RequestWorkerLeases call asks for several), for /metrics.
  void CountCall(int workers) {
    calls_.fetch_add(1, std::memory_order_relaxed);
    asked_.fetch_add(workers, std::memory_order_relaxed);
  }
  int64_t calls() const { return calls_.load(std::memory_order_relaxed); }
  int64_t asked() const { return asked_.load(std::memory_order_relaxed); }

  // Placement group bundles (raylet/bundles.h). Reserve takes `r` from the
  // free pool if it is free now, its GPUs as specific ids (`*gpu_ids`);
  // Unreserve gives it back.
  bool Reserve(const ResourceSet& r, std::vector<std::string>* gpu_ids);
  void Unreserve(const ResourceSet& r, const std::vector<std::string>& gpu_ids);
  // A committed bundle's GPUs (`ids`, reserved for `bundle`): work placed in
  // the bundle takes its GPU ids from these. Removed after the bundle's
  // resources are.
  void AddBundleGpus(const std::string& group_hex, int index, const std::vector<std::string>& ids,
                     const ResourceSet& bundle);
  void RemoveBundleGpus(const std::string& group_hex, int index);
  // Adds resources to the node (its totals and free pool).
  void AddResources(const ResourceSet& r);
  // Takes them away: leases holding any of them end (their workers are
  // killed) and queued requests for them fail with `why`.
  void RemoveResources(const ResourceSet& r, const std::string& why);
  // Refuses queued and later requests (the raylet is stopping).
  void Stop();

 private:
  // The GPU ids a lease holds, and whose they are: the node's, or those of
  // bundle `index` of group `group_hex`.
  struct GpuGrant {
    std::string group_hex;  // empty: the node's
    int index = -1;
    std::vector<std::string> ids;
    double amount = 0;
  };
  struct Pending {
    proto::LeaseRequest req;
    ResourceSet demand;
    Reply reply;
    GpuGrant gpus;  // once taken
    int64_t since_ms = 0;  // queued then
  };
  struct Lease {
    std::string worker_id;
    ResourceSet held;
    bool blocked = false;
    GpuGrant gpus;
    bool actor = false;  // an actor's worker (for good), else a task's
    int64_t granted_ms = 0;
    bool asked = false;  // whether it went unused, once (OldLeasesToAsk)
  };
  // Who holds what `demand` asks for: "2 actors and 1 task hold {CPU: 2} of {CPU: 2}".
  std::string HeldBy(const ResourceSet& demand) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether a request of the same shape waits already (FIFO per shape).
  bool QueuedLike(const ResourceSet& demand) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether `demand` can be granted now (GPU ids included), and taking it.
  bool FitsNow(const ResourceSet& demand) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Take(Pending& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void GiveBack(const ResourceSet& demand, const GpuGrant& gpus) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The GPU slots `demand` takes from, with the grant's owner and amount
  // filled in (nullptr when none can give them now; `grant->amount` 0: it
  // asks for no GPU). A bundle's GPUs asked with no index come from the
  // first of the group's bundles here that has them free.
  GpuSlots* GpuPoolOf(const ResourceSet& demand, GpuGrant* grant) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Grants queued requests that now fit.
  void Dispatch();
  void Release(const Lease& lease) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Grant(Pending p);
  // A node other than this one for `demand`: free now if `need_free`, else by totals.
  const proto::NodeInfo* OtherNode(const ResourceSet& demand, bool need_free)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string node_id_;
  ViewRefresher refresher_;
  WorkerPool* pool_;
  absl::Mutex mu_;
  ResourceSet total_ ABSL_GUARDED_BY(mu_);
  ResourceSet available_ ABSL_GUARDED_BY(mu_);
  GpuSlots gpus_ ABSL_GUARDED_BY(mu_);
  // group hex -> bundle index -> the GPU ids that bundle reserved
  absl::flat_hash_map<std::string, std::map<int, GpuSlots>> bundle_gpus_ ABSL_GUARDED_BY(mu_);
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Lease> leases_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> lease_of_worker_ ABSL_GUARDED_BY(mu_);
  std::vector<proto::NodeInfo> cluster_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int64_t> calls_{0}, asked_{0};
};

}  // namespace glint::raylet
