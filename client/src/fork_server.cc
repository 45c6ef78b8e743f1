#include "client/src/fork_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/fork_server_protocol.h"

namespace glint::internal {
namespace {

void Send(int fd, const std::string& m) {
  while (send(fd, m.data(), m.size(), MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

int Threads() {
  DIR* d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

// Forks the worker `r` asks for. In the server: false, with the worker's
// pid or what went wrong in *reply. In the worker: true.
//
// The worker is forked by a child that exits at once, so it is an orphan
// the raylet (a child subreaper) adopts: the raylet reaps it and reads how
// it ended as for a worker it started itself. The reply goes out once the
// middle process is reaped, so the worker is the raylet's by then.
bool ForkOne(int sock, const ForkRequest& r, const char* name, std::string* reply) {
  int log = -1;
  if (!r.log_path.empty()) {
    log = open(r.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0) {
      *reply = absl::StrCat("error cannot open ", r.log_path, ": ", strerror(errno));
      return false;
    }
  }
  int pids[2];
  if (pipe2(pids, O_CLOEXEC) != 0) {
    *reply = absl::StrCat("error pipe: ", strerror(errno));
    if (log >= 0) close(log);
    return false;
  }
  fflush(nullptr);
  pid_t middle = fork();
  if (middle == 0) {
    const pid_t middle_self = getpid();
    pid_t worker = fork();
    if (worker == 0) {
      close(pids[0]);
      close(pids[1]);
      close(sock);
      if (log >= 0) {
        dup2(log, STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
        close(log);
      }
      setenv("GLINT_WORKER_ID", r.worker_id_hex.c_str(), 1);
      prctl(PR_SET_NAME, name);
      // The runtime takes its parent for the raylet (and exits when that
      // changes): carry on once the middle process is gone and the raylet
      // adopted this one, a moment from now (bounded: 2 s).
      for (int i = 0; i < 20000 && getppid() == middle_self; ++i) usleep(100);
      return true;
    }
    ssize_t w = write(pids[1], &worker, sizeof(worker));
    _exit(w == sizeof(worker) ? 0 : 1);
  }
  close(pids[1]);
  pid_t worker = -1;
  if (middle < 0) {
    *reply = absl::StrCat("error fork: ", strerror(errno));
  } else {
    ssize_t n;
    while ((n = read(pids[0], &worker, sizeof(worker))) < 0 && errno == EINTR) {
    }
    while (waitpid(middle, nullptr, 0) < 0 && errno == EINTR) {
    }
    *reply = n == sizeof(worker) && worker > 0 ? absl::StrCat("pid ", worker)
                                               : absl::StrCat("error fork: ", strerror(errno));
  }
  close(pids[0]);
  if (log >= 0) close(log);
  return false;
}

}  // namespace

void ServeForksIfAsked() {
  const char* fd_env = getenv(kForkServerFdEnv);
  int sock = -1;
  if (!fd_env || !absl::SimpleAtoi(fd_env, &sock) || sock < 0) return;
  unsetenv(kForkServerFdEnv);  // the workers it forks are not servers
  if (getenv(kForkServerBindNowEnv)) {
    unsetenv(kForkServerBindNowEnv);
    unsetenv("LD_BIND_NOW");  // what the workers start is linked as usual
  }
  fcntl(sock, F_SETFD, FD_CLOEXEC);
  // fork() copies only the calling thread: with others running (a lock one
  // of them holds, say) the copies could hang. The raylet then starts the
  // job's workers from scratch instead.
  if (int n = Threads(); n != 1) {
    Send(sock, absl::StrCat("error the job's program runs ", n,
                            " threads before glint::Init(): its workers cannot be forked"));
    _exit(2);
  }
  // Named so in ps and /proc (kForkServerName); its workers take back the
  // program's name.
  char name[16] = {};
  prctl(PR_GET_NAME, name);
  prctl(PR_SET_NAME, kForkServerName);
  Send(sock, std::string(kForkServerReady));
  char buf[kForkMessageMax];
  while (true) {
    ssize_t n = recv(sock, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0);  // the raylet closed its end: the job ended here, or the raylet is gone
    auto request = DecodeForkRequest(std::string_view(buf, n));
    std::string reply = "error malformed request";
    if (request && ForkOne(sock, *request, name, &reply)) return;  // the new worker
    Send(sock, reply);
  }
}

}  // namespace glint::internal
