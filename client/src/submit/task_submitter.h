// TaskSubmitter: runs normal tasks on leased workers.
//
// Tasks wait in a queue per resource shape. The submitter leases workers for
// a shape from the local raylet (following spill-back to other nodes),
// several in one call: the first at once, those wanted while a call is out
// together once the submitting burst lets the transport's thread run. It pushes
// queued tasks straight to them and keeps a lease while work of that shape
// keeps coming; a lease idle for `idle_lease_ms` goes back.
//
// A worker runs its tasks one at a time, in the order sent; up to
// kMaxTasksInFlight are sent to it ahead (spread over the leases first), so
// it never waits a round trip between tasks. Tasks sent ahead still count as
// wanting a worker of their own, and are taken back (CancelRequest.give_back)
// when a lease of their shape has nothing to do, or when the task ahead of
// them has run for kGiveBackAfterMs (a long task, or one that waits on a
// task behind it): none is held hostage. A task with no retry left is only
// sent to an idle worker (behind another, a crash it did not cause would
// fail it).
//
// A worker that dies mid-task fails the task, or retries it on a new lease
// while it has retries left; the tasks sent behind it never started there
// and go again without spending a retry. A node that a lease request is sent on to and
// that does not answer (dead, and not yet known so) is left for the local
// raylet to choose again, a little later. Tasks placed in a placement group that is not
// placed yet wait for it; those of a removed group fail. Time is passed in
// (Tick), and everything that crosses to other processes goes through
// SubmitTransport. Thread-safe; RPC callbacks never block.
#pragma once
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "client/src/objects/lineage.h"
#include "client/src/objects/memory_store.h"
#include "client/src/submit/transport.h"
#include "proto/common.pb.h"

namespace glint::internal {

class TaskSubmitter {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds
  // Leases from the raylet at `raylet_address` first. Borrows `store`,
  // `transport` and `lineage` (where tasks whose results are stored are
  // recorded; may be null), which must outlive it.
  TaskSubmitter(MemoryStore* store, SubmitTransport* transport, proto::JobInfo job, std::string raylet_address,
                Clock clock, Lineage* lineage = nullptr, int64_t idle_lease_ms = 200)
      : store_(store), transport_(transport), job_(std::move(job)), raylet_(std::move(raylet_address)),
        clock_(std::move(clock)), lineage_(lineage), idle_lease_ms_(idle_lease_ms) {}

  // The task's return object must already be expected in the store; a
  // task whose return object is there already (cancelled) is dropped.
  void Submit(proto::TaskSpec spec);
  // A cancel (its return object already holds the cancel): a task queued
  // here is dropped; one running on a lease is told so on its stream, and
  // with `force` its worker is killed. False if it is neither.
  bool Cancel(const std::string& task_id, bool force, bool recursive);
  // The node of the raylet at `raylet` is gone (its store lost an object):
  // its idle leases are dropped, so no task goes to its dying workers.
  void DropLeasesAt(const std::string& raylet);
  // Returns leases idle since before `now_ms - idle_lease_ms`; tells the
  // wait callback of shapes whose tasks all wait (none of them runs) for
  // longer than kWaitWarningMs, once per wait.
  void Tick(int64_t now_ms);
  static constexpr int64_t kWaitWarningMs = 5000;
  using WaitFn = std::function<void(const google::protobuf::Map<std::string, double>& shape, int tasks,
                                    int64_t waited_ms)>;
  // Set once, before tasks come.
  void SetWaitCallback(WaitFn f) { on_wait_ = std::move(f); }
  // Called for each call as it ends, with its result: the worker's answer,
  // or the error it gets without one (its worker or actor died, no node can
  // run it). Set once, before the first call.
  using DoneFn = std::function<void(const proto::TaskSpec& task, const proto::ObjectValue& result)>;
  void SetDoneCallback(DoneFn f) { on_done_ = std::move(f); }
  // Returns every lease.
  void Stop();

  // Tasks sent to one worker ahead of their turn, at most (the first runs).
  static constexpr size_t kMaxTasksInFlight = 32;
  // How long the task a worker runs may hold the tasks sent behind it.
  static constexpr int64_t kGiveBackAfterMs = 100;

