// Shell helpers for tests and benchmarks: running a command, a fresh
// temporary directory, the bytes under a directory.
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

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

// The temporary directories this process made, removed (with what is in
// them) when it exits normally, unless GLINT_KEEP_TEST_DIRS is set to look
// at them afterwards. A forked child that exits leaves them to its parent.
class TempDirs {
 public:
  static TempDirs& Get() {
    static TempDirs dirs;
    return dirs;
  }
  std::string Make(const char* prefix) {
    std::string tmpl = std::string("/tmp/") + prefix + ".XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot make a directory under /tmp");
    std::lock_guard<std::mutex> lock(mu_);
    made_.push_back(tmpl);
    return tmpl;
  }
  ~TempDirs() {
    if (getpid() != owner_ || getenv("GLINT_KEEP_TEST_DIRS")) return;
    std::error_code ec;
    for (auto& d : made_) std::filesystem::remove_all(d, ec);
  }

 private:
  TempDirs() = default;
  const pid_t owner_ = getpid();
  std::mutex mu_;
  std::vector<std::string> made_;
};

// A fresh temporary directory, /tmp/PREFIX.XXXXXX, gone at exit.
inline std::string TempDir(const char* prefix = "glint-test") { return TempDirs::Get().Make(prefix); }

// Bytes in the regular files under `dir` (a session's logs, say).
inline int64_t DirBytes(const std::string& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += static_cast<int64_t>(e.file_size(ec));
  }
  return total;
}

// Sets an environment variable for the life of this object, then puts back
// what was there (the tests' own GLINT_TMPDIR, say).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace glint::testing
