// Drivers as child processes: a test program that is also a driver (when
// its first argument is "driver") starts copies of itself against a cluster
// and reads what they print.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

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

// A running driver: its pid and its stdout.
struct Driver {
  pid_t pid = 0;
  FILE* out = nullptr;
  std::string Line() {
    char buf[512];
    return fgets(buf, sizeof(buf), out) ? std::string(buf) : std::string();
  }
  int Wait() {
    int status = 0;
    waitpid(pid, &status, 0);
    fclose(out);
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
  d.out = fdopen(out[0], "r");
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
