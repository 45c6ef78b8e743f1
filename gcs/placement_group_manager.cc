#include "gcs/placement_group_manager.h"

#include <algorithm>
#include <atomic>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/bundle_resources.h"
#include "common/ids.h"
#include "common/limits.h"
#include "common/logging.h"
#include "common/rpc.h"

namespace glint::gcs {
namespace {

std::string NameKey(const std::string& ns, const std::string& name) { return absl::StrCat(ns, "/", name); }

constexpr char kGroups[] = "placement_groups";

// What a group's pending reason says when bundle `k` of a round (index,
// node) was not taken.
std::string Refusal(const std::vector<std::pair<int, proto::NodeInfo>>& where, size_t k, const absl::Status& s) {
  return absl::StrCat("node ", ShortHex(where[k].second.node_id()), " did not take bundle ", where[k].first, ": ",
                      s.message());
}

std::vector<ResourceSet> BundlesOf(const proto::PlacementGroupInfo& g) {
  std::vector<ResourceSet> out;
  for (auto& b : g.bundles()) out.push_back(FromProto(b.resources()));
  return out;
}

const char* StrategyName(proto::PlacementStrategy s) {
  switch (s) {
    case proto::PACK: return "PACK";
    case proto::SPREAD: return "SPREAD";
    case proto::STRICT_PACK: return "STRICT_PACK";
    case proto::STRICT_SPREAD: return "STRICT_SPREAD";
    default: return "?";
  }
}

// The first node in `order` whose free resources fit `demand`, or -1.
int FirstFit(const ResourceSet& demand, const std::vector<ResourceSet>& free, const std::vector<size_t>& order) {
  for (size_t i : order) {
    if (Fits(demand, free[i])) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

absl::StatusOr<std::vector<size_t>> PlaceBundles(proto::PlacementStrategy strategy,
                                                 const std::vector<ResourceSet>& bundles,
                                                 const std::vector<proto::NodeInfo>& nodes, std::vector<int> fixed) {
  fixed.resize(bundles.size(), -1);
  bool any_fixed = std::any_of(fixed.begin(), fixed.end(), [](int n) { return n >= 0; });
  std::vector<ResourceSet> free, total;
  std::vector<size_t> all;
  for (size_t i = 0; i < nodes.size(); ++i) {
    free.push_back(nodes[i].alive() ? FromProto(nodes[i].available_resources()) : ResourceSet{});
    total.push_back(nodes[i].alive() ? FromProto(nodes[i].total_resources()) : ResourceSet{});
    if (nodes[i].alive()) all.push_back(i);
  }
  // Why it failed: could some node ever hold each bundle (or, strictly, the set)?
  auto why = [&](const ResourceSet& demand, const std::string& what) -> absl::Status {
    for (size_t i : all) {
      if (Fits(demand, total[i])) {
        return absl::FailedPreconditionError(absl::StrCat("waiting for ", what, " ", ToString(demand),
                                                          " to be free on a node"));
      }
    }
    return absl::UnavailableError(absl::StrCat("no node has ", what, " ", ToString(demand),
                                               "; waiting for one that does to join"));
  };
  std::vector<size_t> out(bundles.size());
  if (!any_fixed && (strategy == proto::STRICT_PACK || strategy == proto::PACK)) {
    ResourceSet sum;
    for (auto& b : bundles) Add(sum, b);
    int n = FirstFit(sum, free, all);
    if (n >= 0) {
      std::fill(out.begin(), out.end(), static_cast<size_t>(n));
      return out;
    }
    if (strategy == proto::STRICT_PACK) return why(sum, "all bundles together (STRICT_PACK)");
  }
  std::vector<size_t> used;  // nodes holding a bundle already, in the order they were chosen
  for (int n : fixed) {
    if (n >= 0 && std::find(used.begin(), used.end(), static_cast<size_t>(n)) == used.end()) used.push_back(n);
  }
  if (strategy == proto::STRICT_PACK && any_fixed) {  // the rest join the node that holds the others
    all.assign(used.begin(), used.begin() + 1);
  }
  if (strategy == proto::STRICT_SPREAD) {
    if (all.size() < bundles.size()) {
      return absl::UnavailableError(absl::StrCat("STRICT_SPREAD needs ", bundles.size(), " nodes, one per bundle; the "
                                                 "cluster has ", all.size(), "; waiting for more to join"));
    }
  }
  for (size_t b = 0; b < bundles.size(); ++b) {
    if (fixed[b] >= 0) {
      out[b] = fixed[b];
      continue;
    }
    std::vector<size_t> order;
    if (strategy == proto::PACK || strategy == proto::STRICT_PACK) {  // the nodes already used first
      order = used;
      for (size_t i : all) {
        if (std::find(used.begin(), used.end(), i) == used.end()) order.push_back(i);
      }
    } else {  // SPREAD and STRICT_SPREAD: unused nodes first
      for (size_t i : all) {
        if (std::find(used.begin(), used.end(), i) == used.end()) order.push_back(i);
      }
      if (strategy == proto::SPREAD) order.insert(order.end(), used.begin(), used.end());
    }
    int n = FirstFit(bundles[b], free, order);
    if (n < 0) {
      if (strategy == proto::STRICT_SPREAD) {
        return absl::FailedPreconditionError(absl::StrCat("waiting for ", bundles.size(), " different nodes with the "
                                                          "bundles free (STRICT_SPREAD); bundle ", b, " ",
                                                          ToString(bundles[b]), " fits on none left"));
      }
      return why(bundles[b], absl::StrCat("bundle ", b));
    }
    Subtract(free[n], bundles[b]);
    out[b] = n;
    if (std::find(used.begin(), used.end(), static_cast<size_t>(n)) == used.end()) used.push_back(n);
  }
  return out;
}

absl::StatusOr<PlacementGroupManager::Info> PlacementGroupManager::Create(const Info& req, const Registered& registered) {
  auto g = Register(req);
  if (registered) registered(g);
  if (!g.ok()) return g;
  TryPlace(g->group_id(), NowMs());
  return Get(g->group_id()).value_or(*g);
}

absl::StatusOr<PlacementGroupManager::Info> PlacementGroupManager::Register(const Info& req) {
  if (req.group_id().size() != kIdSize) return absl::InvalidArgumentError("a placement group needs a 16-byte id");
  if (req.bundles().empty()) return absl::InvalidArgumentError("a placement group needs at least one bundle");
  if (req.bundles_size() > kMaxBundles) {
    return absl::InvalidArgumentError(absl::StrCat("a placement group has at most ", kMaxBundles, " bundles"));
  }
  for (int i = 0; i < req.bundles_size(); ++i) {
    const auto& r = req.bundles(i).resources();
    if (r.empty()) return absl::InvalidArgumentError(absl::StrCat("bundle ", i, " reserves nothing: give it resources"));
    for (auto& [name, amount] : r) {
      if (!(amount > 0)) {
        return absl::InvalidArgumentError(absl::StrCat("bundle ", i, " asks for ", amount, " of '", name,
                                                       "': amounts must be positive"));
      }
    }
    if (auto s = CheckResources(r); !s.ok()) return absl::InvalidArgumentError(absl::StrCat("bundle ", i, ": ", s.message()));
  }
  for (auto [what, name] : {std::pair{"the placement group's name", &req.name()}, {"the namespace", &req.ray_namespace()}}) {
    if (auto s = CheckName(what, *name); !s.ok()) return s;
  }
  for (auto [what, id] : {std::pair{"a placement group's target node", &req.target_node_id()},
                          {"a placement group's root detached actor", &req.root_detached_actor()}}) {
    if (auto s = CheckId(what, *id, /*may_be_empty=*/true); !s.ok()) return s;
  }
  Info g = req;
  if (!req.job_id().empty() || req.lifetime() != proto::DETACHED) {  // a detached group may belong to no driver
    auto job = jobs_->Get(req.job_id());
    if (!job) return absl::NotFoundError(absl::StrCat("unknown job ", IdHex(req.job_id())));
    // Once the job has finished, only a detached actor's work makes groups for it.
    if (job->finished()) {
      if (auto s = actors_->RootGoesOn(req.job_id(), req.root_detached_actor()); !s.ok()) return s;
    }
    if (req.ray_namespace().empty()) g.set_ray_namespace(job->ray_namespace());
  }
  g.set_state(proto::PG_PENDING);
  g.set_pending_reason("not tried yet");
  for (auto& b : *g.mutable_bundles()) b.clear_node_id();
  {
    absl::MutexLock lock(&mu_);
    if (groups_.size() >= kMaxGroups) return absl::ResourceExhaustedError("too many placement groups");
    if (auto it = groups_.find(g.group_id()); it != groups_.end()) {
      // The same request again (a retry whose first reply was lost) gets the group it made.
      if (it->second.info.job_id() == g.job_id() && it->second.info.name() == g.name()) return it->second.info;
      return absl::AlreadyExistsError("a placement group with this id exists");
    }
    if (!g.name().empty()) {
      auto key = NameKey(g.ray_namespace(), g.name());
      if (names_.contains(key)) {
        return absl::AlreadyExistsError(absl::StrCat("placement group name '", g.name(),
                                                     "' is already taken in namespace '", g.ray_namespace(), "'"));
      }
      names_[key] = g.group_id();
    }
    groups_[g.group_id()].info = g;
  }
  Persist(g);
  VLOG(1) << "placement group " << ShortHex(g.group_id()) << " (" << StrategyName(g.strategy()) << ", "
          << g.bundles_size() << " bundles" << (g.name().empty() ? "" : ", name " + g.name()) << ") registered";
  return g;
}

std::optional<PlacementGroupManager::Info> PlacementGroupManager::Get(const std::string& group_id) {
  absl::MutexLock lock(&mu_);
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return std::nullopt;
  return it->second.info;
}

std::optional<PlacementGroupManager::Info> PlacementGroupManager::GetByName(const std::string& name,
                                                                           const std::string& ns) {
  std::string id;
  {
    absl::MutexLock lock(&mu_);
    auto it = names_.find(NameKey(ns, name));
    if (it == names_.end()) return std::nullopt;
    id = it->second;
  }
  return Get(id);
}

std::vector<PlacementGroupManager::Info> PlacementGroupManager::List() {
  absl::MutexLock lock(&mu_);
  std::vector<Info> out;
  for (auto& [id, g] : groups_) out.push_back(g.info);
  return out;
}

void PlacementGroupManager::TryPlace(const std::string& group_id, int64_t now_ms) {
  absl::flat_hash_set<std::string> names;
  {
    absl::MutexLock lock(&mu_);
    auto it = groups_.find(group_id);
    if (it == groups_.end()) return;
    for (auto& b : it->second.info.bundles()) {
      for (auto& [name, amount] : b.resources()) names.insert(name);
    }
  }
  auto nodes = nodes_->AllWithOnly(names);
  int64_t view = nodes_->ViewVersion();
  Placing where;
  Info info;
  {
    absl::MutexLock lock(&mu_);
    auto it = groups_.find(group_id);
    if (it == groups_.end() || it->second.in_flight ||
        (it->second.info.state() != proto::PG_PENDING && it->second.info.state() != proto::PG_RESCHEDULING)) {
      return;
    }
    auto& g = it->second;
    g.tried_ms = now_ms;
    g.tried_view = view;
    if (!g.info.target_node_id().empty()) {
      std::erase_if(nodes, [&](const proto::NodeInfo& n) { return n.node_id() != g.info.target_node_id(); });
      if (nodes.empty() || !nodes[0].alive()) {
        g.info.set_pending_reason(absl::StrCat("waiting for its target node ", ShortHex(g.info.target_node_id()),
                                               nodes.empty() ? ", which is not in the cluster" : ", which is dead"));
        return;
      }
    }
    // Bundles still reserved on a live node stay there (after a node died).
    std::vector<int> fixed(g.info.bundles_size(), -1);
    for (int b = 0; b < g.info.bundles_size(); ++b) {
      for (size_t n = 0; n < nodes.size(); ++n) {
        if (!g.info.bundles(b).node_id().empty() && nodes[n].node_id() == g.info.bundles(b).node_id()) fixed[b] = n;
      }
    }
    auto chosen = PlaceBundles(g.info.strategy(), BundlesOf(g.info), nodes, fixed);
    if (!chosen.ok()) {
      g.info.set_pending_reason(std::string(chosen.status().message()));
      return;
    }
    for (int b = 0; b < g.info.bundles_size(); ++b) {
      if (fixed[b] < 0) where.emplace_back(b, NodeManager::IdAndAddress(nodes[(*chosen)[b]]));
    }
    g.in_flight = true;
    info = g.info;
  }
  // A single bundle is reserved and committed in one step.
  if (where.size() == 1) {
    proto::BundleRequest req;
    req.set_group_id(group_id);
    req.set_bundle_index(where[0].first);
    *req.mutable_resources() = info.bundles(where[0].first).resources();
    req.set_commit(true);
    cluster_->Bundle(where[0].second.address(), ClusterClient::BundleStep::kPrepare, req,
                     [this, group_id, where](const absl::Status& s) {
                       s.ok() ? Committed(group_id, where, "") : Prepared(group_id, where, {false}, Refusal(where, 0, s));
                     });
    return;
  }
  // Phase one: every chosen raylet reserves its bundles, or refuses.
  struct Round {
    absl::Mutex mu;
    size_t left;
    std::vector<bool> reserved;
    std::string why;  // the first refusal
  };
  auto round = std::make_shared<Round>();
  round->left = where.size();
  round->reserved.assign(where.size(), false);
  for (size_t k = 0; k < where.size(); ++k) {
    proto::BundleRequest req;
    req.set_group_id(group_id);
    req.set_bundle_index(where[k].first);
    *req.mutable_resources() = info.bundles(where[k].first).resources();
    cluster_->Bundle(where[k].second.address(), ClusterClient::BundleStep::kPrepare, req,
                     [this, round, k, group_id, where](const absl::Status& s) {
                       std::vector<bool> reserved;
                       std::string why;
                       {
                         absl::MutexLock lock(&round->mu);
                         round->reserved[k] = s.ok();
                         if (!s.ok() && round->why.empty()) round->why = Refusal(where, k, s);
                         if (--round->left > 0) return;
                         reserved = round->reserved;
                         why = round->why;
                       }
                       Prepared(group_id, where, std::move(reserved), why);
                     });
  }
}

void PlacementGroupManager::Prepared(const std::string& group_id, Placing where, std::vector<bool> reserved,
                                     const std::string& why) {
  bool all = std::all_of(reserved.begin(), reserved.end(), [](bool b) { return b; });
  bool removed;
  {
    absl::MutexLock lock(&mu_);
    auto it = groups_.find(group_id);
    removed = it == groups_.end();
    if (!removed && !all) {
      it->second.in_flight = false;
      it->second.info.set_pending_reason(absl::StrCat(why, "; trying again"));
    }
  }
  if (removed || !all) {
    ReturnBundles(group_id, where, reserved);
    return;
  }
  // Phase two: every bundle is reserved; commit them all.
  struct Round {
    absl::Mutex mu;
    size_t left;
    std::string why;  // the first failure
  };
  auto round = std::make_shared<Round>();
  round->left = where.size();
  for (size_t k = 0; k < where.size(); ++k) {
    proto::BundleRequest req;
    req.set_group_id(group_id);
    req.set_bundle_index(where[k].first);
    cluster_->Bundle(where[k].second.address(), ClusterClient::BundleStep::kCommit, req,
                     [this, round, k, group_id, where](const absl::Status& s) {
                       std::string why;
                       {
                         absl::MutexLock lock(&round->mu);
                         if (!s.ok() && round->why.empty()) round->why = Refusal(where, k, s);
                         if (--round->left > 0) return;
                         why = round->why;
                       }
                       Committed(group_id, where, why);
                     });
  }
}

void PlacementGroupManager::Committed(const std::string& group_id, Placing where, const std::string& failed) {
  bool ok = failed.empty();
  std::vector<ResourceSet> bundles;
  bool removed = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = groups_.find(group_id);
    removed = it == groups_.end();
    if (!removed) {
      auto& g = it->second;
      g.in_flight = false;
      if (ok) {
        g.info.set_state(proto::PG_CREATED);
        g.info.clear_pending_reason();
        for (auto& [index, node] : where) g.info.mutable_bundles(index)->set_node_id(node.node_id());
        bundles = BundlesOf(g.info);
        Persist(g.info);
      } else {
        g.info.set_pending_reason(absl::StrCat(failed, "; trying again"));
      }
    }
  }
  if (removed || !ok) {
    ReturnBundles(group_id, where, std::vector<bool>(where.size(), true));
    return;
  }
  std::string hex = IdHex(group_id);
  for (auto& [index, node] : where) {
    nodes_->AdjustResources(node.node_id(), BundleResources(bundles[index], hex, index), true);
    nodes_->AdjustResources(node.node_id(), bundles[index], false, /*free_only=*/true);  // what it took
  }
  VLOG(1) << "placement group " << ShortHex(group_id) << " CREATED (" << where.size() << " bundles placed now)";
  Notify(group_id);
}

void PlacementGroupManager::ReturnBundles(const std::string& group_id, const Placing& where,
                                          const std::vector<bool>& which) {
  for (size_t k = 0; k < where.size(); ++k) {
    if (!which[k]) continue;
    proto::BundleRequest req;
    req.set_group_id(group_id);
    req.set_bundle_index(where[k].first);
    int index = where[k].first;
    cluster_->Bundle(where[k].second.address(), ClusterClient::BundleStep::kReturn, req,
                     [group_id, index](const absl::Status& s) {
                       if (!s.ok()) {
                         LOG(WARNING) << "could not return bundle " << index << " of placement group "
                                      << ShortHex(group_id) << ": " << s.message();
                       }
                     });
  }
}

void PlacementGroupManager::OnNodeDead(const proto::NodeInfo& node) {
  std::vector<std::string> hit;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, g] : groups_) {
      bool lost = false;
      for (auto& b : *g.info.mutable_bundles()) {
        if (b.node_id() != node.node_id()) continue;
        b.clear_node_id();  // gone with the node's raylet
        lost = true;
      }
      if (!lost) continue;
      // A round in flight to the dead node fails and tries again.
      if (g.info.state() == proto::PG_CREATED) g.info.set_state(proto::PG_RESCHEDULING);
      g.info.set_pending_reason(absl::StrCat("node ", ShortHex(node.node_id()), " died; placing its bundles again"));
      Persist(g.info);
      hit.push_back(id);
    }
  }
  for (auto& id : hit) {
    LOG(INFO) << "placement group " << ShortHex(id) << " is RESCHEDULING: node " << ShortHex(node.node_id()) << " died";
    TryPlace(id, NowMs());
  }
}

