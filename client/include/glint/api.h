// Glint's public API: the one header a driver or a remote function includes.
#pragma once
#include "glint/internal/export.h"
#include "glint/actor_pool.h"
#include "glint/async.h"
#include "glint/buffer.h"
#include "glint/cancel.h"
#include "glint/config.h"
#include "glint/errors.h"
#include "glint/generator.h"
#include "glint/kv.h"
#include "glint/object_ref.h"
#include "glint/object_ref_generator.h"
#include "glint/placement_group.h"
#include "glint/queue.h"
#include "glint/remote.h"

#include <string>
#include <vector>

namespace glint {

// Connects to the cluster (see Config) and registers this driver's job. In a
// worker process started by a raylet this never returns: the process serves
// tasks and exits when told to. Call it first thing in main().
GLINT_EXPORT void Init();
GLINT_EXPORT void Init(const Config& config);
// As Init(), taking --glint_address=, --glint_namespace= and
// --glint_code_search_path= (':'-separated) from the command line.
GLINT_EXPORT void Init(int argc, char** argv);
// Ends the job: non-detached actors die; a private cluster is stopped.
GLINT_EXPORT void Shutdown();
GLINT_EXPORT bool IsInitialized();

// Inside an actor method: ends the actor once this call returns. The call and
// every later one fail with ActorDiedError; the actor is not restarted and
// its name becomes free. Outside an actor it throws glint::Error.
[[noreturn]] GLINT_EXPORT void ExitActor();
// Inside an actor: whether this instance is a restart (max_restarts) rather
// than the first construction.
GLINT_EXPORT bool WasCurrentActorRestarted();
// Inside a task or actor: the ids of the GPUs its lease holds (what
// CUDA_VISIBLE_DEVICES is set to while it runs), e.g. {"0"} for
// SetResources({{"GPU", 1}}); one id shared with others for a fraction of a
// GPU; empty when it asked for none, and in a driver. The ids are the node's
// own: "0".."N-1", or the entries of CUDA_VISIBLE_DEVICES the node was
// started with.
GLINT_EXPORT std::vector<std::string> GetGpuIds();

}  // namespace glint
