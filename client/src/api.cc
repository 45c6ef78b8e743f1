// The public API's entry points: Init/Shutdown and the runtime boundary.
#include <dlfcn.h>
#include <atomic>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "client/src/actor_loop.h"
#include "client/src/errors_convert.h"
#include "client/src/launcher.h"
#include "client/src/runtime.h"
#include "client/src/worker_entry.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/process.h"
#include "glint/api.h"

namespace glint {
namespace internal {
namespace {

absl::Mutex g_mu;
// Never deleted: RPC callbacks may still reach a runtime after Shutdown.
Runtime* g_runtime ABSL_GUARDED_BY(g_mu) = nullptr;
// The same, read without the lock by reference counting (hot: every ObjectRef copy).
std::atomic<Runtime*> g_live{nullptr};
std::vector<Daemon> g_private_cluster ABSL_GUARDED_BY(g_mu);

// The live runtime, without a lock: every call goes through here.
Runtime& Rt() {
  Runtime* rt = g_live.load(std::memory_order_acquire);
  if (!rt) throw Error("Glint is not initialized: call glint::Init() first");
  return *rt;
}

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

void ReportStartup(const std::string& error, int port) {
  proto::RegisterWorkerRequest req;
  req.set_worker_id(IdFromHex(Env("GLINT_WORKER_ID")));
  req.set_pid(getpid());
  req.set_port(port);
  req.set_startup_error(error);
  proto::RegisterWorkerReply reply;
  grpc::ClientContext ctx;
  SetDeadlineMs(&ctx, 5000);
  (void)MakeStub<proto::RayletService>(Env("GLINT_RAYLET_ADDRESS"))->RegisterWorker(&ctx, req, &reply);
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
  ReportStartup(why, 0);
  _exit(3);
}

void RunWorkerProcess() {
  InitLogging("glint-worker");
  LoadCodeLibraries();
  RuntimeOptions o;
  o.is_worker = true;
  o.gcs_address = Env("GLINT_GCS_ADDRESS");
  o.node_ip = Env("GLINT_NODE_IP").empty() ? "127.0.0.1" : Env("GLINT_NODE_IP");
  o.raylet_address = Env("GLINT_RAYLET_ADDRESS");
  o.worker_id = IdFromHex(Env("GLINT_WORKER_ID"));
  o.node_id = IdFromHex(Env("GLINT_NODE_ID"));
  o.job.set_job_id(IdFromHex(Env("GLINT_JOB_ID")));
  auto* rt = new Runtime(o);
  {
    absl::MutexLock lock(&g_mu);
    g_runtime = rt;
    g_live = rt;
  }
  if (auto s = rt->Start(); !s.ok()) FailWorkerStartup(std::string(s.message()));
  rt->ServeUntilExit();
  rt->Shutdown();
  _exit(0);
}

RefData SubmitTask(const std::string& function, std::vector<WireArg> args, const TaskOptions& opts) {
  return Rt().SubmitTask(function, std::move(args), opts);
}

std::string CreateActor(const std::string& factory, std::vector<WireArg> args, const ActorOptions& opts) {
  return Rt().CreateActor(factory, std::move(args), opts);
}

RefData SubmitActorTask(const std::string& actor_id, const std::string& method, std::vector<WireArg> args,
                        const std::string& concurrency_group) {
  return Rt().SubmitActorTask(actor_id, method, std::move(args), concurrency_group);
}

RefData PutObject(std::string data, std::vector<RefData> nested) {
  return Rt().Put(std::move(data), std::move(nested));
}

size_t InlineThreshold() { return Rt().inline_threshold(); }

RefData PutStoredObject(size_t size, const std::function<void(char*)>& write, std::vector<RefData> nested) {
  return Rt().PutStored(size, write, std::move(nested));
}

namespace {
void RefuseBlockingOnLoop(int64_t timeout_ms, const char* what) {
  if (timeout_ms != 0 && ActorLoop::OnLoopThread()) {
    throw AsyncGetError(absl::StrCat("a blocking ", what,
                                     " inside an async actor would freeze its event loop; use "
                                     "co_await ref instead"));
  }
}
}  // namespace

void OnObjectReady(const RefData& ref, std::function<void()> fn) { Rt().OnReady(ref, std::move(fn)); }

bool ObjectIsReady(const RefData& ref) { return Rt().IsReady(ref); }

Bytes GetObject(const RefData& ref, int64_t timeout_ms) {
  RefuseBlockingOnLoop(timeout_ms, "Get");
  auto v = Rt().Get(ref, timeout_ms);
  if (!v) {
    throw GetTimeoutError(absl::StrCat("Get timed out after ", timeout_ms, " ms waiting for object ",
                                       ShortHex(ref.id)));
  }
  Bytes out;
  if (!Rt().node_store().Materialize(ref.id, *v, &out)) ThrowIfError(*v);
  return out;
}

std::vector<bool> WaitObjects(const std::vector<RefData>& refs, int num_returns, int64_t timeout_ms,
                              bool fetch_local) {
  RefuseBlockingOnLoop(timeout_ms, "Wait");
  return Rt().Wait(refs, num_returns, timeout_ms, fetch_local);
}

std::optional<std::string> GetNamedActor(const std::string& name, const std::string& ray_namespace) {
  return Rt().GetNamedActor(name, ray_namespace);
}

void KillActor(const std::string& actor_id, bool no_restart) { Rt().KillActor(actor_id, no_restart); }

void AddLocalRef(const std::string& id, const std::string& owner) {
  if (auto* rt = g_live.load(std::memory_order_acquire)) rt->AddLocalRef(id, owner);
}

void RemoveLocalRef(const std::string& id, const std::string& owner) {
  if (auto* rt = g_live.load(std::memory_order_acquire)) rt->RemoveLocalRef(id, owner);
}

namespace {
thread_local EscapeCollector* t_collector = nullptr;
}  // namespace

EscapeCollector::EscapeCollector(bool hold) : outer_(t_collector), hold_(hold) { t_collector = this; }
EscapeCollector::~EscapeCollector() { t_collector = outer_; }

void MarkEscaped(const std::string& id, const std::string& owner) {
  if (t_collector) {
    t_collector->refs.push_back({id, owner});
    if (t_collector->hold()) {
      if (auto* rt = g_live.load(std::memory_order_acquire)) rt->AddLocalRef(id, owner, /*register_borrow=*/false);
    }
    return;
  }
  if (auto* rt = g_live.load(std::memory_order_acquire)) rt->MarkEscaped(id, owner);
}

}  // namespace internal

using internal::g_mu;
using internal::g_private_cluster;
using internal::g_runtime;

void Init() { Init(Config{}); }

void Init(const Config& config) {
  if (getenv("GLINT_WORKER_MODE")) internal::RunWorkerProcess();
  InitLogging("glint-driver");
  absl::MutexLock lock(&g_mu);
  if (g_runtime) throw Error("Glint is already initialized");
  internal::RuntimeOptions o;
  o.node_ip = config.node_ip;
  o.raylet_address = config.local_raylet.empty() ? internal::Env("GLINT_LOCAL_RAYLET") : config.local_raylet;
  o.gcs_address = config.address.empty() ? internal::Env("GLINT_ADDRESS") : config.address;
  if (o.gcs_address == "auto") {
    std::ifstream f(internal::SessionRoot() + "/session_latest/gcs_address");
    if (!(f >> o.gcs_address)) {
      throw ConnectionError("address 'auto': no cluster started with 'glint start' on this machine");
    }
  }
  if (o.gcs_address.empty()) {
    auto dir = internal::NewSessionDir(false);
    if (!dir.ok()) throw Error(std::string(dir.status().message()));
    internal::NodeOptions n;
    n.gcs_port = 0;
    n.session_dir = *dir;
    n.num_cpus = config.num_cpus;
    n.watch_pid = getpid();
    if (!config.resources.empty()) {
      std::string json = "{";
      for (auto& [k, v] : config.resources) absl::StrAppend(&json, json.size() > 1 ? "," : "", "\"", k, "\":", v);
      n.resources_json = json + "}";
    }
    auto daemons = internal::StartNode(n);
    if (!daemons.ok()) throw Error("cannot start a private cluster: " + std::string(daemons.status().message()));
    g_private_cluster = *daemons;
    o.gcs_address = g_private_cluster.front().address;
  }
  o.job.set_ray_namespace(config.namespace_.empty() ? internal::Env("GLINT_NAMESPACE") : config.namespace_);
  if (config.code_search_path.empty()) {
    o.job.mutable_code()->add_paths(SelfExePath());
  } else {
    for (auto& p : config.code_search_path) o.job.mutable_code()->add_paths(p);
  }
  auto* rt = new internal::Runtime(o);
  if (auto s = rt->Start(); !s.ok()) {
    for (auto& d : g_private_cluster) internal::StopDaemon(d.pid, 2000);
    g_private_cluster.clear();
    throw ConnectionError(std::string(s.message()));
  }
  g_runtime = rt;
  internal::g_live = rt;
}

void Init(int argc, char** argv) {
  if (getenv("GLINT_WORKER_MODE")) internal::RunWorkerProcess();
  Config c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto take = [&a](const char* flag, std::string* out) {
      std::string prefix = std::string(flag) + "=";
      if (a.rfind(prefix, 0) != 0) return false;
      *out = a.substr(prefix.size());
      return true;
    };
    std::string paths;
    if (take("--glint_address", &c.address) || take("--glint_namespace", &c.namespace_)) continue;
    if (take("--glint_code_search_path", &paths)) {
      for (auto p : absl::StrSplit(paths, ':', absl::SkipEmpty())) c.code_search_path.emplace_back(p);
    }
  }
  Init(c);
}

void Shutdown() {
  absl::MutexLock lock(&g_mu);
  if (!g_runtime) return;
  g_runtime->Shutdown();
  g_runtime = nullptr;  // kept alive on purpose (see above)
  internal::g_live = nullptr;
  for (auto it = g_private_cluster.rbegin(); it != g_private_cluster.rend(); ++it) {
    internal::StopDaemon(it->pid, 3000);
  }
  g_private_cluster.clear();
}

void ExitActor() {
  {
    absl::MutexLock lock(&g_mu);
    if (!g_runtime || !g_runtime->executor() || !g_runtime->executor()->hosts_actor()) {
      throw Error("ExitActor() can only be called from inside an actor's method");
    }
  }
  throw internal::ActorExitSignal{};
}

bool WasCurrentActorRestarted() {
  absl::MutexLock lock(&g_mu);
  return g_runtime && g_runtime->executor() && g_runtime->executor()->actor_restarted();
}

bool IsInitialized() {
  absl::MutexLock lock(&g_mu);
  return g_runtime != nullptr;
}

}  // namespace glint