absl::Status PlacementGroupManager::Remove(const std::string& group_id,
                                          const std::function<void(const absl::Status&)>& removed) {
  Info info;
  bool in_flight = false;
  bool found;
  {
    absl::MutexLock lock(&mu_);
    auto it = groups_.find(group_id);
    found = it != groups_.end();
    if (found) {
      info = it->second.info;
      in_flight = it->second.in_flight;
      if (!info.name().empty()) names_.erase(NameKey(info.ray_namespace(), info.name()));
      groups_.erase(it);  // a round in flight sees it gone and returns what it reserved
    }
  }
  if (!found) {
    auto s = absl::NotFoundError("no such placement group (removed already?)");
    if (removed) removed(s);
    return s;
  }
  store_->Delete(kGroups, group_id);
  std::string hex = IdHex(group_id);
  actors_->KillInPlacementGroup(hex, absl::StrCat("the placement group ", hex, " was removed"));
  // Bundles committed earlier go back (a round in flight returns its own).
  Placing where;
  for (int i = 0; i < info.bundles_size(); ++i) {
    if (info.bundles(i).node_id().empty()) continue;
    if (in_flight && info.state() == proto::PG_PENDING) continue;
    auto node = nodes_->Locate(info.bundles(i).node_id());
    if (!node) continue;
    where.emplace_back(i, *node);
    ResourceSet bundle = FromProto(info.bundles(i).resources());
    nodes_->AdjustResources(node->node_id(), BundleResources(bundle, hex, i), false);
    nodes_->AdjustResources(node->node_id(), bundle, true, /*free_only=*/true);  // back to the node
  }
  VLOG(1) << "placement group " << ShortHex(group_id) << " removed";
  Notify(group_id);
  if (removed) removed(absl::OkStatus());
  ReturnBundles(group_id, where, std::vector<bool>(where.size(), true));
  return absl::OkStatus();
}

