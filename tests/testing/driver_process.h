// Drivers as child processes: a test program that is also a driver (when
// its first argument is "driver") starts copies of itself against a cluster
// and reads what they print.
#pragma once
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace glint::testing {

// The program StartDriver runs (set once in main(), before the tests).
inline std::string& DriverProgram() {
  static std::string path;
  return path;
}
inline void SetDriverProgram(std::string path) { DriverProgram() = std::move(path); }

// How long a driver may take to print its next line, or to exit: a driver
// that hangs fails its test at that step (and is killed) instead of holding
// it until ctest's timeout.
inline constexpr std::chrono::seconds kDriverStepTimeout{120};

// A running driver: its pid and its stdout.
struct Driver {
  pid_t pid = 0;
  int out = -1;
  // The next line it prints, "" once it closed its stdout.
  std::string Line(std::chrono::seconds timeout = kDriverStepTimeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        ADD_FAILURE() << "driver " << pid << " printed no whole line in " << timeout.count() << " s (so far: '"
                      << line << "'); killed";
        kill(pid, SIGKILL);
        return line;
      }
      pollfd p{out, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;  // EINTR, or the deadline (checked above)
      char c;
      ssize_t n = read(out, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return line;
      line += c;
      if (c == '\n') return line;
    }
  }
  // Its exit status, once it exited.
  int Wait(std::chrono::seconds timeout = kDriverStepTimeout) {
    int status = 0;
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      int ready;
      while ((ready = poll(&p, 1, static_cast<int>(std::chrono::milliseconds(timeout).count()))) < 0 && errno == EINTR) {
      }
      close(pidfd);
      if (ready == 0) {
        ADD_FAILURE() << "driver " << pid << " did not exit within " << timeout.count() << " s; killed";
        kill(pid, SIGKILL);
      }
    }
    waitpid(pid, &status, 0);
    if (out >= 0) close(out);
    out = -1;
    return status;
  }
};

// Starts the driver program with "driver" and `args`, its stdout piped to us
// and GLINT_ADDRESS set to `gcs` (its stderr, its log, to `stderr_file` if
// given); with `wrapper`, as that command's arguments (e.g. ip netns exec NS).
inline Driver StartDriver(const std::string& gcs, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env = {}, const std::string& stderr_file = "",
                          const std::vector<std::string>& wrapper = {}) {
  int out[2], in[2];
  EXPECT_EQ(pipe(out), 0);
  EXPECT_EQ(pipe(in), 0);
  Driver d;
  d.pid = fork();
  if (d.pid == 0) {
    dup2(out[1], 1);
    dup2(in[0], 0);
    if (!stderr_file.empty()) {
      FILE* err = fopen(stderr_file.c_str(), "w");
      if (err) dup2(fileno(err), 2);
    }
    close(out[0]);
    close(in[1]);
    setenv("GLINT_ADDRESS", gcs.c_str(), 1);
    for (auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    for (auto& w : wrapper) argv.push_back(const_cast<char*>(w.c_str()));
    argv.push_back(const_cast<char*>(DriverProgram().c_str()));
    argv.push_back(const_cast<char*>("driver"));
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  close(in[0]);  // stdin of a "block" driver stays open until it is killed
  d.out = out[0];
  return d;
}

// Runs a driver to the end; returns its first output line.
inline std::string RunToEnd(const std::string& gcs, const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env = {}) {
  Driver d = StartDriver(gcs, args, env);
  std::string line = d.Line();
  EXPECT_EQ(d.Wait(), 0) << "driver " << args[0] << " failed";
  while (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

}  // namespace glint::testing
