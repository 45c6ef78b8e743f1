// Runtime: everything behind the public API in one process (a driver or a
// worker). A small facade: Start() builds the parts below and connects them,
// Stop() tears them down; the API layer (api.cc) calls it and turns its
// errors into exceptions.
//
//   the process's one completion queue, its WorkerService server and
//     ClientQueue (common/queue_poller.h, common/async_call.h)
//   GcsClient (gcs_client.h)                 the job, nodes, actors at the GCS
//   KvClient (kv_client.h)                   the cluster's key-value store at the GCS
//   PlacementGroups (placement_groups.h)     create, find, wait, remove groups
//   MemoryStore, NodeStore (objects/)        this process's objects, the node's store
//   ReferenceCounter (objects/)              local copies, borrowers, freeing
//   ActorScopes (objects/)                   ending actors whose handles are all gone
//   Lineage (objects/)                       the tasks that make lost objects again
//   ObjectGetter (objects/)                  Get, Wait, OnReady, fetching from owners
//   OwnerService (owner_service.h)           what others ask of this process
//   DependencyResolver (submit/)             a call's arguments
//   TaskSubmitter, ActorSubmitter (submit/)  calls to leased workers and actors
//   GeneratorStreams (submit/)               the items of generators it called
//   TaskExecutor (execute/)                  in a worker: running calls
//   TaskEvents (task_events.h)               the calls' states, reported to the GCS
//
// Lifecycle: constructed -> Start() -> running -> Stop() -> destroyed; after
// Stop() no thread, call or callback of the runtime is left. Thread-safe.
#pragma once
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/src/execute/task_executor.h"
#include "client/src/gcs_client.h"
#include "client/src/kv_client.h"
#include "client/src/objects/actor_scopes.h"
#include "client/src/objects/lineage.h"
#include "client/src/objects/memory_store.h"
#include "client/src/objects/node_store.h"
#include "client/src/objects/object_getter.h"
#include "client/src/objects/owner_client.h"
#include "client/src/objects/reference_counter.h"
#include "client/src/owner_service.h"
#include "client/src/worker_output.h"
#include "client/src/placement_groups.h"
#include "client/src/submit/actor_submitter.h"
#include "client/src/submit/dependency_resolver.h"
#include "client/src/submit/generator_streams.h"
#include "client/src/submit/task_submitter.h"
#include "client/src/submit/wait_warning.h"
#include "client/src/submit/transport.h"
#include "client/src/task_events.h"
#include "common/async_call.h"
#include "common/queue_poller.h"
#include "common/ticker.h"
#include "glint/internal/runtime_api.h"
#include "proto/raylet.grpc.pb.h"
#include "proto/worker.grpc.pb.h"

