#include "gcs/node_manager.h"

#include <openssl/evp.h>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/resources.h"

namespace glint::gcs {

namespace {

constexpr char kNodes[] = "nodes";
constexpr char kSecrets[] = "node_secrets";

// What the store keeps of a raylet's secret.
std::string SecretHash(const std::string& secret) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  CHECK(EVP_Digest(secret.data(), secret.size(), out, &n, EVP_sha256(), nullptr) == 1);
  return std::string(reinterpret_cast<char*>(out), n);
}

bool SameAmounts(const google::protobuf::Map<std::string, double>& a,
                 const google::protobuf::Map<std::string, double>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || it->second != v) return false;
  }
  return true;
}
bool Fits(const google::protobuf::Map<std::string, double>& demand,
          const google::protobuf::Map<std::string, double>& have) {
  return glint::Fits(FromProto(demand), FromProto(have));
}
}  // namespace

absl::Status NodeManager::Register(proto::NodeInfo node, const std::string& secret, int64_t now_ms) {
  node.set_alive(true);
  node.clear_death_cause();
  if (node.available_resources().empty()) *node.mutable_available_resources() = node.total_resources();
  {
    absl::MutexLock lock(&mu_);
    auto it = nodes_.find(node.node_id());
    bool alive = it != nodes_.end() && it->second.alive();
    std::string hash = SecretHash(secret);
    if (alive && !SameSecret(secrets_[node.node_id()], hash)) {
      return absl::AlreadyExistsError(absl::StrCat("node ", ShortHex(node.node_id()),
                                                   " is registered already, by another raylet"));
    }
    if (!alive && alive_ >= kMaxNodes) {
      return absl::ResourceExhaustedError(absl::StrCat("the cluster has ", kMaxNodes, " nodes; no more may join"));
    }
    if (!alive) ++alive_;
    if (secrets_[node.node_id()] != hash) store_->Put(kSecrets, node.node_id(), hash);
    secrets_[node.node_id()] = hash;
    recovered_.erase(node.node_id());
    last_seen_[node.node_id()] = now_ms;
    store_->Put(kNodes, node.node_id(), node.SerializeAsString());
    nodes_[node.node_id()] = node;
    ++view_version_;
  }
  LOG(INFO) << "node " << ShortHex(node.node_id()) << " registered at " << node.address().ip() << ":"
            << node.address().port() << (node.is_head() ? " (head)" : "");
  return absl::OkStatus();
}

absl::Status NodeManager::Heartbeat(const std::string& node_id, const std::string& secret,
                                    const google::protobuf::Map<std::string, double>& avail, int64_t num_workers,
                                    int64_t now_ms, const proto::ObjectStoreInfo* store) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end() || recovered_.contains(node_id)) {
    return absl::NotFoundError("the GCS does not know this node, or restarted: register again");
  }
  if (!SameSecret(secrets_[node_id], SecretHash(secret))) {
    return absl::PermissionDeniedError(
        absl::StrCat("a heartbeat for node ", ShortHex(node_id), " from a raylet that did not register it"));
  }
  if (!it->second.alive()) {
    return absl::FailedPreconditionError(absl::StrCat("the GCS declared this node dead (", it->second.death_cause(),
                                                      "): its workers must go before it registers again"));
  }
  if (!SameAmounts(avail, it->second.available_resources())) ++view_version_;
  *it->second.mutable_available_resources() = avail;
  it->second.set_num_workers(num_workers);
  if (store) *it->second.mutable_object_store() = *store;
  last_seen_[node_id] = now_ms;
  return absl::OkStatus();
}

void NodeManager::SetPending(const std::string& node_id,
                             const google::protobuf::RepeatedPtrField<proto::ResourceDemand>& pending) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return;
  auto* out = it->second.mutable_pending();
  out->Clear();
  for (auto& d : pending) {
    if (out->size() >= kMaxPendingShapes) break;
    if (d.shape_size() > kMaxPendingShapes) continue;
    auto* kept = out->Add();
    *kept = d;
    if (kept->held_by().size() > 256) kept->mutable_held_by()->resize(256);
  }
}

void NodeManager::MarkDead(proto::NodeInfo& node, const std::string& cause) {
  ++view_version_;
  node.set_alive(false);
  node.set_death_cause(cause);
  store_->Put(kNodes, node.node_id(), node.SerializeAsString());
  recovered_.erase(node.node_id());
  --alive_;
  dead_.push_back(node.node_id());
}