void PlacementGroupManager::WaitPlaced(const std::string& group_id, int64_t deadline_ms, Waiter done) {
  std::optional<Info> now;
  {
    absl::MutexLock lock(&mu_);
    auto it = groups_.find(group_id);
    if (it != groups_.end() && it->second.info.state() != proto::PG_CREATED) {
      waits_[group_id].push_back({deadline_ms, std::move(done)});
      return;
    }
    if (it != groups_.end()) now = it->second.info;
  }
  done(now);
}

void PlacementGroupManager::Notify(const std::string& group_id) {
  std::vector<Wait> ready;
  std::optional<Info> info;
  {
    absl::MutexLock lock(&mu_);
    auto w = waits_.find(group_id);
    if (w == waits_.end()) return;
    ready.swap(w->second);
    waits_.erase(w);
    if (auto it = groups_.find(group_id); it != groups_.end()) info = it->second.info;
  }
  for (auto& r : ready) r.done(info);
}

void PlacementGroupManager::Tick(int64_t now_ms, bool all) {
  constexpr int64_t kRetryMs = 1000;
  std::vector<std::string> retry;
  std::vector<std::pair<Waiter, std::optional<Info>>> expired;
  int64_t view = nodes_->ViewVersion();
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, g] : groups_) {
      bool waiting = g.info.state() == proto::PG_PENDING || g.info.state() == proto::PG_RESCHEDULING;
      if (waiting && !g.in_flight &&
          (g.tried_view != view || now_ms - g.tried_ms >= kRetryMs)) {
        retry.push_back(id);
      }
    }
    for (auto wit = waits_.begin(); wit != waits_.end();) {
      auto& list = wit->second;
      auto g = groups_.find(wit->first);
      for (auto it = list.begin(); it != list.end();) {
        if (all || it->deadline_ms <= now_ms) {
          expired.emplace_back(std::move(it->done), g == groups_.end() ? std::nullopt : std::optional<Info>(g->second.info));
          it = list.erase(it);
        } else {
          ++it;
        }
      }
      if (list.empty()) {
        waits_.erase(wit++);
      } else {
        ++wit;
      }
    }
  }
  for (auto& [done, info] : expired) done(info);
  if (all) return;
  for (auto& id : retry) TryPlace(id, now_ms);
}

