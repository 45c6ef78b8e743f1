// Pulling an object from a raylet of this host without the network: the
// holder lends the object (object_lender.h: pinned for a lease, named by its
// arena file and range), and the puller opens that file and has the kernel
// copy the range into its own arena (copy_file_range: one copy, no mapping
// to fault in). A stream of chunks over loopback TCP copies each byte three
// times (into the kernel, out of it, into the arena) and reached about a
// quarter of a memcpy at most here (tests/bench/RESULTS.md). Raylets on
// different hosts (told apart by the kernel's boot id) or in different mount
// namespaces (the file is not there, or is another one) use chunks.
#pragma once
#include <string>

#include "absl/status/status.h"
#include "proto/raylet.pb.h"
#include "raylet/object_store.h"

namespace glint::raylet {

// This host's boot id ("" if the kernel does not say).
const std::string& HostId();

// Copies the object `lent` describes into object `id`, being written in
// `store` (created with the lent size). FailedPrecondition when the lender
// is on another host or its arena cannot be opened here (copy in chunks
// instead); the caller checks the copy ended within the lease.
absl::Status CopyLentObject(const proto::LendObjectReply& lent, ObjectStore* store, const std::string& id);

}  // namespace glint::raylet
