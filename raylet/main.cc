// glint-raylet: the node daemon.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/daemon_flags.h"
#include "common/daemon_main.h"
#include "common/launcher.h"
#include "common/metrics.h"
#include "common/process.h"
#include "common/resources.h"
#include "raylet/gpus.h"
#include "raylet/raylet_server.h"

ABSL_FLAG(std::string, gcs_address, "127.0.0.1:6380", "the GCS, HOST:PORT");
ABSL_FLAG(std::string, host, "127.0.0.1", "this node's address");
ABSL_FLAG(int, port, 0, "port to listen on (0 picks a free one)");
ABSL_FLAG(double, num_cpus, -1, "CPUs to offer (default: the machine's cores)");
ABSL_FLAG(double, num_gpus, -1,
          "GPUs to offer (default: those CUDA_VISIBLE_DEVICES lists, else those the NVIDIA driver shows)");
ABSL_FLAG(std::string, resources, "", "custom resources, JSON: {\"name\": amount}");
ABSL_FLAG(bool, head, false, "this is the head node");
ABSL_FLAG(std::string, worker_path, "", "the glint-worker binary (default: beside this one)");
ABSL_FLAG(std::string, logs_dir, "", "directory for worker logs");
ABSL_FLAG(std::string, port_file, "", "write the bound port here once registered");
ABSL_FLAG(int, watch_pid, 0, "stop when this process is gone");
ABSL_FLAG(int64_t, idle_worker_timeout_ms, 60000, "kill workers idle this long");
ABSL_FLAG(int64_t, unused_lease_timeout_ms, 10000,
          "take back a task worker whose lease no holder has used this long after it was granted (the holder died)");
ABSL_FLAG(int, max_starting_workers, -1,
          "worker processes starting at once; more requests wait their turn (-1: twice the machine's cores, "
          "at least 4; 0: no limit)");
ABSL_FLAG(bool, fork_workers, true,
          "fork each job's new workers from a warm process of the job instead of starting each from scratch");
ABSL_FLAG(std::string, object_store_memory, "",
          "object store capacity, e.g. 2G (default: 30% of memory, within the free shared memory)");
constexpr char kDefaultStoreParent[] = "/dev/shm";
ABSL_FLAG(std::string, object_store_dir, kDefaultStoreParent,
          "where the object store keeps its files (a tmpfs; one mounted with huge=always gives it 2 MiB pages); "
          "a directory per node is made in it");
ABSL_FLAG(bool, same_host_copy, true,
          "pull objects from raylets of this host through shared memory, and lend this node's to them, "
          "instead of over the network");
ABSL_FLAG(bool, object_spilling, true, "spill objects to disk when the object store is full");
ABSL_FLAG(std::string, object_spilling_dir, "", "where spilled objects go (default: the session directory)");
ABSL_FLAG(int, metrics_port, 0, "serve Prometheus /metrics here (0 picks a free port, -1 serves none)");
ABSL_FLAG(bool, rpc_metrics, true, "time every unary call the raylet answers, for /metrics");
ABSL_FLAG(std::string, object_inline_threshold, "100K",
          "values smaller than this travel inline; larger ones go through the object store");

