// glint-raylet: the node daemon.
#include <csignal>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/logging.h"
#include "common/process.h"
#include "raylet/raylet_server.h"

ABSL_FLAG(std::string, gcs_address, "127.0.0.1:6380", "the GCS, HOST:PORT");
ABSL_FLAG(std::string, host, "127.0.0.1", "this node's address");
ABSL_FLAG(int, port, 0, "port to listen on (0 picks a free one)");
ABSL_FLAG(double, num_cpus, -1, "CPUs to offer (default: the machine's cores)");
ABSL_FLAG(double, num_gpus, 0, "GPUs to offer");
ABSL_FLAG(std::string, resources, "", "custom resources, JSON: {\"name\": amount}");
ABSL_FLAG(bool, head, false, "this is the head node");
ABSL_FLAG(std::string, worker_path, "", "the glint-worker binary (default: beside this one)");
ABSL_FLAG(std::string, logs_dir, "", "directory for worker logs");
ABSL_FLAG(std::string, port_file, "", "write the bound port here once registered");
ABSL_FLAG(int, watch_pid, 0, "stop when this process is gone");
ABSL_FLAG(int64_t, idle_worker_timeout_ms, 60000, "kill workers idle this long");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  glint::InitLogging(argv[0]);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  glint::raylet::RayletOptions opt;
  opt.gcs_address = absl::GetFlag(FLAGS_gcs_address);
  opt.host = absl::GetFlag(FLAGS_host);
  opt.port = absl::GetFlag(FLAGS_port);
  auto res = glint::raylet::ParseResourceJson(absl::GetFlag(FLAGS_resources));
  if (!res.ok()) {
    LOG(ERROR) << res.status();
    return 2;
  }
  opt.resources = *res;
  double cpus = absl::GetFlag(FLAGS_num_cpus);
  opt.resources["CPU"] = cpus >= 0 ? cpus : std::thread::hardware_concurrency();
  if (absl::GetFlag(FLAGS_num_gpus) > 0) opt.resources["GPU"] = absl::GetFlag(FLAGS_num_gpus);
  opt.is_head = absl::GetFlag(FLAGS_head);
  opt.worker_path = absl::GetFlag(FLAGS_worker_path);
  if (opt.worker_path.empty()) opt.worker_path = glint::SelfExeDir() + "/glint-worker";
  opt.log_dir = absl::GetFlag(FLAGS_logs_dir);
  opt.idle_worker_timeout_ms = absl::GetFlag(FLAGS_idle_worker_timeout_ms);

  glint::raylet::RayletServer raylet(opt);
  if (auto s = raylet.Start(); !s.ok()) {
    LOG(ERROR) << s;
    return 1;
  }
  glint::WritePortFile(absl::GetFlag(FLAGS_port_file), raylet.port());
  glint::TerminateWhenGone(absl::GetFlag(FLAGS_watch_pid));
  int sig = 0;
  sigwait(&sigs, &sig);
  LOG(INFO) << "glint-raylet stopping (signal " << sig << ")";
  raylet.Stop();
  return 0;
}
