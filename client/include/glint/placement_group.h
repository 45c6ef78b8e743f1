// Placement groups: bundles of resources reserved together across nodes (a
// "gang"), and actors and tasks run inside those reservations.
//
//   auto pg = glint::CreatePlacementGroup({.bundles = {{{"CPU", 1}}, {{"CPU", 1}}},
//                                          .strategy = glint::PlacementStrategy::kStrictSpread});
//   if (!pg.Wait(std::chrono::seconds(10))) { ... not placed yet ... }
//   auto a = glint::Actor(Counter::Create).SetPlacementGroup(pg, 0).Remote(0);
//   auto r = glint::Task(Work).SetPlacementGroup(pg, -1).Remote();   // any bundle
//   glint::RemovePlacementGroup(pg);   // kills its actors, frees its resources
//
// A group is placed whole or not at all (the GCS reserves every bundle on
// its node, then commits); until then it waits, and `glint status` says why.
// Work in a bundle runs on the bundle's node and takes from the bundle's
// reserved resources, not the node's free ones; asking for more than the
// bundle holds is an error at submission.
#pragma once
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "glint/internal/export.h"
#include "glint/internal/serializer.h"
#include "glint/lifetime.h"

namespace glint {

enum class PlacementStrategy {
  kPack,          // as few nodes as possible (best effort)
  kSpread,        // across nodes (best effort)
  kStrictPack,    // all bundles on one node, or not placed
  kStrictSpread,  // each bundle on a different node, or not placed
};

struct PlacementGroupOptions {
  std::string name;        // optional; unique in its namespace
  std::string namespace_;  // default: the job's
  std::vector<std::map<std::string, double>> bundles;
  PlacementStrategy strategy = PlacementStrategy::kPack;
  Lifetime lifetime = Lifetime::kNonDetached;  // non-detached: removed when the job ends
};

// A handle to a placement group (copyable; can be passed to tasks and actors).
class GLINT_EXPORT PlacementGroup {
 public:
  PlacementGroup() = default;
  PlacementGroup(std::string id, std::vector<std::map<std::string, double>> bundles)
      : id_(std::move(id)), bundles_(std::move(bundles)) {}
  // True once every bundle is reserved; false if that has not happened
  // within `timeout` (or the group was removed).
  bool Wait(std::chrono::milliseconds timeout) const;
  const std::string& ID() const { return id_; }
  const std::vector<std::map<std::string, double>>& Bundles() const { return bundles_; }
  bool operator==(const PlacementGroup& o) const { return id_ == o.id_; }

  MSGPACK_DEFINE(id_, bundles_);

 private:
  std::string id_;
  std::vector<std::map<std::string, double>> bundles_;
};

// Registers the group and starts placing it (see Wait). Throws glint::Error
// for no bundles, a bundle without resources or with a negative amount, or a
// name taken in the namespace.
GLINT_EXPORT PlacementGroup CreatePlacementGroup(const PlacementGroupOptions& options);
// The group named `name` in `namespace_` (default: the job's); empty if none.
GLINT_EXPORT std::optional<PlacementGroup> GetPlacementGroup(const std::string& name,
                                                             const std::string& namespace_ = "");
// Removes the group: its actors are killed (ActorDiedError says the group was
// removed), tasks running in it fail, and its resources return to the nodes.
GLINT_EXPORT void RemovePlacementGroup(const PlacementGroup& group);

}  // namespace glint
