// Whether a directory's files are kept in 2 MiB pages, and asking for them
// on a mapping. A node's object store (raylet/object_store.h) lives in one
// file every process maps; in a tmpfs mounted with `huge=always` (or
// `within_size`, or `advise`, which the mappings ask for) its pages are
// 2 MiB, so a first touch of a range faults once per 2 MiB instead of once
// per 4 KiB (docs/design-notes.md, "The object store on 2 MiB pages").
#pragma once
#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace glint {

// True when files made in `dir` get 2 MiB pages on this machine: read from
// /proc/self/mountinfo (the mount that holds `dir`, its file system and its
// `huge=` option) and /sys/kernel/mm/transparent_hugepage/shmem_enabled
// ("deny" turns them off everywhere, "force" on for every tmpfs).
bool HugePagesIn(const std::string& dir);
// The same from those files' texts, for `path` (absolute, no symbolic
// links).
bool HugePagesIn(absl::string_view path, absl::string_view mountinfo, absl::string_view shmem_enabled);

// Asks for 2 MiB pages on a shared mapping of a file (madvise
// MADV_HUGEPAGE: what a tmpfs mounted with huge=advise waits for); a no-op
// where the file system or the kernel does not give them.
void AdviseHugePages(void* addr, size_t length);

}  // namespace glint
