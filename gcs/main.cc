// glint-gcs: the global control store daemon.
#include <csignal>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/logging.h"
#include "common/process.h"
#include "gcs/gcs_server.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "address to listen on");
ABSL_FLAG(int, port, 6380, "port to listen on (0 picks a free one)");
ABSL_FLAG(std::string, store, "memory", "storage backend: memory");
ABSL_FLAG(int64_t, heartbeat_timeout_ms, 5000, "a node silent this long is dead");
ABSL_FLAG(std::string, port_file, "", "write the bound port here once listening");
ABSL_FLAG(int, watch_pid, 0, "stop when this process is gone");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  glint::InitLogging(argv[0]);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  glint::gcs::GcsOptions opt;
  opt.host = absl::GetFlag(FLAGS_host);
  opt.port = absl::GetFlag(FLAGS_port);
  opt.store = absl::GetFlag(FLAGS_store);
  opt.heartbeat_timeout_ms = absl::GetFlag(FLAGS_heartbeat_timeout_ms);
  auto store = glint::gcs::MakeStore(opt.store);
  if (!store) {
    LOG(ERROR) << "unknown --store " << opt.store;
    return 2;
  }
  glint::gcs::GcsServer server(opt, std::move(store), glint::gcs::MakeGrpcClusterClient());
  if (auto s = server.Start(); !s.ok()) {
    LOG(ERROR) << s;
    return 1;
  }
  glint::WritePortFile(absl::GetFlag(FLAGS_port_file), server.port());
  glint::TerminateWhenGone(absl::GetFlag(FLAGS_watch_pid));
  int sig = 0;
  sigwait(&sigs, &sig);
  LOG(INFO) << "glint-gcs stopping (signal " << sig << ")";
  server.Stop();
  return 0;
}
