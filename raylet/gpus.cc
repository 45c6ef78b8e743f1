#include "raylet/gpus.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace glint::raylet {

absl::StatusOr<std::vector<std::string>> NodeGpuIds(double num_gpus, const char* cuda_visible_devices,
                                                    const std::string& driver_dir) {
  if (num_gpus >= 0 && num_gpus != std::floor(num_gpus)) {
    return absl::InvalidArgumentError(absl::StrCat("--num-gpus takes a whole number of GPUs, not ", num_gpus));
  }
  std::vector<std::string> visible;
  if (cuda_visible_devices) {
    for (absl::string_view id : absl::StrSplit(cuda_visible_devices, ',', absl::SkipWhitespace())) {
      visible.emplace_back(absl::StripAsciiWhitespace(id));
    }
  }
  if (num_gpus < 0) {  // detect
    if (cuda_visible_devices) return visible;
    std::error_code ec;
    size_t n = 0;
    for (auto it = std::filesystem::directory_iterator(driver_dir, ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
      ++n;
    }
    std::vector<std::string> ids;
    for (size_t i = 0; i < n; ++i) ids.push_back(std::to_string(i));
    return ids;
  }
  size_t n = static_cast<size_t>(num_gpus);
  if (!cuda_visible_devices) {
    std::vector<std::string> ids;
    for (size_t i = 0; i < n; ++i) ids.push_back(std::to_string(i));
    return ids;
  }
  if (n > visible.size()) {
    return absl::InvalidArgumentError(absl::StrCat("--num-gpus ", n, " asks for more GPUs than CUDA_VISIBLE_DEVICES ('",
                                                   cuda_visible_devices, "') lists"));
  }
  visible.resize(n);
  return visible;
}

GpuSlots::GpuSlots(std::vector<std::string> ids) {
  for (auto& id : ids) free_.emplace_back(std::move(id), kWhole);
}
GpuSlots::GpuSlots(std::vector<std::string> ids, double amount) {
  int64_t share = std::min(Units(amount), kWhole);
  for (auto& id : ids) free_.emplace_back(std::move(id), share);
}

int64_t GpuSlots::Units(double amount) { return std::llround(amount * kWhole); }

std::vector<size_t> GpuSlots::Pick(double amount) const {
  int64_t units = Units(amount);
  std::vector<size_t> picked;
  if (units <= 0) return picked;
  if (units < kWhole) {  // a fraction: the fullest GPU it still fits on
    size_t best = free_.size();
    for (size_t i = 0; i < free_.size(); ++i) {
      if (free_[i].second >= units && (best == free_.size() || free_[i].second < free_[best].second)) best = i;
    }
    if (best != free_.size()) picked.push_back(best);
    return picked;
  }
  for (size_t i = 0; i < free_.size() && static_cast<int64_t>(picked.size()) * kWhole < units; ++i) {
    if (free_[i].second == kWhole) picked.push_back(i);
  }
  if (static_cast<int64_t>(picked.size()) * kWhole < units) picked.clear();
  return picked;
}

bool GpuSlots::CanTake(double amount) const { return Units(amount) <= 0 || !Pick(amount).empty(); }

std::vector<std::string> GpuSlots::Take(double amount) {
  int64_t units = Units(amount);
  std::vector<std::string> ids;
  for (size_t i : Pick(amount)) {
    free_[i].second -= std::min(units, kWhole);
    ids.push_back(free_[i].first);
  }
  return ids;
}

void GpuSlots::Give(const std::vector<std::string>& ids, double amount) {
  int64_t units = std::min(Units(amount), kWhole);
  for (auto& id : ids) {
    for (auto& [have, free] : free_) {
      if (have == id) free = std::min(free + units, kWhole);
    }
  }
}

}  // namespace glint::raylet
