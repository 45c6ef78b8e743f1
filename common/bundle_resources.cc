#include "common/bundle_resources.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/ids.h"

namespace glint {
namespace {

constexpr double kMarker = 1000;       // a bundle's marker resource
constexpr double kMarkerShare = 0.001;  // what one piece of work takes of it

std::string Indexed(const std::string& name, const std::string& group_hex, int index) {
  return absl::StrCat(name, "_group_", index, "_", group_hex);
}
std::string Wildcard(const std::string& name, const std::string& group_hex) {
  return absl::StrCat(name, "_group_", group_hex);
}

}  // namespace

ResourceSet BundleResources(const ResourceSet& bundle, const std::string& group_hex, int index) {
  ResourceSet out;
  for (auto& [name, amount] : bundle) {
    out[Indexed(name, group_hex, index)] += amount;
    out[Wildcard(name, group_hex)] += amount;
  }
  out[Indexed("bundle", group_hex, index)] = kMarker;
  out[Wildcard("bundle", group_hex)] = kMarker;
  return out;
}

absl::StatusOr<ResourceSet> InBundle(const ResourceSet& demand, const std::vector<ResourceSet>& bundles,
                                     const std::string& group_hex, int index) {
  if (index < -1 || index >= static_cast<int>(bundles.size())) {
    return absl::InvalidArgumentError(absl::StrCat("bundle index ", index, " is out of range: the placement group has ",
                                                   bundles.size(), " bundles (-1: any of them)"));
  }
  bool fits = false;
  for (int i = 0; i < static_cast<int>(bundles.size()); ++i) {
    if ((index == -1 || index == i) && Fits(demand, bundles[i])) fits = true;
  }
  if (!fits) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request ", ToString(demand), " is larger than ",
        index == -1 ? "every bundle of the placement group" : absl::StrCat("bundle ", index, " of the placement group"),
        " (", index == -1 ? ToString(bundles[0]) : ToString(bundles[index]), index == -1 && bundles.size() > 1 ? ", ..." : "",
        ")"));
  }
  // The group-wide name always, and the bundle's own for a given bundle:
  // the group-wide amounts on a node then always say what its bundles have
  // left, whichever way work was placed in them.
  ResourceSet out;
  for (auto& [name, amount] : demand) {
    if (amount <= 0) continue;
    out[Wildcard(name, group_hex)] = amount;
    if (index >= 0) out[Indexed(name, group_hex, index)] = amount;
  }
  out[Wildcard("bundle", group_hex)] = kMarkerShare;
  if (index >= 0) out[Indexed("bundle", group_hex, index)] = kMarkerShare;
  return out;
}

std::optional<BundleGpu> GpuInBundle(const ResourceSet& demand) {
  constexpr absl::string_view kPrefix = "GPU_group_";
  std::optional<BundleGpu> out;
  for (auto& [name, amount] : demand) {
    absl::string_view rest = name;
    if (amount <= 0 || !absl::ConsumePrefix(&rest, kPrefix)) continue;
    if (!out) out.emplace();
    out->amount = amount;
    // "<index>_<group>" names one bundle, "<group>" any of them.
    int index = -1;
    if (auto sep = rest.find('_'); sep != absl::string_view::npos && absl::SimpleAtoi(rest.substr(0, sep), &index)) {
      out->index = index;
      out->group_hex = std::string(rest.substr(sep + 1));
    } else if (out->group_hex.empty()) {
      out->group_hex = std::string(rest);
    }
  }
  return out;
}

bool IsAnyBundleResource(absl::string_view name) {
  // From the end: the group's id in hex, then "_group_" or "_group_<index>_",
  // then the bundle's own name (not empty).
  constexpr size_t kGroupHex = 2 * kIdSize;
  if (name.size() <= kGroupHex) return false;
  absl::string_view hex = name.substr(name.size() - kGroupHex);
  if (!std::all_of(hex.begin(), hex.end(), [](char c) { return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'); })) {
    return false;
  }
  absl::string_view rest = name.substr(0, name.size() - kGroupHex);
  if (!absl::ConsumeSuffix(&rest, "_")) return false;
  size_t digits = 0;
  while (digits < rest.size() && absl::ascii_isdigit(rest[rest.size() - 1 - digits])) ++digits;
  if (digits > 0) {  // one bundle's: "_<index>" before the id
    rest.remove_suffix(digits);
    if (!absl::ConsumeSuffix(&rest, "_")) return false;
  }
  return absl::ConsumeSuffix(&rest, "_group") && !rest.empty();
}

bool IsBundleResource(const std::string& name, const std::string& group_hex) {
  return absl::StrContains(name, "_group_") && absl::EndsWith(name, group_hex);
}

}  // namespace glint
