// The GPUs of the task or actor this worker runs: a task's lease, or the
// actor's for its whole life. Before a task or an actor's constructor runs,
// UseGpus sets CUDA_VISIBLE_DEVICES to the ids its lease holds (or back to
// what the worker started with, for a task that holds none), so CUDA code
// sees only those; glint::GetGpuIds() returns them. Thread-safe; it changes
// the environment only when the ids change, between calls (a worker runs one
// task at a time, and an actor's GPUs are set before its first method).
#pragma once
#include <string>
#include <vector>

#include <google/protobuf/repeated_ptr_field.h>

namespace glint::internal {

void UseGpus(const google::protobuf::RepeatedPtrField<std::string>& ids);
std::vector<std::string> CurrentGpuIds();

}  // namespace glint::internal
