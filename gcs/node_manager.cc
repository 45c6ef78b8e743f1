#include "gcs/node_manager.h"

#include "common/ids.h"
#include "common/logging.h"
#include "common/resources.h"

namespace glint::gcs {

namespace {
bool Fits(const google::protobuf::Map<std::string, double>& demand,
          const google::protobuf::Map<std::string, double>& have) {
  return glint::Fits(FromProto(demand), FromProto(have));
}
}  // namespace

void NodeManager::Register(proto::NodeInfo node, int64_t now_ms) {
  node.set_alive(true);
  if (node.available_resources().empty()) *node.mutable_available_resources() = node.total_resources();
  LOG(INFO) << "node " << ShortHex(node.node_id()) << " registered at " << node.address().ip() << ":"
            << node.address().port() << (node.is_head() ? " (head)" : "");
  store_->Put("nodes", node.node_id(), node.SerializeAsString());
  absl::MutexLock lock(&mu_);
  last_seen_[node.node_id()] = now_ms;
  nodes_[node.node_id()] = std::move(node);
}

bool NodeManager::Heartbeat(const std::string& node_id,
                            const google::protobuf::Map<std::string, double>& avail,
                            int64_t num_workers, int64_t now_ms, const proto::ObjectStoreInfo* store) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end() || !it->second.alive()) return false;
  *it->second.mutable_available_resources() = avail;
  it->second.set_num_workers(num_workers);
  if (store) *it->second.mutable_object_store() = *store;
  last_seen_[node_id] = now_ms;
  return true;
}

void NodeManager::MarkDead(proto::NodeInfo& node, const std::string& cause) {
  node.set_alive(false);
  node.set_death_cause(cause);
  store_->Put("nodes", node.node_id(), node.SerializeAsString());
}

void NodeManager::CheckHealth(int64_t now_ms) {
  std::vector<proto::NodeInfo> dead;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, node] : nodes_) {
      if (node.alive() && now_ms - last_seen_[id] > timeout_ms_) {
        MarkDead(node, "no heartbeat from the raylet for " + std::to_string(timeout_ms_) + " ms");
        dead.push_back(node);
      }
    }
  }
  for (auto& node : dead) {
    LOG(WARNING) << "node " << ShortHex(node.node_id()) << " is dead: " << node.death_cause();
    for (auto& l : listeners_) l(node);
  }
}

std::vector<proto::NodeInfo> NodeManager::All() {
  absl::MutexLock lock(&mu_);
  std::vector<proto::NodeInfo> out;
  for (auto& [id, node] : nodes_) out.push_back(node);
  return out;
}

std::optional<proto::NodeInfo> NodeManager::Get(const std::string& node_id) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return std::nullopt;
  return it->second;
}

std::optional<proto::NodeInfo> NodeManager::PickNode(
    const google::protobuf::Map<std::string, double>& demand, const std::string& preferred_node) {
  absl::MutexLock lock(&mu_);
  const proto::NodeInfo* free_now = nullptr;
  const proto::NodeInfo* fits_total = nullptr;
  double best_cpu = -1;
  for (auto& [id, node] : nodes_) {
    if (!node.alive() || !Fits(demand, node.total_resources())) continue;
    if (!fits_total) fits_total = &node;
    if (!Fits(demand, node.available_resources())) continue;
    if (id == preferred_node) return node;
    auto cpu = node.available_resources().find("CPU");
    double c = cpu == node.available_resources().end() ? 0 : cpu->second;
    if (c > best_cpu) {
      best_cpu = c;
      free_now = &node;
    }
  }
  if (free_now) return *free_now;
  if (fits_total) return *fits_total;
  return std::nullopt;
}

}  // namespace glint::gcs
