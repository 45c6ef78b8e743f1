#include "common/ids.h"

#include <pthread.h>

#include <atomic>
#include <random>

namespace glint {
namespace {

// How many times this process was forked from its parent: a worker forked
// by its job's fork server (raylet/fork_servers.h) must not draw the ids
// its siblings draw from the same generator state.
std::atomic<uint64_t> g_forks{0};
[[maybe_unused]] const bool g_fork_counted = [] {
  pthread_atfork(nullptr, nullptr, [] { g_forks.fetch_add(1, std::memory_order_relaxed); });
  return true;
}();

uint64_t Seed() {
  std::random_device rd;  // the kernel's randomness
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

std::string RandomId() {
  thread_local std::mt19937_64 gen{Seed()};
  thread_local uint64_t seeded_at = g_forks.load(std::memory_order_relaxed);
  if (uint64_t forks = g_forks.load(std::memory_order_relaxed); forks != seeded_at) {
    gen.seed(Seed());
    seeded_at = forks;
  }
  std::string id(kIdSize, '\0');
  for (size_t i = 0; i < kIdSize; i += 8) {
    uint64_t v = gen();
    for (size_t j = 0; j < 8 && i + j < kIdSize; ++j) id[i + j] = static_cast<char>(v >> (8 * j));
  }
  return id;
}

std::string IdHex(std::string_view id) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(id.size() * 2);
  for (unsigned char c : id) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string ShortHex(std::string_view id) { return IdHex(id.substr(0, 4)); }

std::string IdFromHex(std::string_view hex) {
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2) return {};
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = val(hex[i]), lo = val(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string ReturnObjectId(std::string_view task_id, int index) {
  std::string id(task_id);
  id.push_back(static_cast<char>(index & 0xff));
  return id;
}

std::string GeneratorItemId(std::string_view task_id, int64_t index) {
  std::string id(task_id);
  id.push_back('g');
  for (int shift = 56; shift >= 0; shift -= 8) id.push_back(static_cast<char>((index >> shift) & 0xff));
  return id;
}

}  // namespace glint
