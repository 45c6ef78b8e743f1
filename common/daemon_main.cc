#include "common/daemon_main.h"

#include <poll.h>
#include <pthread.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "common/logging.h"
#include "common/memory.h"
#include "common/process.h"

namespace glint {
namespace {

// A descriptor that becomes readable when `pid` exits (-1 if the kernel has
// no pidfd_open, or the process is gone already).
int WatchFd(pid_t pid) {
  if (pid <= 0) return -1;
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

sigset_t StopSignals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  return sigs;
}

}  // namespace

void BeginDaemon(const char* name) {
  sigset_t sigs = StopSignals();
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  // Each log line's time stamp is local time; with TZ unset, the C library
  // looks at /etc/localtime again for every one (a stat per line). Naming
  // that same file once keeps the zone and skips the look (before any thread).
  setenv("TZ", ":/etc/localtime", /*overwrite=*/0);
  InitLogging(name, /*crash_handler=*/true);
  ReturnLargeBlocksToTheSystem();
  // The standard gRPC health service (grpc.health.v1.Health) on the
  // daemon's port, behind the same authentication as its own services:
  // `glint health`, and probes that run it.
  grpc::EnableDefaultHealthCheckService(true);
}

int RunDaemon(const char* name, const DaemonHooks& hooks, const std::string& port_file, pid_t watch_pid) {
  BeginDaemon(name);  // in case main did not (a thread made before it would take the signal)
  sigset_t sigs = StopSignals();
  auto port = hooks.start();
  if (!port.ok()) {
    LOG(ERROR) << name << " cannot start: " << port.status();
    return 1;
  }
  WritePortFile(port_file, *port);
  // Waits for a stop signal or for the watched process to go.
  int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
  int wfd = WatchFd(watch_pid);
  std::string why;
  while (why.empty()) {
    pollfd fds[2] = {{sfd, POLLIN, 0}, {wfd, POLLIN, 0}};
    // Without a pidfd the watched process is checked every 200 ms.
    int timeout = watch_pid > 0 && wfd < 0 ? 200 : -1;
    int n = poll(fds, wfd >= 0 ? 2 : 1, timeout);
    if (n < 0 && errno != EINTR) {
      why = "poll failed";
    } else if (fds[0].revents & POLLIN) {
      signalfd_siginfo info;
      why = read(sfd, &info, sizeof(info)) == sizeof(info) ? "signal " + std::to_string(info.ssi_signo) : "a signal";
    } else if ((wfd >= 0 && (fds[1].revents & POLLIN)) || (watch_pid > 0 && !ProcessAlive(watch_pid))) {
      why = "process " + std::to_string(watch_pid) + " is gone";
    }
  }
  LOG(INFO) << name << " stopping (" << why << ")";
  hooks.stop();
  if (wfd >= 0) close(wfd);
  close(sfd);
  return 0;
}

}  // namespace glint