void PlacementGroupManager::Persist(const Info& info) {
  store_->Put(kGroups, info.group_id(), info.SerializeAsString());
}

void PlacementGroupManager::Recover() {
  // (group, its unplaced bundle indexes) for groups that were being placed
  std::vector<std::pair<std::string, std::vector<int>>> unplaced;
  absl::flat_hash_map<std::string, ResourceSet> committed;  // node -> its bundles' resources
  {
    absl::MutexLock lock(&mu_);
    for (auto& info : ReadRecords(*store_, kGroups, &Info::group_id, "placement group")) {
      const std::string id = info.group_id();
      if (!info.name().empty()) names_[NameKey(info.ray_namespace(), info.name())] = id;
      auto& g = groups_[id];
      g.info = std::move(info);
      std::string hex = IdHex(id);
      for (int b = 0; b < g.info.bundles_size(); ++b) {
        const auto& bundle = g.info.bundles(b);
        if (!bundle.node_id().empty()) Add(committed[bundle.node_id()], BundleResources(FromProto(bundle.resources()), hex, b));
      }
      if (g.info.state() == proto::PG_CREATED) continue;
      std::vector<int> indexes;
      for (int b = 0; b < g.info.bundles_size(); ++b) {
        if (g.info.bundles(b).node_id().empty()) indexes.push_back(b);
      }
      g.in_flight = true;  // until the returns below have answered
      unplaced.emplace_back(id, std::move(indexes));
    }
    if (!groups_.empty()) {
      LOG(INFO) << "read back " << groups_.size() << " placement groups (" << unplaced.size()
                << " still to place) from the store";
    }
  }
  for (auto& [node, resources] : committed) nodes_->AddMissing(node, resources);
  std::vector<proto::NodeInfo> alive;
  for (auto& n : nodes_->All()) {
    if (n.alive()) alive.push_back(NodeManager::IdAndAddress(n));
  }
  for (auto& [id, indexes] : unplaced) {
    auto left = std::make_shared<std::atomic<size_t>>(indexes.size() * alive.size());
    auto done = [this, id = id, left](const absl::Status&) {
      if (left->fetch_sub(1) != 1) return;
      absl::MutexLock lock(&mu_);
      if (auto it = groups_.find(id); it != groups_.end()) it->second.in_flight = false;  // Tick tries it again
    };
    if (*left == 0) {  // nothing to return
      absl::MutexLock lock(&mu_);
      groups_[id].in_flight = false;
      continue;
    }
    for (int index : indexes) {
      proto::BundleRequest req;
      req.set_group_id(id);
      req.set_bundle_index(index);
      for (auto& n : alive) cluster_->Bundle(n.address(), ClusterClient::BundleStep::kReturn, req, done);
    }
  }
}

