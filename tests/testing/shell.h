// Shell helpers for tests and benchmarks: running a command, a fresh
// temporary directory.
#pragma once
#include <stdio.h>
#include <stdlib.h>

#include <string>

namespace glint::testing {

// Runs a shell command; its stdout, and its exit status in *status.
inline std::string RunCommand(const std::string& cmd, int* status) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    *status = -1;
    return "";
  }
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  *status = pclose(p);
  return out;
}

// A fresh temporary directory.
inline std::string TempDir() {
  char tmpl[] = "/tmp/glint-test.XXXXXX";
  return mkdtemp(tmpl);
}

}  // namespace glint::testing