void NodeManager::ForgetOldDead() {
  // The oldest dead beyond the bound are forgotten (unless alive again).
  while (dead_.size() > kMaxDeadNodes) {
    std::string id = std::move(dead_.front());
    dead_.pop_front();
    auto it = nodes_.find(id);
    if (it == nodes_.end() || it->second.alive()) continue;
    nodes_.erase(it);
    last_seen_.erase(id);
    secrets_.erase(id);
    store_->Delete(kNodes, id);
    store_->Delete(kSecrets, id);
  }
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
    ForgetOldDead();
  }
  for (auto& node : dead) {
    LOG(WARNING) << "node " << ShortHex(node.node_id()) << " is dead: " << node.death_cause();
    for (auto& l : listeners_) l(node);
  }
}

void NodeManager::Recover(int64_t now_ms) {
  auto secrets = store_->GetAll(kSecrets);
  absl::MutexLock lock(&mu_);
  for (auto& node : ReadRecords(*store_, kNodes, &proto::NodeInfo::node_id, "node")) {
    const std::string id = node.node_id();
    auto secret = secrets.find(id);
    nodes_[id] = node;
    if (!node.alive()) {
      dead_.push_back(id);
      if (secret != secrets.end()) secrets_[id] = secret->second;
      continue;
    }
    ++alive_;
    last_seen_[id] = now_ms;
    if (secret == secrets.end()) {  // no raylet can prove it holds this node
      MarkDead(nodes_[id], "the GCS restarted and has no secret for this node");
      continue;
    }
    secrets_[id] = secret->second;
    recovered_.insert(id);
  }
  ++view_version_;
  if (!nodes_.empty()) {
    LOG(INFO) << "read back " << nodes_.size() << " nodes (" << recovered_.size()
              << " alive, asked to register again) from the store";
  }
}

int64_t NodeManager::ViewVersion() {
  absl::MutexLock lock(&mu_);
  return view_version_;
}

std::vector<proto::NodeInfo> NodeManager::All() {
  absl::MutexLock lock(&mu_);
  std::vector<proto::NodeInfo> out;
  for (auto& [id, node] : nodes_) out.push_back(node);
  return out;
}

std::vector<proto::NodeInfo> NodeManager::AllWithOnly(const absl::flat_hash_set<std::string>& names) {
  absl::MutexLock lock(&mu_);
  std::vector<proto::NodeInfo> out;
  out.reserve(nodes_.size());
  for (auto& [id, node] : nodes_) {
    proto::NodeInfo& n = out.emplace_back(IdAndAddress(node));
    n.set_alive(node.alive());
    for (auto& name : names) {
      if (auto t = node.total_resources().find(name); t != node.total_resources().end()) {
        (*n.mutable_total_resources())[name] = t->second;
      }
      if (auto a = node.available_resources().find(name); a != node.available_resources().end()) {
        (*n.mutable_available_resources())[name] = a->second;
      }
    }
  }
  return out;
}

proto::NodeInfo NodeManager::IdAndAddress(const proto::NodeInfo& node) {
  proto::NodeInfo n;
  n.set_node_id(node.node_id());
  *n.mutable_address() = node.address();
  return n;
}

std::optional<proto::NodeInfo> NodeManager::Locate(const std::string& node_id) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return std::nullopt;
  return IdAndAddress(it->second);
}

std::optional<proto::NodeInfo> NodeManager::Get(const std::string& node_id) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return std::nullopt;
  return it->second;
}

void NodeManager::AdjustResources(const std::string& node_id, const ResourceSet& r, bool add, bool free_only) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return;
  for (auto* map : {it->second.mutable_available_resources(), it->second.mutable_total_resources()}) {
    if (free_only && map == it->second.mutable_total_resources()) break;
    add ? Add(*map, r) : SubtractAndDrop(*map, r);
  }
  ++view_version_;
}

void NodeManager::AddMissing(const std::string& node_id, const ResourceSet& r) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return;
  auto& total = *it->second.mutable_total_resources();
  for (auto& [name, amount] : r) {
    if (total.contains(name)) continue;
    total[name] = amount;
    (*it->second.mutable_available_resources())[name] = amount;
  }
  ++view_version_;
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
