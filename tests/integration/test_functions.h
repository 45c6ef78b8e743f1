// Remote functions and actors the integration tests call.
#pragma once
#include <glint/api.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tf {

// `bytes` bytes of a pattern that differs with `seed` and along the bytes.
inline std::vector<uint8_t> Fill(size_t bytes, uint8_t seed) {
  std::vector<uint8_t> v(bytes);
  for (size_t i = 0; i < bytes; ++i) v[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 12));
  return v;
}

// Reads every byte: a value that arrived whole and unchanged gives the same sum.
inline uint64_t Checksum(const uint8_t* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h ^ n;
}

// Leaves this process private memory for one more value of `bytes` bytes
// and not for a second copy of it (an actor's worker that does this is
// killed after its test). The limit is on private writable memory
// (RLIMIT_DATA), not on address space: the 64 MiB a new thread's first
// malloc reserves for its own arena is address space only, and a thread
// gRPC starts meanwhile would otherwise leave no room for the value.
inline void LeaveRoomForOneCopyOf(size_t bytes) {
  std::ifstream status("/proc/self/status");
  std::string key;
  size_t kb = 0;
  while (status >> key && key != "VmData:") status.ignore(1 << 20, '\n');
  if (!(status >> kb)) throw std::runtime_error("no VmData in /proc/self/status");
  struct rlimit lim;
  getrlimit(RLIMIT_DATA, &lim);
  lim.rlim_cur = static_cast<rlim_t>((kb << 10) + bytes + std::min<size_t>(bytes / 2, 64 << 20));
  if (setrlimit(RLIMIT_DATA, &lim) != 0) throw std::runtime_error("setrlimit failed");
}

// An actor holding a number, for lifecycle tests.
class Box {
 public:
  static Box* Create(int start) { return new Box(start); }
  int Add(int v) { return n_ += v; }
  int Pid() const { return getpid(); }
  bool Restarted() const { return glint::WasCurrentActorRestarted(); }
  int Block(std::string path);
  int Quit() { glint::ExitActor(); }
  std::string Raylet() const { return getenv("GLINT_RAYLET_ADDRESS"); }

 private:
  explicit Box(int start) : n_(start) {}
  int n_;
};

// Blocks until `path` exists (up to 60 s); returns 1 if it appeared.
inline int WaitForFile(std::string path) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (access(path.c_str(), F_OK) == 0) return 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return 0;
}

inline int Box::Block(std::string path) { return WaitForFile(path); }

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path + ".tmp") << content;
  std::rename((path + ".tmp").c_str(), path.c_str());
}

// The integer in `path` (0 if there is none).
inline int ReadInt(const std::string& path) {
  std::ifstream f(path);
  int v = 0;
  return f >> v ? v : 0;
}

// Touches `path` when destroyed: shows that a coroutine's frame was destroyed.
struct MarkOnDestroy {
  std::string path;
  ~MarkOnDestroy() { std::ofstream(path) << "x"; }
};

struct Point {
  int x = 0;
  int y = 0;
  std::string label;
  MSGPACK_DEFINE(x, y, label);
};

}  // namespace tf
