// The public API's entry points: Init/Shutdown, and the boundary between the
// API's templates (runtime_api.h) and the runtime. This is where the
// runtime's statuses become the typed glint::Error exceptions.
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "client/src/errors.h"
#include "client/src/execute/actor_loop.h"
#include "client/src/execute/gpu_ids.h"
#include "client/src/objects/ready_count.h"
#include "client/src/registry_lookup.h"
#include "client/src/runtime.h"
#include "client/src/worker_entry.h"
#include "common/auth.h"
#include "common/gate.h"
#include "common/ids.h"
#include "common/launcher.h"
#include "common/session.h"
#include "common/logging.h"
#include "common/process.h"
#include "common/queue_poller.h"
#include "common/resources.h"
#include "glint/api.h"

namespace glint {
namespace internal {
namespace {

absl::Mutex g_mu;
Runtime* g_runtime ABSL_GUARDED_BY(g_mu) = nullptr;
// The same, read without the lock on every call (hot: every ObjectRef
// copy), behind a gate that Shutdown closes to know no call is inside it.
std::atomic<Runtime*> g_live{nullptr};
Gate g_calls;
std::vector<Daemon> g_private_cluster ABSL_GUARDED_BY(g_mu);

// The live runtime for the length of one call (empty before Init and after
// Shutdown).
class Use {
 public:
  Use() : pass_(g_calls.TryEnter()), rt_(pass_ ? g_live.load() : nullptr) {}
  Runtime* get() const { return rt_; }
  Runtime* operator->() const {
    if (!rt_) throw Error("Glint is not initialized: call glint::Init() first");
    return rt_;
  }

