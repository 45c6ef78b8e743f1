// TaskExecutor: runs the tasks pushed to this worker process.
//
// Normal tasks run in arrival order; actor calls run in each caller's
// submission order (by sequence number, holding early arrivals back). A sync
// actor and a task worker run one call at a time on one thread; an actor
// created with max_concurrency n runs up to n calls on n threads. Threads are
// made at start and at actor creation, never per call. Thread-safe.
#pragma once
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "proto/worker.pb.h"

namespace glint::internal {

// Thrown by glint::ExitActor(); deliberately not a std::exception, so user
// code catching std::exception does not swallow it.
struct ActorExitSignal {};

class TaskExecutor {
 public:
  using Done = std::function<void(proto::PushTaskReply&)>;
  // Resolves a by-reference argument to its bytes (blocking); errors come
  // back as the value's error.
  using ArgResolver = std::function<proto::ObjectValue(const proto::ObjectRef&)>;
  TaskExecutor(ArgResolver resolver, std::string where, std::string code_paths)
      : resolver_(std::move(resolver)), where_(std::move(where)), code_paths_(std::move(code_paths)) {}
  ~TaskExecutor();

  void Start();
  void Stop();
  // From an RPC thread; `done` runs on an executor thread once the task ran.
  void Enqueue(const proto::TaskSpec& spec, Done done);
  bool actor_restarted() const { return restarted_; }
  bool hosts_actor() const { return actor_ != nullptr; }
  const std::string& actor_id() const { return actor_id_; }
  // Called once, after the reply to the call that ran ExitActor() is sent.
  void SetOnActorExit(std::function<void()> f) { on_exit_ = std::move(f); }
  bool executing_normal_task() const;

 private:
  struct Item {
    const proto::TaskSpec* spec;
    Done done;
  };
  struct Caller {
    int64_t next = 0;
    std::map<int64_t, Item> early;
  };
  void Loop();
  void Execute(const proto::TaskSpec& spec, proto::PushTaskReply* reply);
  void AddThreads(int n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ArgResolver resolver_;
  const std::string where_;
  const std::string code_paths_;
  absl::Mutex mu_;
  std::deque<Item> ready_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Caller> callers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  void* actor_ = nullptr;  // set once by the creation task
  std::string actor_id_;
  bool restarted_ = false;
  std::atomic<bool> exiting_{false};
  std::function<void()> on_exit_;
};

}  // namespace glint::internal
