// How Glint's own processes (the daemons and the workers, not a user's
// driver) give memory back: glibc raises its mmap threshold each time a
// large block is freed, after which large blocks come from its heaps and
// stay with the process once freed. A worker fuzzed with large messages
// kept three times its live heap that way; with a fixed
// threshold, large blocks are mapped on their own and return to the system
// when freed (docs/design-notes.md, "What a daemon keeps about its peers is
// bounded").
#pragma once

namespace glint {

// Call once, early in main.
void ReturnLargeBlocksToTheSystem();

// While one of these lives, freed heap memory (up to 64 MiB at the top of
// each heap) is kept for reuse instead of going back at once: a transfer
// passes hundreds of MiB through gRPC's buffers, and giving their pages
// back after each chunk faults them in again for the next, which on some
// VMs costs more than the bytes' copy. When the last one goes, what was
// kept goes back. Thread-safe.
class KeepFreedMemory {
 public:
  KeepFreedMemory();
  ~KeepFreedMemory();
  KeepFreedMemory(const KeepFreedMemory&) = delete;
  KeepFreedMemory& operator=(const KeepFreedMemory&) = delete;
};

}  // namespace glint
