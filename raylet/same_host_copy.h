// Pulling an object from a raylet of this host without the network: the
// holder lends the object (object_lender.h: pinned for a lease, named by its
// arena file and range), and the puller opens that file and has the kernel
// copy the range into its own arena (ObjectStore::WriteFrom: one copy,
// file to file or into the arena's warm mapping; large objects in parts on
// two threads). A stream of chunks over loopback TCP copies each byte three
// times (into the kernel, out of it, into the arena) and reached about a
// quarter of a memcpy at most here (tests/bench/RESULTS.md). Raylets on
// different hosts (told apart by the kernel's boot id) or in different mount
// namespaces (the file is not there, or is another one) use chunks.
#pragma once
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/raylet.pb.h"
#include "raylet/object_store.h"

namespace glint::raylet {

// This host's boot id ("" if the kernel does not say).
const std::string& HostId();

// A lender's arena, open here, with the lent object's range checked.
class LentArena {
 public:
  // FailedPrecondition when the lender is on another host or its arena
  // cannot be opened here (copy in chunks instead); InvalidArgument for a
  // range outside it.
  static absl::StatusOr<std::unique_ptr<LentArena>> Open(const proto::LendObjectReply& lent);
  ~LentArena();
  LentArena(const LentArena&) = delete;
  LentArena& operator=(const LentArena&) = delete;

  // Copies `length` bytes at `offset` of the lent object to the same place
  // of object `id`, being written in `store` (created with the lent size).
  // Parts may be copied at once, from several threads.
  absl::Status CopyPart(ObjectStore* store, const std::string& id, int64_t offset, int64_t length) const;

 private:
  LentArena(int fd, int64_t object_offset) : fd_(fd), object_offset_(object_offset) {}
  const int fd_;
  const int64_t object_offset_;  // in the lender's arena
};

// Copies the whole object `lent` describes into object `id` (LentArena::Open,
// then CopyPart). The caller checks the copy ended within the lease.
absl::Status CopyLentObject(const proto::LendObjectReply& lent, ObjectStore* store, const std::string& id);

}  // namespace glint::raylet