 private:
  struct Lease {
    proto::Address worker;
    std::string raylet;
    std::string lease_id;
    std::vector<std::string> gpu_ids;  // told to each task it runs
    std::shared_ptr<CallSink> stream;
    // The tasks sent to it, in order: the first runs, the rest wait there.
    std::deque<std::string> in_flight;
    int64_t head_since_ms = 0;  // when the first of in_flight became first
    int64_t idle_since_ms = 0;  // when in_flight became empty
    // Its first task ran long with others behind: they were asked back and
    // nothing more is sent ahead to it until that task ends.
    bool stuck = false;
    std::vector<std::string> asked_back;  // tasks of in_flight asked back, not answered yet
    bool busy() const { return !in_flight.empty(); }
    // The tasks waiting behind the first that were not asked back yet: how
    // many, and the last of them (to ask back next), if any.
    size_t Waiting() const;
    std::optional<std::string> LastWaiting() const;
  };
  struct Shape {
    google::protobuf::Map<std::string, double> resources;  // what its tasks ask for
    std::string root_detached_actor;  // what its tasks descend from (ShapeKey)
    std::deque<proto::TaskSpec> tasks;
    std::vector<std::shared_ptr<Lease>> leases;
    int requesting = 0;  // workers asked for and not answered yet, `unsent` included
    // Asked for while a lease call was out already: sent together, soon
    // (tasks submitted in a loop share one call), by SendLeaseRequests.
    int unsent = 0;
    // Spilled back to another node: asked there together, soon, by
    // (raylet, hops) (the answers of one call come in together).
    std::map<std::pair<std::string, int>, int> spilled;
    bool sending_soon = false;
    bool watching_group = false;  // no node has its placement group's bundles: waiting for the GCS's word
    int group_checks = 0;         // refusals since the last lease while its group was placed
    // Lease requests to send again from the local raylet at a time (ms): the
    // node they were spilled back to did not answer.
    std::vector<std::pair<int64_t, proto::LeaseRequest>> retries;
    int unreachable = 0;  // such failures since the last lease
    int crashed_starts = 0;  // leases refused since the last one: the worker died before it was ready
    // Tasks that waited behind another on a worker that died: they go again
    // without spending a retry (at most kMaxTasksInFlight per lease dropped).
    absl::flat_hash_set<std::string> unstarted;
    int64_t waiting_since_ms = 0;  // tasks queued and none of the shape running, since then (0: not so)
    bool warned = false;           // the wait callback ran for this wait
  };
  void Pump(const std::string& key);
  // Sends the shape's unsent lease requests in one call, and its spilled
  // ones in one call per node.
  void SendLeaseRequests(const std::string& key);
  // Whether the caller must have the shape's lease requests sent soon (by
  // SendSoon, once per burst, after it lets go of mu_).
  static bool NeedsSending(Shape& shape) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SendSoon(const std::string& key) ABSL_LOCKS_EXCLUDED(mu_);
  proto::LeaseRequest RequestFor(const Shape& shape, int hops) const;
  // `count` leases of the shape in one call to `raylet`.
  void RequestLeases(const std::string& key, const proto::LeaseRequest& req, const std::string& raylet, int hops,
                     int count = 1);
  void OnLeaseReply(const std::string& key, const std::string& raylet, const absl::Status& s,
                    const proto::LeaseReply& reply, const proto::LeaseRequest& req, int hops);
  void Push(const std::string& key, const std::shared_ptr<Lease>& lease, proto::TaskSpec spec);
  // Asks the worker of `lease` to give back task `task_id` unless it started.
  void AskBack(const std::shared_ptr<Lease>& lease, const std::string& task_id);
  // The shape's tasks to take back from busy leases, one for each lease with
  // nothing to do (in `out`, as lease and task); under mu_.
  void RebalanceLocked(Shape& shape, std::vector<std::pair<std::shared_ptr<Lease>, std::string>>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A task's end: its reply, or the error of its lease's stream.
  void Finished(const std::string& key, const std::weak_ptr<Lease>& lease, proto::TaskSpec& task,
                const absl::Status& s, proto::PushTaskReply& reply);
  // After a refusal (no node has the resources): when the shape's tasks are
  // placed in a group, waits for the GCS to say it is placed (then leases
  // again) or removed (then fails them), and returns true.
  bool WaitForGroup(const std::string& key);
  void FailQueued(const std::string& key, const proto::ObjectValue& error);
  // Whether the task was cancelled (its result is there already): asked
  // under mu_ before it is queued, so that a Cancel, which makes the result
  // first and then looks for the task under mu_, either finds it queued or
  // is seen here.
  bool CancelledLocked(const proto::TaskSpec& spec) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes a failed lease out of its shape, noting the tasks that waited behind
  // its first one there as never started.
  void DropLocked(Shape& shape, std::vector<std::shared_ptr<Lease>>::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Closes the lease's stream and gives the worker back to its raylet.
  void ReturnLease(const Lease& lease, bool disconnect);

  MemoryStore* const store_;
  SubmitTransport* const transport_;
  const proto::JobInfo job_;
  const std::string raylet_;
  const Clock clock_;
  Lineage* const lineage_;
  const int64_t idle_lease_ms_;
  WaitFn on_wait_;
  DoneFn on_done_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Shape> shapes_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;  // no retries after Stop()
};

// The queue key of a resource shape.
std::string ShapeKey(const google::protobuf::Map<std::string, double>& resources);
// Tasks share leases when they ask for the same resources and descend from
// the same detached actor (or none): a lease for a detached actor's work
// outlives the job, others do not (TaskSpec.root_detached_actor).
std::string ShapeKey(const proto::TaskSpec& spec);

}  // namespace glint::internal
