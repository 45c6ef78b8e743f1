// How a placement group's reserved resources are named on the node that
// holds them (as Ray names them): bundle i of group G reserving {CPU: 2}
// adds "CPU_group_i_G": 2 (that bundle) and "CPU_group_G": 2 (any bundle of
// G) to the node, plus "bundle_group_i_G" and "bundle_group_G" (1000 each)
// so that work asking for nothing else can still be pinned to a bundle; G is
// the group id in hex. Work in a bundle asks for these names instead of the
// node's own, so the ordinary lease and spill-back logic puts it on the
// bundle's node and takes from the bundle, not from the node's free pool.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/resources.h"

namespace glint {

// What committing bundle `index` of `bundle` adds to its node.
ResourceSet BundleResources(const ResourceSet& bundle, const std::string& group_hex, int index);
// `demand` rewritten to run in bundle `index` of the group (-1: any bundle);
// a clear error when the index is out of range or the demand fits no
// such bundle.
absl::StatusOr<ResourceSet> InBundle(const ResourceSet& demand, const std::vector<ResourceSet>& bundles,
                                     const std::string& group_hex, int index);
// Whether a resource name belongs to group `group_hex`'s bundles.
bool IsBundleResource(const std::string& name, const std::string& group_hex);
// Whether a resource name is one a bundle adds to its node (of any group):
// "<name>_group_<group hex>" or "<name>_group_<index>_<group hex>".
bool IsAnyBundleResource(absl::string_view name);
// The GPUs a demand asks of a group's bundles (GPU ids come from the
// bundle's own): the group, the bundle (-1: any) and the amount.
struct BundleGpu {
  std::string group_hex;
  int index = -1;
  double amount = 0;
};
std::optional<BundleGpu> GpuInBundle(const ResourceSet& demand);

}  // namespace glint
