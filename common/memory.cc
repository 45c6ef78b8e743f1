#include "common/memory.h"

#include <malloc.h>

#include <mutex>

namespace glint {
namespace {
constexpr int kTrimBytes = 1 << 20;
constexpr int kKeptTrimBytes = 64 << 20;
std::mutex keep_mu;
int keepers = 0;  // guarded by keep_mu
}  // namespace

void ReturnLargeBlocksToTheSystem() {
  // Blocks of 256 KiB or more are mapped on their own (a fixed threshold
  // also stops glibc from raising it), and free memory above 1 MiB at the
  // top of a heap goes back at once.
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  mallopt(M_TRIM_THRESHOLD, kTrimBytes);
}

KeepFreedMemory::KeepFreedMemory() {
  std::lock_guard<std::mutex> lock(keep_mu);
  if (keepers++ == 0) mallopt(M_TRIM_THRESHOLD, kKeptTrimBytes);
}

KeepFreedMemory::~KeepFreedMemory() {
  std::lock_guard<std::mutex> lock(keep_mu);
  if (--keepers == 0) {
    mallopt(M_TRIM_THRESHOLD, kTrimBytes);
    malloc_trim(0);
  }
}

}  // namespace glint
