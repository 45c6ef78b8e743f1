#include "common/memory.h"

#include <malloc.h>

namespace glint {

void ReturnLargeBlocksToTheSystem() {
  // Blocks of 256 KiB or more are mapped on their own (a fixed threshold
  // also stops glibc from raising it), and free memory above 1 MiB at the
  // top of a heap goes back at once.
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  mallopt(M_TRIM_THRESHOLD, 1 << 20);
}

}  // namespace glint
