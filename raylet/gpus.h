// A node's GPUs: which ones it has, and which lease holds which.
//
// NodeGpuIds finds the ids as Ray does: `--num-gpus N` offers N of them (the
// first N that CUDA_VISIBLE_DEVICES lists, when it is set, else 0..N-1);
// without it, every GPU CUDA_VISIBLE_DEVICES lists, else every GPU the NVIDIA
// driver shows (/proc/driver/nvidia/gpus), else none.
//
// GpuSlots hands ids to leases: a request of whole GPUs gets that many ids
// no one uses; a fraction (GPU: 0.5) shares one id with other fractions,
// best fit first, so whole GPUs stay free for whole requests. Amounts are
// counted in ten-thousandths of a GPU, as Ray does. Not thread-safe (the
// LeaseManager's lock guards it).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace glint::raylet {

// `num_gpus` < 0: detect. `cuda_visible_devices`: the variable's value, or
// null when it is unset.
absl::StatusOr<std::vector<std::string>> NodeGpuIds(double num_gpus, const char* cuda_visible_devices,
                                                    const std::string& driver_dir = "/proc/driver/nvidia/gpus");

class GpuSlots {
 public:
  explicit GpuSlots(std::vector<std::string> ids);
  // A placement group bundle's share: `amount` of the GPUs `ids` (whole
  // GPUs, or a fraction of the one id).
  GpuSlots(std::vector<std::string> ids, double amount);
  // Whether `amount` GPUs (a whole number, or a fraction of one) are free.
  bool CanTake(double amount) const;
  // Takes them (CanTake must hold): the ids held, one for a fraction.
  std::vector<std::string> Take(double amount);
  // Gives back what Take(amount) returned as `ids`.
  void Give(const std::vector<std::string>& ids, double amount);

 private:
  static constexpr int64_t kWhole = 10000;
  static int64_t Units(double amount);
  // Picks the ids for `amount` without taking them; empty if it does not fit.
  std::vector<size_t> Pick(double amount) const;
  std::vector<std::pair<std::string, int64_t>> free_;  // id, free units
};

}  // namespace glint::raylet