 private:
  Gate::Pass pass_;
  Runtime* rt_;
};

template <typename T>
T ValueOrThrow(absl::StatusOr<T> v) {
  ThrowIfError(v.status());
  return std::move(*v);
}

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

void RefuseBlockingOnLoop(int64_t timeout_ms, const char* what) {
  if (timeout_ms != 0 && ActorLoop::OnLoopThread()) {
    throw AsyncGetError(absl::StrCat("a blocking ", what,
                                     " inside an async actor would freeze its event loop; use "
                                     "co_await ref instead"));
  }
}

thread_local EscapeCollector* t_collector = nullptr;

}  // namespace

Runtime* StartWorkerRuntime(RuntimeOptions o) {
  auto* rt = new Runtime(std::move(o));
  {
    // Published first: calls may run as soon as Start() serves them.
    absl::MutexLock lock(&g_mu);
    g_runtime = rt;
    g_live = rt;
  }
  if (auto s = rt->Start(); !s.ok()) FailWorkerStartup(std::string(s.message()));
  return rt;
}

RefData SubmitTask(const std::string& function, std::vector<WireArg> args, const TaskOptions& opts) {
  return ValueOrThrow(Use()->SubmitTask(function, std::move(args), opts));
}

RefData CreateActor(const std::string& factory, std::vector<WireArg> args, const ActorOptions& opts) {
  return ValueOrThrow(Use()->CreateActor(factory, std::move(args), opts));
}

RefData SubmitActorTask(const RefData& actor, const std::string& method, std::vector<WireArg> args,
                        const ActorCallOptions& opts) {
  return ValueOrThrow(Use()->SubmitActorTask(actor, method, std::move(args), opts));
}

RefData PutObject(std::string data, std::vector<RefData> nested) {
  return Use()->Put(std::move(data), std::move(nested));
}

size_t InlineThreshold() { return Use()->inline_threshold(); }

RefData PutStoredObject(size_t size, const std::function<void(char*)>& write, std::vector<RefData> nested) {
  return ValueOrThrow(Use()->PutStored(size, write, std::move(nested)));
}

void OnObjectReady(const RefData& ref, std::function<void()> fn) { Use()->getter().OnReady(ref, std::move(fn)); }

bool ObjectIsReady(const RefData& ref) { return Use()->getter().IsReady(ref); }

Bytes GetObject(const RefData& ref, int64_t timeout_ms) {
  RefuseBlockingOnLoop(timeout_ms, "Get");
  Use rt;
  Bytes out;
  auto v = rt->getter().Read(ref, timeout_ms, &out);
  if (!v) {
    throw GetTimeoutError(absl::StrCat("Get timed out after ", timeout_ms, " ms waiting for object ",
                                       ShortHex(ref.id)));
  }
  ThrowIfError(*v);
  return out;
}

std::exception_ptr FailureOf(const RefData& ref) {
  auto v = Use()->getter().TryGet(ref);
  if (!v || !v->has_error()) return nullptr;
  try {
    ThrowIfError(*v);
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

std::vector<bool> WaitObjects(const std::vector<RefData>& refs, int num_returns, int64_t timeout_ms,
                              bool fetch_local) {
  RefuseBlockingOnLoop(timeout_ms, "Wait");
  return Use()->getter().Wait(refs, num_returns, timeout_ms, fetch_local);
}

namespace {
// A generator is named by its call's return object; its items by the task.
std::string GeneratorTask(const RefData& gen) {
  if (gen.id.empty()) throw Error("this ObjectRefGenerator is empty");
  return gen.id.substr(0, gen.id.size() - 1);
}

absl::Time Deadline(int64_t timeout_ms) {
  return timeout_ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout_ms);
}
}  // namespace

std::optional<RefData> GeneratorNext(const RefData& gen, int64_t timeout_ms) {
  RefuseBlockingOnLoop(timeout_ms, "Next");
  auto next = Use()->generators().Next(GeneratorTask(gen), Deadline(timeout_ms));
  if (absl::IsDeadlineExceeded(next.status())) {
    throw GetTimeoutError(absl::StrCat("Next timed out after ", timeout_ms, " ms: the generator yielded nothing"));
  }
  return ValueOrThrow(std::move(next));
}

bool GeneratorIsReady(const RefData& gen) { return Use()->generators().IsReady(GeneratorTask(gen)); }

void OnGeneratorReady(const RefData& gen, std::function<void()> fn) {
  Use()->generators().OnReady(GeneratorTask(gen), std::move(fn));
}

void DropGenerator(const RefData& gen) {
  Use rt;
  if (rt.get() && !gen.id.empty()) rt.get()->generators().Drop(GeneratorTask(gen));
}

std::vector<bool> WaitAny(const std::vector<RefData>& refs, const std::vector<RefData>& gens, int num_returns,
                          int64_t timeout_ms) {
  RefuseBlockingOnLoop(timeout_ms, "Wait");
  Use rt;
  auto ready = std::make_shared<ReadyCount>(refs.size() + gens.size());
  for (size_t i = 0; i < refs.size(); ++i) rt->getter().OnReady(refs[i], [ready, i] { ready->Set(i); });
  for (size_t i = 0; i < gens.size(); ++i) {
    rt->generators().OnReady(GeneratorTask(gens[i]), [ready, k = refs.size() + i] { ready->Set(k); });
  }
  QueuePoller::BlockingScope blocking;
  return ready->Wait(num_returns < 0 ? 0 : num_returns, Deadline(timeout_ms));
}

void CancelCall(const RefData& ref, bool force, bool recursive) {
  ThrowIfError(Use()->Cancel(ref, force, recursive));
}

std::optional<RefData> GetNamedActor(const std::string& name, const std::string& namespace_) {
  return ValueOrThrow(Use()->GetNamedActor(name, namespace_));
}

void KillActor(const std::string& actor_id, bool no_restart) { ThrowIfError(Use()->KillActor(actor_id, no_restart)); }

}  // namespace internal

namespace kv {
using internal::Use;
using internal::ValueOrThrow;

bool Put(const std::string& key, const std::string& value, bool overwrite, const std::string& ns) {
  return ValueOrThrow(Use()->kv().Put(ns, key, value, overwrite));
}
std::optional<std::string> Get(const std::string& key, const std::string& ns) {
  return ValueOrThrow(Use()->kv().Get(ns, key));
}
bool Exists(const std::string& key, const std::string& ns) { return ValueOrThrow(Use()->kv().Exists(ns, key)); }
int64_t Delete(const std::string& key, bool by_prefix, const std::string& ns) {
  return ValueOrThrow(Use()->kv().Delete(ns, key, by_prefix));
}
std::vector<std::string> Keys(const std::string& prefix, const std::string& ns) {
  return ValueOrThrow(Use()->kv().Keys(ns, prefix));
}
}  // namespace kv

namespace internal {

void AddLocalRef(const std::string& id, const std::string& owner) {
  Use rt;
  if (rt.get()) rt.get()->refs().AddLocalRef(id, owner);
}

void RemoveLocalRef(const std::string& id, const std::string& owner) {
  Use rt;
  if (rt.get()) rt.get()->refs().RemoveLocalRef(id, owner);
}

EscapeCollector::EscapeCollector(bool hold) : outer_(t_collector), hold_(hold) { t_collector = this; }
EscapeCollector::~EscapeCollector() {
  t_collector = outer_;
  if (!hold_) return;
  for (auto& r : refs) RemoveLocalRef(r.id, r.owner);  // not taken: what they were packed into was never made
}

void MarkEscaped(const std::string& id, const std::string& owner) {
  Use rt;
  if (t_collector) {
    t_collector->refs.push_back({id, owner});
    if (t_collector->hold() && rt.get()) rt.get()->refs().AddLocalRef(id, owner, /*register_borrow=*/false);
    return;
  }
  if (rt.get()) rt.get()->refs().MarkEscaped(id, owner);
}

namespace {

// Starts a private single-node cluster for a driver given no address, with
// `auth` as its cluster token and TLS settings.
std::string StartPrivateCluster(const Config& config, const AuthOptions& auth) ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_mu) {
  auto dir = NewSessionDir();
  if (!dir.ok()) throw Error(std::string(dir.status().message()));
  NodeOptions n;
  n.gcs_port = 0;
  n.session_dir = *dir;
  n.num_cpus = config.num_cpus;
  n.watch_pid = getpid();
  n.auth_token = auth.token;
  n.tls = auth.tls;
  if (!config.resources.empty()) n.resources_json = ToJson(ResourceSet(config.resources.begin(), config.resources.end()));
  auto daemons = StartNode(n);
  if (!daemons.ok()) throw Error("cannot start a private cluster: " + std::string(daemons.status().message()));
  g_private_cluster = *daemons;
  return g_private_cluster.front().address;
}

void StopPrivateCluster() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_mu) {
  for (auto it = g_private_cluster.rbegin(); it != g_private_cluster.rend(); ++it) StopDaemon(it->pid, 3000);
  g_private_cluster.clear();
}

// Stops the runtime and frees it once no call is inside it any more (a call
// blocked in another thread keeps it, and says so).
void StopRuntime(Runtime* rt) {
  g_live = nullptr;
  rt->Stop();
  if (g_calls.Close(absl::Seconds(10))) {
    delete rt;
  } else {
    LOG(WARNING) << "Shutdown: other threads are still inside Glint calls; the stopped runtime is left to them";
  }
  g_calls.Reopen();
}

}  // namespace
}  // namespace internal

