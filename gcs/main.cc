// glint-gcs: the global control store daemon.
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/daemon_flags.h"
#include "common/daemon_main.h"
#include "gcs/gcs_server.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "address to listen on");
ABSL_FLAG(int, port, 6380, "port to listen on (0 picks a free one)");
ABSL_FLAG(std::string, store, "memory",
          "storage backend: memory, or sqlite:PATH (the tables are written to PATH; a GCS does not read them "
          "back at start yet)");
ABSL_FLAG(int64_t, heartbeat_timeout_ms, 5000, "a node silent this long is dead");
ABSL_FLAG(std::string, port_file, "", "write the bound port here once listening");
ABSL_FLAG(int, watch_pid, 0, "stop when this process is gone");

int main(int argc, char** argv) {
  glint::BeginDaemon("glint-gcs");
  absl::ParseCommandLine(argc, argv);
  if (auto auth = glint::SetUpDaemonAuth("glint-gcs"); !auth.ok()) {
    std::cerr << "glint-gcs: " << auth.status().message() << "\n";
    return 2;
  }
  glint::gcs::GcsOptions opt;
  opt.host = absl::GetFlag(FLAGS_host);
  opt.port = absl::GetFlag(FLAGS_port);
  opt.store = absl::GetFlag(FLAGS_store);
  opt.heartbeat_timeout_ms = absl::GetFlag(FLAGS_heartbeat_timeout_ms);
  auto store = glint::gcs::MakeStore(opt.store);
  if (!store.ok()) {
    std::cerr << "glint-gcs: " << store.status().message() << "\n";
    return 2;
  }
  glint::gcs::GcsServer server(opt, std::move(*store), glint::gcs::MakeGrpcClusterClient());
  return glint::RunServer("glint-gcs", server, absl::GetFlag(FLAGS_port_file), absl::GetFlag(FLAGS_watch_pid));
}