namespace glint::internal {

struct RuntimeOptions {
  std::string gcs_address;
  std::string node_ip = "127.0.0.1";
  bool is_worker = false;
  // Driver: the job to register (namespace, code paths).
  proto::JobInfo job;
  // The local raylet (worker: as told by its raylet; driver: optional choice).
  std::string raylet_address;
  std::string worker_id;
  std::string node_id;
  // How long a Put waits for room in a full object store before it fails.
  int64_t object_store_full_wait_ms = 3000;
  // How long calls to the GCS wait for it while it does not answer.
  int64_t gcs_reconnect_timeout_ms = 60000;
};

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options) : options_(std::move(options)) { ++live_; }
  ~Runtime() {
    Stop();
    --live_;
  }
  // How many runtimes exist in this process (tests: Shutdown frees its own).
  static int64_t Live() { return live_.load(); }
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  absl::Status Start();
  // Ends the job (a driver), stops every part and joins every thread.
  void Stop();
  // Worker: blocks until the raylet or an Exit call ends this worker; false
  // when the raylet is gone (the node is dead: the worker goes at once, as
  // if killed with it, without finishing what it runs).
  bool ServeUntilExit();

  absl::StatusOr<RefData> SubmitTask(const std::string& function, std::vector<WireArg> args,
                                     const TaskOptions& opts);
  // The new actor's handle reference: {actor id, owner} (no owner: detached).
  absl::StatusOr<RefData> CreateActor(const std::string& factory, std::vector<WireArg> args,
                                      const ActorOptions& opts);
  // `actor`: the handle reference, held until the call is done.
  absl::StatusOr<RefData> SubmitActorTask(const RefData& actor, const std::string& method,
                                          std::vector<WireArg> args, const ActorCallOptions& opts);
  absl::StatusOr<std::optional<RefData>> GetNamedActor(const std::string& name, const std::string& ns);
  absl::Status KillActor(const std::string& actor_id, bool no_restart);
  // Cancels the call whose return object is `ref` (see glint::Cancel).
  absl::Status Cancel(const RefData& ref, bool force, bool recursive);

  RefData Put(std::string data, std::vector<RefData> nested);
  // Puts a value that `write` packs into the node's store; `where` gets its place.
  absl::StatusOr<RefData> PutStored(size_t size, const std::function<void(char*)>& write,
                                    std::vector<RefData> nested, proto::StoredObject* where = nullptr);
  size_t inline_threshold() const { return node_store_->inline_threshold(); }

  ObjectGetter& getter() { return *getter_; }
  GeneratorStreams& generators() { return *generators_; }
  NodeStore& node_store() { return *node_store_; }
  ReferenceCounter& refs() { return *refs_; }
  PlacementGroups& placement_groups() { return *groups_; }
  KvClient& kv() { return *kv_; }
  // The executor when this process is a worker, else null.
  TaskExecutor* executor() { return executor_.get(); }
  const proto::JobInfo& job() const { return job_; }

 private:
  absl::Status StartServing();
  absl::Status ConnectDriver();
  absl::Status ConnectWorker();
  // Connects to the node's store at `raylet` and builds the parts that need
  // this process's full address.
  absl::Status BuildParts(const std::string& raylet);
  absl::Status StartExecutor();
  // A new spec of `type` for `function`, with `args` packed in; the
  // references to hold until the call is done go to `held`.
  absl::StatusOr<proto::TaskSpec> NewSpec(proto::TaskType type, const std::string& function,
                                          std::vector<WireArg>& args, std::vector<RefData>& held);
  // A worker's result on its way out: references handed over, large ones stored.
  void SinkResult(const proto::TaskSpec& spec, const std::string& object_id, proto::ObjectValue* result);
  // Stores a result of `size` bytes that `write` packs as `object_id`, for
  // the call's caller: where it is, or the store's error; nullopt (nothing
  // done) when a value of that size goes inline.
  std::optional<proto::ObjectValue> StoreResult(const proto::TaskSpec& spec, const std::string& object_id, size_t size,
                                                const std::function<void(char*)>& write);
  // Resolves a call's by-reference argument in a worker.
  bool ResolveArg(const proto::TaskArg& a, Bytes* out, proto::ObjectValue* error);
  void Tick();
  // A worker whose node's store failed it: exits at once if its raylet (its
  // parent) is gone, so the caller sees a dead worker and retries elsewhere.
  void ExitIfRayletGone();
  void RequestExit(const std::string& actor_exit_reason);

  RuntimeOptions options_;
  proto::JobInfo job_;
  proto::Address self_;
  std::string self_addr_;
  std::string raylet_;  // this node's raylet, HOST:PORT
  pid_t raylet_pid_ = 0;  // a worker's parent

  // Transport: the one completion queue, the server, the client queue.
  std::unique_ptr<TaskExecutor::AsyncService> service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<QueuePoller> poller_;
  std::unique_ptr<ClientQueue> client_queue_;
  std::thread rpc_thread_;  // a driver's poller (a worker's executor threads poll)
  StubCache<proto::RayletService> raylets_;
  StubCache<proto::WorkerService> workers_;
  std::unique_ptr<GcsClient> gcs_;
  std::unique_ptr<KvClient> kv_;
  std::unique_ptr<PlacementGroups> groups_;

  // Objects.
  MemoryStore store_;
  std::unique_ptr<NodeStore> node_store_;
  std::unique_ptr<GrpcOwnerClient> owners_;
  std::unique_ptr<ActorScopes> actor_scopes_;
  std::unique_ptr<ReferenceCounter> refs_;
  std::unique_ptr<Lineage> lineage_;
  std::unique_ptr<ObjectGetter> getter_;
  std::unique_ptr<OwnerService> owner_service_;
  std::unique_ptr<WorkerOutput> output_;
  std::atomic<bool> ran_work_{false};  // a task or an actor of this job ran: its output may follow

  // Calls out and in.
  std::unique_ptr<DependencyResolver> resolver_;
  std::unique_ptr<GeneratorStreams> generators_;
  std::unique_ptr<GrpcTransport> transport_;
  std::unique_ptr<TaskSubmitter> tasks_;
  std::unique_ptr<WaitWarning> wait_warning_;
  std::unique_ptr<ActorSubmitter> actors_;
  std::unique_ptr<TaskExecutor> executor_;
  std::unique_ptr<TaskEvents> task_events_;  // null when the job does not report them

  static inline std::atomic<int64_t> live_{0};
  // Leases, borrowers, the keep-alive, task events: every kTickPeriod, or
  // kIdleTickPeriod while the process is idle (QueuePoller::dozing).
  static constexpr absl::Duration kTickPeriod = absl::Milliseconds(50);
  static constexpr absl::Duration kIdleTickPeriod = absl::Milliseconds(500);
  Ticker ticker_;
  int64_t last_borrower_check_ms_ = 0;  // ticker thread only
  std::atomic<bool> started_{false}, stopped_{false};
  absl::Mutex exit_mu_;
  bool exit_requested_ ABSL_GUARDED_BY(exit_mu_) = false;
  std::string exit_reason_ ABSL_GUARDED_BY(exit_mu_);  // set when the actor ended itself
};

}  // namespace glint::internal