using internal::g_mu;
using internal::g_runtime;

void Init() { Init(Config{}); }

void Init(const Config& config) {
  if (getenv("GLINT_WORKER_MODE")) internal::RunWorkerProcess();
  InitLogging("glint-driver", config.crash_handler);
  internal::ThrowIfError(internal::CheckRegistry());
  absl::MutexLock lock(&g_mu);
  if (g_runtime) throw Error("Glint is already initialized");
  internal::RuntimeOptions o;
  o.node_ip = !config.node_ip.empty() ? config.node_ip : internal::Env("GLINT_NODE_IP");
  if (o.node_ip.empty()) o.node_ip = "127.0.0.1";
  o.gcs_reconnect_timeout_ms = std::max<int64_t>(config.gcs_reconnect_timeout_ms, 0);
  o.raylet_address = config.local_raylet.empty() ? internal::Env("GLINT_LOCAL_RAYLET") : config.local_raylet;
  o.gcs_address = config.address.empty() ? internal::Env("GLINT_ADDRESS") : config.address;
  if (o.gcs_address == "auto") {
    std::ifstream f(SessionRoot() + "/session_latest/gcs_address");
    if (!(f >> o.gcs_address)) {
      throw ConnectionError("address 'auto': no cluster started with 'glint start' on this machine");
    }
  }
  // The token and TLS: given, in the environment, or recorded by the
  // cluster's session on this machine (a private cluster gets a new token).
  AuthOptions auth;
  auth.token = config.auth_token;
  auth.tls = TlsFiles{config.tls_cert, config.tls_key, config.tls_ca, config.tls_mutual, config.tls_server_name};
  auth = ResolveAuth(std::move(auth), o.gcs_address);
  if (o.gcs_address.empty() && auth.token.empty()) auth.token = NewAuthToken();
  if (auto s = SetClusterAuth(auth); !s.ok()) throw ConnectionError(std::string(s.message()));
  if (o.gcs_address.empty()) o.gcs_address = internal::StartPrivateCluster(config, auth);
  o.job.set_log_to_driver(config.log_to_driver && internal::Env("GLINT_LOG_TO_DRIVER") != "0");
  o.job.set_task_events(config.task_events && internal::Env("GLINT_TASK_EVENTS") != "0");
  o.job.set_ray_namespace(config.namespace_.empty() ? internal::Env("GLINT_NAMESPACE") : config.namespace_);
  if (config.code_search_path.empty()) {
    o.job.mutable_code()->add_paths(SelfExePath());
  } else {
    for (auto& p : config.code_search_path) o.job.mutable_code()->add_paths(p);
  }
  auto rt = std::make_unique<internal::Runtime>(o);
  if (auto s = rt->Start(); !s.ok()) {
    rt.reset();
    internal::StopPrivateCluster();
    throw ConnectionError(std::string(s.message()));
  }
  g_runtime = rt.release();
  internal::g_live = g_runtime;
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
  internal::StopRuntime(g_runtime);
  g_runtime = nullptr;
  internal::StopPrivateCluster();
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

std::vector<std::string> GetGpuIds() { return internal::CurrentGpuIds(); }

namespace {
std::vector<std::map<std::string, double>> BundlesOf(const proto::PlacementGroupInfo& g) {
  std::vector<std::map<std::string, double>> out;
  for (auto& b : g.bundles()) out.emplace_back(b.resources().begin(), b.resources().end());
  return out;
}
}  // namespace

PlacementGroup CreatePlacementGroup(const PlacementGroupOptions& options) {
  return PlacementGroup(internal::ValueOrThrow(internal::Use()->placement_groups().Create(options)), options.bundles);
}

std::optional<PlacementGroup> GetPlacementGroup(const std::string& name, const std::string& namespace_) {
  auto g = internal::ValueOrThrow(internal::Use()->placement_groups().Find(name, namespace_));
  if (!g) return std::nullopt;
  return PlacementGroup(g->group_id(), BundlesOf(*g));
}

void RemovePlacementGroup(const PlacementGroup& group) {
  internal::ThrowIfError(internal::Use()->placement_groups().Remove(group.ID()));
}

bool PlacementGroup::Wait(std::chrono::milliseconds timeout) const {
  return internal::ValueOrThrow(internal::Use()->placement_groups().Wait(id_, timeout.count()));
}

bool IsCancelled() {
  internal::Use rt;
  return rt.get() && rt.get()->executor() && rt.get()->executor()->CurrentCallCancelled();
}

bool IsInitialized() {
  absl::MutexLock lock(&g_mu);
  return g_runtime != nullptr;
}

}  // namespace glint
