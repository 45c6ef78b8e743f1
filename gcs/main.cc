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
          "where the tables are kept: memory (lost when the GCS exits), sqlite:PATH (a file), or "
          "redis://[:PASSWORD@]HOST:PORT[/NAMESPACE] (a Redis server; one namespace per cluster); a GCS started "
          "again on the same store carries on where the last one stopped");
ABSL_FLAG(int64_t, heartbeat_timeout_ms, 4000,
          "a node silent this long is dead (raylets beat every 300 ms; a killed node is declared dead within about "
          "4.4 s)");
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