int main(int argc, char** argv) {
  glint::BeginDaemon("glint-raylet");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_rpc_metrics)) glint::metrics::EnableServerRpcMetrics();  // before its gRPC server is built
  auto auth = glint::SetUpDaemonAuth("glint-raylet");
  if (!auth.ok()) {
    std::cerr << "glint-raylet: " << auth.status().message() << "\n";
    return 2;
  }
  glint::raylet::RayletOptions opt;
  opt.auth = *auth;
  opt.gcs_address = absl::GetFlag(FLAGS_gcs_address);
  opt.host = absl::GetFlag(FLAGS_host);
  opt.port = absl::GetFlag(FLAGS_port);
  opt.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  auto res = glint::ParseResourceJson(absl::GetFlag(FLAGS_resources));
  if (!res.ok()) {
    std::cerr << "glint-raylet: --resources: " << res.status().message() << "\n";
    return 2;
  }
  opt.resources = *res;
  double cpus = absl::GetFlag(FLAGS_num_cpus);
  opt.resources["CPU"] = cpus >= 0 ? cpus : std::thread::hardware_concurrency();
  auto gpus = glint::raylet::NodeGpuIds(absl::GetFlag(FLAGS_num_gpus), getenv("CUDA_VISIBLE_DEVICES"));
  if (!gpus.ok()) {
    std::cerr << "glint-raylet: " << gpus.status().message() << "\n";
    return 2;
  }
  opt.gpu_ids = *gpus;
  if (!opt.gpu_ids.empty()) opt.resources["GPU"] = opt.gpu_ids.size();
  opt.is_head = absl::GetFlag(FLAGS_head);
  opt.worker_path = absl::GetFlag(FLAGS_worker_path);
  if (opt.worker_path.empty()) opt.worker_path = glint::SelfExeDir() + "/glint-worker";
  opt.log_dir = absl::GetFlag(FLAGS_logs_dir);
  opt.idle_worker_timeout_ms = absl::GetFlag(FLAGS_idle_worker_timeout_ms);
  opt.unused_lease_ms = absl::GetFlag(FLAGS_unused_lease_timeout_ms);
  if (opt.unused_lease_ms < 1000) {
    std::cerr << "glint-raylet: --unused_lease_timeout_ms: at least 1000 (a live holder uses its lease at once)\n";
    return 2;
  }
  opt.fork_workers = absl::GetFlag(FLAGS_fork_workers);
  opt.same_host_copy = absl::GetFlag(FLAGS_same_host_copy);
  int max_starting = absl::GetFlag(FLAGS_max_starting_workers);
  opt.max_starting_workers =
      max_starting >= 0 ? static_cast<size_t>(max_starting) : std::max(4u, 2 * std::thread::hardware_concurrency());

  std::string parent = absl::GetFlag(FLAGS_object_store_dir);
  if (!std::filesystem::is_directory(parent)) {
    if (parent != kDefaultStoreParent) {
      std::cerr << "glint-raylet: --object_store_dir " << parent << " is not a directory\n";
      return 2;
    }
    parent = "/tmp";  // a machine without /dev/shm
  }
  glint::RemoveStaleObjectStores(parent);
  opt.store.dir = glint::ObjectStoreDir(parent, getpid());
  if (absl::GetFlag(FLAGS_object_spilling)) {
    std::string spill = absl::GetFlag(FLAGS_object_spilling_dir);
    if (spill.empty()) spill = opt.log_dir.empty() ? "/tmp/glint" : opt.log_dir + "/..";
    opt.store.spill_dir = absl::StrCat(spill, "/spill-", getpid());
  }
  std::string mem = absl::GetFlag(FLAGS_object_store_memory);
  auto capacity = mem.empty() ? absl::StatusOr<int64_t>(glint::raylet::DefaultStoreCapacity(opt.store.dir))
                              : glint::raylet::ParseBytes(mem);
  auto threshold = glint::raylet::ParseBytes(absl::GetFlag(FLAGS_object_inline_threshold));
  if (!capacity.ok() || !threshold.ok()) {
    std::cerr << "glint-raylet: " << (capacity.ok() ? threshold.status() : capacity.status()).message() << "\n";
    return 2;
  }
  if (*threshold > (8 << 20)) {
    std::cerr << "glint-raylet: --object_inline_threshold is at most 8M (larger values go through the store)\n";
    return 2;
  }
  opt.store.capacity = *capacity;
  opt.store.inline_threshold = *threshold;

  glint::raylet::RayletServer raylet(opt);
  return glint::RunServer("glint-raylet", raylet, absl::GetFlag(FLAGS_port_file), absl::GetFlag(FLAGS_watch_pid));
}