std::vector<PlacementGroupManager::Info> PlacementGroupManager::NotDetachedOf(const std::string& job_id) {
  std::vector<Info> of_job;
  absl::MutexLock lock(&mu_);
  for (auto& [id, g] : groups_) {
    if (g.info.job_id() == job_id && g.info.lifetime() != proto::DETACHED) of_job.push_back(g.info);
  }
  return of_job;
}

void PlacementGroupManager::OnJobFinished(const proto::JobInfo& job) {
  for (auto& g : NotDetachedOf(job.job_id())) {
    // A detached actor's work keeps its groups while that actor lives (OnActorDead).
    if (actors_->RootGoesOn(job.job_id(), g.root_detached_actor()).ok()) continue;
    Remove(g.group_id()).IgnoreError();
  }
}

void PlacementGroupManager::OnActorDead(const proto::ActorInfo& actor) {
  if (actor.lifetime() != proto::DETACHED) return;  // only a detached actor is a root
  auto job = jobs_->Get(actor.job_id());
  if (job && !job->finished()) return;  // its groups end with the job
  for (auto& g : NotDetachedOf(actor.job_id())) {
    if (g.root_detached_actor() == actor.actor_id()) Remove(g.group_id()).IgnoreError();
  }
}

}  // namespace glint::gcs
