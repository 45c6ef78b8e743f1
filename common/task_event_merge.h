// How two reports of one task become one record (proto/task_events.proto),
// for the GCS's table and a reporter's batch alike: a newer attempt starts
// the record again and an older one is ignored; within an attempt a later
// state wins whatever order the reports come in (the first report of its end
// stays), and fields a report leaves empty keep what an earlier one said.
#pragma once
#include "proto/task_events.pb.h"

namespace glint {

inline bool TaskEnded(proto::TaskState s) { return s == proto::FINISHED || s == proto::FAILED; }

// Merges `from` into `into`; true when `from`'s state was taken.
// `take_end`: an end in `from` replaces an end `into` has already.
bool MergeTaskEvent(const proto::TaskEvent& from, proto::TaskEvent* into, bool take_end = false);

}  // namespace glint
