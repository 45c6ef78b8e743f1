#include "client/src/placement_groups.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "client/src/detached_root.h"
#include "client/src/handed_on.h"
#include "common/bundle_resources.h"
#include "common/ids.h"
#include "common/rpc.h"

namespace glint::internal {
namespace {

proto::PlacementStrategy ToProto(PlacementStrategy s) {
  switch (s) {
    case PlacementStrategy::kPack: return proto::PACK;
    case PlacementStrategy::kSpread: return proto::SPREAD;
    case PlacementStrategy::kStrictPack: return proto::STRICT_PACK;
    case PlacementStrategy::kStrictSpread: return proto::STRICT_SPREAD;
  }
  return proto::PACK;
}

}  // namespace

absl::StatusOr<std::string> PlacementGroups::Create(const PlacementGroupOptions& options) {
  proto::PlacementGroupInfo g;
  g.set_group_id(RandomId());
  g.set_job_id(job_.job_id());
  g.set_name(options.name);
  g.set_ray_namespace(options.namespace_.empty() ? job_.ray_namespace() : options.namespace_);
  g.set_strategy(ToProto(options.strategy));
  g.set_lifetime(options.lifetime == Lifetime::kDetached ? proto::DETACHED : proto::NON_DETACHED);
  g.set_root_detached_actor(CurrentRoot());  // a detached actor's work: the group lives while that actor does
  for (auto& b : options.bundles) {
    auto* bundle = g.add_bundles();
    for (auto& [name, amount] : b) (*bundle->mutable_resources())[name] = amount;
  }
  auto made = gcs_->CreatePlacementGroup(g);
  if (!made.ok()) {
    return absl::Status(made.status().code(),
                        absl::StrCat("cannot create the placement group: ", made.status().message()));
  }
  return made->group_id();
}

absl::StatusOr<std::optional<proto::PlacementGroupInfo>> PlacementGroups::Find(const std::string& name,
                                                                               const std::string& ns) {
  proto::GetPlacementGroupRequest req;
  req.set_name(name);
  req.set_ray_namespace(ns.empty() ? job_.ray_namespace() : ns);
  return gcs_->GetPlacementGroup(std::move(req));
}

absl::StatusOr<bool> PlacementGroups::Wait(const std::string& group_id, int64_t timeout_ms) {
  constexpr int64_t kMaxPollMs = 30000;  // the GCS holds one wait at most this long
  int64_t deadline = NowMs() + std::max<int64_t>(timeout_ms, 0);
  while (true) {
    proto::GetPlacementGroupRequest req;
    req.set_group_id(group_id);
    req.set_wait_timeout_ms(std::clamp<int64_t>(deadline - NowMs(), 1, kMaxPollMs));
    auto g = gcs_->GetPlacementGroup(std::move(req));
    if (!g.ok()) return g.status();
    if (!*g) return false;  // removed
    if ((*g)->state() == proto::PG_CREATED) return true;
    if (NowMs() >= deadline) return false;
  }
}

absl::Status PlacementGroups::Remove(const std::string& group_id) {
  auto s = gcs_->RemovePlacementGroup(group_id);
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat("cannot remove the placement group: ", s.message()));
  return s;
}

namespace {

// The group this worker's current task or actor captures its calls into.
HandedOn<Placement>& Captured() {
  static auto* c = new HandedOn<Placement>();  // never destroyed: calls may run during exit
  return *c;
}

}  // namespace

void CaptureChildTasks(const proto::TaskSpec& spec) {
  Placement p;
  if (spec.has_capture_group()) {
    p.group_id = spec.capture_group().group_id();
    for (auto& b : spec.capture_group().bundles()) p.bundles.emplace_back(b.resources().begin(), b.resources().end());
    p.capture_child_tasks = true;  // and their calls in turn
  }
  const bool set = !p.group_id.empty();
  Captured().Set(std::move(p), set);
}

absl::StatusOr<std::string> Place(const Placement& given, std::map<std::string, double>* resources,
                                  proto::PlacementGroupInfo* capture) {
  Placement p = given;
  if (p.group_id.empty()) p = Captured().Get();
  if (p.group_id.empty()) return std::string();
  std::vector<ResourceSet> bundles(p.bundles.begin(), p.bundles.end());
  auto placed = InBundle(*resources, bundles, IdHex(p.group_id), p.bundle_index);
  if (!placed.ok()) return placed.status();
  *resources = std::move(*placed);
  if (p.capture_child_tasks) {
    capture->set_group_id(p.group_id);
    for (auto& b : p.bundles) {
      auto* bundle = capture->add_bundles();
      for (auto& [name, amount] : b) (*bundle->mutable_resources())[name] = amount;
    }
  }
  return p.group_id;
}

}  // namespace glint::internal
