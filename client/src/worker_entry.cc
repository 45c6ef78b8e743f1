// A worker process's life: load the job's code, start the runtime as a
// worker, serve until told to exit, stop, exit.
#include "client/src/worker_entry.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/src/fork_server.h"
#include "client/src/registry_lookup.h"
#include "common/async_call.h"
#include "common/auth.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/memory.h"
#include "proto/raylet.grpc.pb.h"

namespace glint::internal {
namespace {

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

// The raylet hands the cluster token (and the TLS files) over in the
// environment; the job's code has no use for the token there. Once per
// process; an error if the TLS files cannot be read.
absl::Status TakeAuthFromEnvironment() {
  static const absl::Status taken = [] {
    absl::Status s = SetClusterAuth(AuthFromEnvironment());
    unsetenv("GLINT_AUTH_TOKEN");
    return s;
  }();
  return taken;
}

// Tells the raylet why this worker could not start.
void ReportStartupFailure(const std::string& error) {
  // glint-worker may fail before RunWorkerProcess; without its credentials
  // the report cannot reach the raylet (which then names this log).
  if (!TakeAuthFromEnvironment().ok()) return;
  proto::RegisterWorkerRequest req;
  req.set_worker_id(IdFromHex(Env("GLINT_WORKER_ID")));
  req.set_pid(getpid());
  req.set_startup_error(error);
  proto::RegisterWorkerReply reply;
  ClientQueueThread client;
  auto stub = MakeStub<proto::RayletService>(Env("GLINT_RAYLET_ADDRESS"));
  LogCallFailure("reporting the failed start-up to the raylet",
                 BlockingCall(client.queue(), stub.get(), &proto::RayletService::Stub::PrepareAsyncRegisterWorker,
                              std::move(req), 5000, &reply));
}

// Loads the job's shared libraries (an executable among the paths is this
// process itself when we get here).
void LoadCodeLibraries() {
  for (auto p : absl::StrSplit(Env("GLINT_CODE_PATHS"), ':', absl::SkipEmpty())) {
    std::string path(p);
    if (!absl::StrContains(path, ".so")) continue;
    if (!dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
      FailWorkerStartup(absl::StrCat("cannot load the job's code ", path, ": ", dlerror()));
    }
  }
}

}  // namespace

void FailWorkerStartup(const std::string& why) {
  LOG(ERROR) << why;
  ReportStartupFailure(why);
  _exit(3);
}

void RunWorkerProcess() {
  InitLogging("glint-worker", /*crash_handler=*/true);
  // stdout is the worker's log file: line by line, so what user code prints
  // reaches the log (and the driver, raylet/log_monitor.h) as it prints it.
  setvbuf(stdout, nullptr, _IOLBF, 0);
  ReturnLargeBlocksToTheSystem();
  LoadCodeLibraries();
  if (auto s = CheckRegistry(); !s.ok()) FailWorkerStartup(std::string(s.message()));
  // A fork server waits here (no thread has started yet) and each worker it
  // forks carries on below.
  ServeForksIfAsked();
  if (auto s = TakeAuthFromEnvironment(); !s.ok()) {
    LOG(ERROR) << "cannot start: " << s.message();
    _exit(3);
  }
  RuntimeOptions o;
  o.is_worker = true;
  o.gcs_address = Env("GLINT_GCS_ADDRESS");
  o.node_ip = Env("GLINT_NODE_IP").empty() ? "127.0.0.1" : Env("GLINT_NODE_IP");
  o.raylet_address = Env("GLINT_RAYLET_ADDRESS");
  o.worker_id = IdFromHex(Env("GLINT_WORKER_ID"));
  o.node_id = IdFromHex(Env("GLINT_NODE_ID"));
  o.job.set_job_id(IdFromHex(Env("GLINT_JOB_ID")));
  Runtime* rt = StartWorkerRuntime(o);
  if (!rt->ServeUntilExit()) _exit(1);  // the node died: its calls fail at their callers now
  rt->Stop();
  _exit(0);
}

}  // namespace glint::internal
