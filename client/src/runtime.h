// Runtime: everything behind the public API in one process (a driver or a
// worker): the connection to the GCS and the local raylet, the object store,
// the submitters, and, in workers, the executor. It serves WorkerService so
// others can push tasks to it and fetch the objects it owns.
//
// Lifecycle: Start() (connect, register the job or the worker) -> running ->
// Shutdown(). A runtime is not reused after Shutdown; late RPC callbacks may
// still touch it, so the process keeps it (see api.cc). Thread-safe.
#pragma once
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "client/src/actor_submitter.h"
#include "client/src/memory_store.h"
#include "client/src/task_executor.h"
#include "client/src/task_submitter.h"
#include "client/src/node_store.h"
#include "client/src/queue_poller.h"
#include "glint/internal/runtime_api.h"
#include "proto/gcs.grpc.pb.h"
#include "proto/raylet.grpc.pb.h"
#include "proto/worker.grpc.pb.h"

namespace glint::internal {

struct RuntimeOptions {
  std::string gcs_address;
  std::string node_ip = "127.0.0.1";
  bool is_worker = false;
  // Driver: the job to register (namespace, code paths, pid).
  proto::JobInfo job;
  // The local raylet (worker: as told by its raylet; driver: optional choice).
  std::string raylet_address;
  std::string worker_id;
  std::string node_id;
  // How long a Put waits for room in a full object store before it fails.
  int64_t object_store_full_wait_ms = 3000;
};

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options);
  ~Runtime();
  absl::Status Start();
  void Shutdown();
  // Worker: blocks until the raylet or an Exit call ends this worker.
  void ServeUntilExit();

  RefData SubmitTask(const std::string& function, std::vector<WireArg> args, const TaskOptions& opts);
  std::string CreateActor(const std::string& factory, std::vector<WireArg> args,
                          const ActorOptions& opts);
  RefData SubmitActorTask(const std::string& actor_id, const std::string& method,
                          std::vector<WireArg> args, const std::string& concurrency_group);
  RefData Put(std::string data, std::vector<RefData> nested);
  // Objects in the node's shared-memory store (see docs/design-notes.md).
  size_t inline_threshold() const { return node_store_.inline_threshold(); }
  // Puts a value that `write` packs into the node's store; `where` gets its place.
  RefData PutStored(size_t size, const std::function<void(char*)>& write, std::vector<RefData> nested,
                    proto::StoredObject* where = nullptr);
  NodeStore& node_store() { return node_store_; }
  // The value, or nullopt at the timeout (< 0: none). Errors come as values.
  std::optional<proto::ObjectValue> Get(const RefData& ref, int64_t timeout_ms);
  std::vector<bool> Wait(const std::vector<RefData>& refs, int num_returns, int64_t timeout_ms,
                         bool fetch_local);
  // Runs `fn` once the object is ready here (fetching a borrowed one).
  void OnReady(const RefData& ref, std::function<void()> fn);
  bool IsReady(const RefData& ref) { return store_.TryGet(ref.id).has_value(); }
  std::optional<std::string> GetNamedActor(const std::string& name, const std::string& ns);
  void KillActor(const std::string& actor_id, bool no_restart);

  // Ownership (see docs/design-notes.md): counts of ObjectRef copies here.
  // `register_borrow` false: the owner already counts us (or we hold a copy).
  void AddLocalRef(const std::string& id, const std::string& owner, bool register_borrow = true);
  void RemoveLocalRef(const std::string& id, const std::string& owner);
  void MarkEscaped(const std::string& id, const std::string& owner);
  // The owner's side of borrowing: false if this process has no such object.
  bool OnBorrow(const std::string& id, const std::string& borrower, bool add);
  // Drops a fetched copy that no ObjectRef in this process holds.
  void DropIfUnreferenced(const std::string& id);

  const proto::JobInfo& job() const { return job_; }
  // The executor when this process is a worker, else null.
  TaskExecutor* executor() { return executor_.get(); }
  MemoryStore& store() { return store_; }
  void RequestExit(const std::string& actor_exit_reason);
  const std::string& self_address() const { return self_addr_; }

 private:
  absl::Status StartDriver();
  absl::Status StartWorker();
  void TickLoop();
  // Starts fetching a borrowed object from its owner into the store.
  void Fetch(const RefData& ref);
  void NotifyBlocked(bool blocked);
  // Keeps `refs` alive until the call's result `return_id` is in.
  void HoldUntilDone(const std::string& return_id, const std::vector<RefData>& refs);
  // Tells an owner this process borrows (or no longer borrows) an object.
  void Borrow(const std::string& id, const std::string& owner, bool add);
  // Borrowers that no longer answer have let go of everything (every second).
  void CheckBorrowers();
  // A worker's result: registers its caller as the borrower of the
  // references packed into it that we own (listed for the caller), keeps
  // borrowed ones for good, and drops the executor's holds.
  void HandOverContained(const proto::TaskSpec& spec, proto::ObjectValue* result);
  // Large by-value arguments go to the store; they and the references
  // nested in arguments are added to `held`.
  proto::TaskSpec NewSpec(proto::TaskType type, const std::string& function, std::vector<WireArg>& args,
                          std::vector<RefData>& held);
  // Waits for owned arguments that are not ready yet, inlines their values,
  // then calls `submit` (at once when nothing is pending).
  void ResolveOwnedArgs(proto::TaskSpec spec, std::function<void(proto::TaskSpec)> submit);
  // For actor calls (which must keep their order): inlines owned arguments
  // that are ready; the others go by reference (pinned for good with `pin_unready`).
  void InlineReadyOwnedArgs(proto::TaskSpec& spec, bool pin_unready);
  // An owned argument's ready value goes into the call: inline or by location.
  static void SetArgValue(proto::TaskArg* a, const proto::ObjectValue& v);

  RuntimeOptions options_;
  proto::JobInfo job_;
  proto::Address self_;
  std::string self_addr_;
  std::string worker_id_;
  MemoryStore store_;
  StubCache<proto::RayletService> raylets_;
  NodeStore node_store_;  // this node's object store
  StubCache<proto::WorkerService> workers_;
  std::unique_ptr<proto::GcsService::Stub> gcs_;
  std::unique_ptr<TaskSubmitter> tasks_;
  std::unique_ptr<ActorSubmitter> actors_;
  std::unique_ptr<TaskExecutor> executor_;
  std::unique_ptr<TaskExecutor::AsyncService> service_;
  // The process's one completion queue (see QueuePoller), polled by a
  // worker's executor threads or a driver's RPC thread; it outlives the server.
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<QueuePoller> poller_;
  std::unique_ptr<ClientQueue> client_queue_;
  std::thread rpc_thread_;
  void ServeRequests();
  // Cancels our calls in flight, stops the server and the queue's pollers.
  void StopServing();
  // The job's keep-alive call, held open for the driver's life (see StartKeepAlive).
  void StartKeepAlive() ABSL_EXCLUSIVE_LOCKS_REQUIRED(keepalive_mu_);
  absl::Mutex keepalive_mu_;
  bool keepalive_open_ ABSL_GUARDED_BY(keepalive_mu_) = false;
  std::thread ticker_;
  std::atomic<bool> stopping_{false};
  absl::Mutex refs_mu_;
  absl::flat_hash_map<std::string, int> local_refs_ ABSL_GUARDED_BY(refs_mu_);
  absl::flat_hash_set<std::string> escaped_ ABSL_GUARDED_BY(refs_mu_);
  // Owned objects: the processes that told us they hold references.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> borrowers_ ABSL_GUARDED_BY(refs_mu_);
  absl::flat_hash_set<std::string> suspects_ ABSL_GUARDED_BY(refs_mu_);  // borrowers that did not answer once
  absl::Mutex exit_mu_;
  bool exit_requested_ ABSL_GUARDED_BY(exit_mu_) = false;
  std::string exit_reason_ ABSL_GUARDED_BY(exit_mu_);  // set when the actor ended itself
};

}  // namespace glint::internal
