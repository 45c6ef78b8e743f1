// RedisServer: a redis-server of the test's own, as a user would run one for
// the GCS's store: on a free loopback port, with a password, its files in a
// temporary directory; stopped (and reaped) when this goes. available()
// is false, with the reason, where Debian's redis-server is not installed.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "testing/shell.h"

namespace glint::testing {

class RedisServer {
 public:
  RedisServer() {
    if (access(kProgram, X_OK) != 0) {
      why_ = absl::StrCat(kProgram, " is not installed (Debian's redis-server package)");
      return;
    }
    dir_ = TempDir();
    for (int attempt = 0; attempt < 3 && pid_ == 0; ++attempt) Start();
    if (pid_ == 0) why_ = "redis-server did not start; see " + dir_ + "/redis.log";
  }
  ~RedisServer() { Stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  bool available() const { return pid_ != 0; }
  const std::string& why_not() const { return why_; }
  // redis://:PASSWORD@127.0.0.1:PORT/NAMESPACE
  std::string Url(const std::string& name_space = "test") const {
    return absl::StrCat("redis://:", kPassword, "@127.0.0.1:", port_, "/", name_space);
  }
  std::string UrlWithPassword(const std::string& password) const {
    return absl::StrCat("redis://:", password, "@127.0.0.1:", port_, "/test");
  }
  int port() const { return port_; }
  void Stop() {
    if (pid_ == 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

 private:
  static constexpr const char* kProgram = "/usr/bin/redis-server";
  static constexpr const char* kPassword = "glint-test-password";

  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    close(fd);
    return port;
  }
  static bool Answers(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    close(fd);
    return ok;
  }
  // Starts it on a free port and waits (10 s at most) until it accepts connections.
  void Start() {
    port_ = FreePort();
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
      // A test program that dies before its teardown (a crash, a timeout's
      // SIGKILL) takes its server with it.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(127);
      std::string port = std::to_string(port_), log = dir_ + "/redis.log";
      execl(kProgram, kProgram, "--port", port.c_str(), "--bind", "127.0.0.1", "--requirepass", kPassword, "--dir",
            dir_.c_str(), "--save", "", "--appendonly", "no", "--logfile", log.c_str(), "--daemonize", "no",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid, nullptr, WNOHANG) == pid) return;  // exited: the port was taken meanwhile?
      if (Answers(port_)) {
        pid_ = pid;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }

  std::string dir_;
  std::string why_;
  int port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace glint::testing
