// OwnerService: what other processes ask this one through WorkerService,
// apart from running tasks (execute/): the value of an object it owns
// (answered once ready; made again first when the asker found its copy
// lost), borrowers registering and letting go, and Exit. A driver also
// answers PushTask/PushTasks, with a refusal: it runs no tasks.
// Served from the process's completion queue (QueuePoller); handlers never
// block.
#pragma once
#include <functional>
#include <string>

#include "client/src/execute/task_executor.h"
#include "client/src/objects/lineage.h"
#include "client/src/objects/memory_store.h"
#include "client/src/objects/reference_counter.h"

namespace glint::internal {

class OwnerService {
 public:
  using ExitFn = std::function<void()>;  // the raylet asked this process to exit
  // Borrows everything; all must outlive the server's queue.
  // `rebuild` makes an object again whose copy a borrower found lost.
  OwnerService(TaskExecutor::AsyncService* service, grpc::ServerCompletionQueue* cq, MemoryStore* store,
               ReferenceCounter* refs, RebuildFn rebuild, ExitFn on_exit)
      : service_(service), cq_(cq), store_(store), refs_(refs), rebuild_(std::move(rebuild)),
        on_exit_(std::move(on_exit)) {}
  // Starts serving; with `refuse_tasks` (a driver) also PushTask/PushTasks.
  void Start(bool refuse_tasks);

 private:
  TaskExecutor::AsyncService* const service_;
  grpc::ServerCompletionQueue* const cq_;
  MemoryStore* const store_;
  ReferenceCounter* const refs_;
  const RebuildFn rebuild_;
  const ExitFn on_exit_;
};

}  // namespace glint::internal
