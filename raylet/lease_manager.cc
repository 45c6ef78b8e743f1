#include "raylet/lease_manager.h"

#include "absl/strings/str_cat.h"
#include "common/bundle_resources.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/rpc.h"

namespace glint::raylet {
namespace {

proto::LeaseReply ErrorReply(proto::ErrorType type, const std::string& msg) {
  proto::LeaseReply r;
  r.mutable_error()->set_type(type);
  r.mutable_error()->set_message(msg);
  return r;
}

ResourceSet CpuOf(const ResourceSet& r) {
  ResourceSet cpu;
  if (auto c = r.find("CPU"); c != r.end()) cpu[c->first] = c->second;
  return cpu;
}

double GpuOf(const ResourceSet& r) {
  auto g = r.find("GPU");
  return g == r.end() ? 0 : g->second;
}

std::vector<std::string> DefaultGpuIds(const ResourceSet& total, std::vector<std::string> ids) {
  if (!ids.empty()) return ids;
  for (int i = 0; i < static_cast<int>(GpuOf(total)); ++i) ids.push_back(std::to_string(i));
  return ids;
}

}  // namespace

LeaseManager::LeaseManager(std::string node_id, ResourceSet total, WorkerPool* pool, std::vector<std::string> gpu_ids)
    : node_id_(std::move(node_id)),
      pool_(pool),
      total_(total),
      available_(total),
      gpus_(DefaultGpuIds(total, std::move(gpu_ids))) {}

bool LeaseManager::QueuedLike(const ResourceSet& demand) {
  for (auto& q : queue_) {
    if (q.demand == demand) return true;
  }
  return false;
}

GpuSlots* LeaseManager::GpuPoolOf(const ResourceSet& demand, GpuGrant* grant) {
  auto in_bundle = GpuInBundle(demand);
  if (!in_bundle) {
    grant->amount = GpuOf(demand);
    return gpus_.CanTake(grant->amount) ? &gpus_ : nullptr;
  }
  grant->group_hex = in_bundle->group_hex;
  grant->amount = in_bundle->amount;
  auto group = bundle_gpus_.find(in_bundle->group_hex);
  if (group == bundle_gpus_.end()) return nullptr;
  for (auto& [index, slots] : group->second) {
    if ((in_bundle->index == -1 || in_bundle->index == index) && slots.CanTake(grant->amount)) {
      grant->index = index;
      return &slots;
    }
  }
  return nullptr;
}

bool LeaseManager::FitsNow(const ResourceSet& demand) {
  GpuGrant grant;
  return Fits(demand, available_) && (GpuPoolOf(demand, &grant) != nullptr || grant.amount <= 0);
}

void LeaseManager::Take(Pending& p) {
  Subtract(available_, p.demand);
  p.gpus = GpuGrant{};
  if (GpuSlots* pool = GpuPoolOf(p.demand, &p.gpus)) p.gpus.ids = pool->Take(p.gpus.amount);
}

void LeaseManager::GiveBack(const ResourceSet& demand, const GpuGrant& gpus) {
  Add(available_, demand);
  if (gpus.ids.empty()) return;
  if (gpus.group_hex.empty()) {
    gpus_.Give(gpus.ids, gpus.amount);
    return;
  }
  auto group = bundle_gpus_.find(gpus.group_hex);
  if (group == bundle_gpus_.end()) return;  // the bundle is gone; its ids went back with it
  auto slots = group->second.find(gpus.index);
  if (slots != group->second.end()) slots->second.Give(gpus.ids, gpus.amount);
}

void LeaseManager::Release(const Lease& lease) {
  GiveBack(lease.held, lease.gpus);
  // A blocked lease had already lent its CPU back.
  if (lease.blocked) Subtract(available_, CpuOf(lease.held));
}

const proto::NodeInfo* LeaseManager::OtherNode(const ResourceSet& demand, bool need_free) {
  for (auto& n : cluster_) {
    if (!n.alive() || n.node_id() == node_id_) continue;
    if (Fits(demand, FromProto(need_free ? n.available_resources() : n.total_resources()))) return &n;
  }
  return nullptr;
}

void LeaseManager::Request(const proto::LeaseRequest& req, Reply reply, bool view_fresh) {
  Pending p{req, FromProto(req.resources()), std::move(reply), {}};
  proto::LeaseReply answer;
  bool refresh = false;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) {
      answer = ErrorReply(proto::SCHEDULING_FAILED, "this raylet is stopping");
    } else if (!Fits(p.demand, total_)) {
      const proto::NodeInfo* other = req.grant_or_reject() ? nullptr : OtherNode(p.demand, false);
      if (other) {
        *answer.mutable_spillback() = other->address();
      } else if (!view_fresh && !req.grant_or_reject() && refresher_) {
        refresh = true;  // a node that fits may have just joined
      } else {
        answer = ErrorReply(proto::SCHEDULING_FAILED,
                            absl::StrCat("no node in the cluster has the resources ",
                                         ToString(p.demand), " (this node has ", ToString(total_),
                                         ")"));
      }
    } else if (!FitsNow(p.demand) || QueuedLike(p.demand)) {
      bool may_move = !req.grant_or_reject() && req.spillback_count() == 0;
      const proto::NodeInfo* other = may_move ? OtherNode(p.demand, true) : nullptr;
      if (other) {
        *answer.mutable_spillback() = other->address();
      } else {
        p.since_ms = NowMs();
        queue_.push_back(std::move(p));
        return;
      }
    } else {
      Take(p);
    }
  }
  if (refresh) {
    refresher_([this, req, reply = std::move(p.reply)]() mutable { Request(req, std::move(reply), true); });
    return;
  }
  if (answer.result_case() != proto::LeaseReply::RESULT_NOT_SET) {
    p.reply(answer);
    return;
  }
  Grant(std::move(p));
}

std::vector<proto::ResourceDemand> LeaseManager::PendingDemand(int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  std::vector<proto::ResourceDemand> out;
  absl::flat_hash_map<std::string, size_t> index;  // shape -> its place in `out`
  for (auto& p : queue_) {
    std::string key = ToString(p.demand);
    auto it = index.find(key);
    if (it == index.end()) {
      if (out.size() >= kMaxPendingShapes) continue;
      it = index.emplace(key, out.size()).first;
      out.emplace_back();
      ToProto(p.demand, out.back().mutable_shape());
      out.back().set_held_by(HeldBy(p.demand));
    }
    auto& d = out[it->second];
    p.req.for_actor() ? d.set_actors(d.actors() + 1) : d.set_tasks(d.tasks() + 1);
    d.set_waiting_ms(std::max(d.waiting_ms(), now_ms - p.since_ms));
  }
  return out;
}

std::string LeaseManager::HeldBy(const ResourceSet& demand) {
  int actors = 0, tasks = 0;
  ResourceSet held, total;
  for (auto& [name, amount] : demand) {
    if (amount <= 0) continue;
    held[name] = 0;
    auto t = total_.find(name);
    total[name] = t == total_.end() ? 0 : t->second;
  }
  for (auto& [id, lease] : leases_) {
    bool holds = false;
    for (auto& [name, amount] : lease.held) {
      if (amount <= 0 || !held.contains(name)) continue;
      held[name] += amount;
      holds = true;
    }
    if (holds) lease.actor ? ++actors : ++tasks;
  }
  auto count = [](int n, const char* what) { return absl::StrCat(n, " ", what, n == 1 ? "" : "s"); };
  if (actors == 0 && tasks == 0) {
    return absl::StrCat("no lease holds them: placement groups or earlier requests take ",
                        ToString(total), " first");
  }
  return absl::StrCat(count(actors, "actor"), " and ", count(tasks, "task"), " hold ", ToString(held), " of ",
                      ToString(total));
}

void LeaseManager::Grant(Pending p) {
  // Resources (and GPU ids) are already taken.
  auto demand = p.demand;
  auto reply = std::move(p.reply);
  auto gpus = std::move(p.gpus);
  bool actor = p.req.for_actor();
  pool_->Pop(p.req.job(), UseOf(p.req), [this, demand, reply, gpus, actor](absl::StatusOr<WorkerInfo> w) {
    if (!w.ok()) {
      {
        absl::MutexLock lock(&mu_);
        GiveBack(demand, gpus);
      }
      Dispatch();
      // A worker process that died before it was ready (killed, crashed)
      // is worth another try; one that could not load the job's code, or a
      // job that ended, is not.
      reply(ErrorReply(absl::IsUnavailable(w.status()) ? proto::WORKER_CRASHED : proto::CODE_LOAD_FAILED,
                       std::string(w.status().message())));
      return;
    }
    proto::LeaseReply r;
    std::string lease_id = RandomId();
    {
      absl::MutexLock lock(&mu_);
      leases_[lease_id] = Lease{w->worker_id, demand, false, gpus, actor, NowMs(), false};
      lease_of_worker_[w->worker_id] = lease_id;
    }
    *r.mutable_worker() = w->address;
    r.set_lease_id(lease_id);
    r.set_worker_pid(w->pid);
    for (auto& id : gpus.ids) r.add_gpu_ids(id);
    reply(r);
  });
}

void LeaseManager::Dispatch() {
  std::vector<Pending> grant;
  {
    absl::MutexLock lock(&mu_);
    // In order, each request that fits now: one waiting for what another
    // holds (a busy bundle, a GPU) does not hold up work of other shapes.
    std::deque<Pending> keep;
    for (auto& p : queue_) {
      if (FitsNow(p.demand)) {
        Take(p);
        grant.push_back(std::move(p));
      } else {
        keep.push_back(std::move(p));
      }
    }
    queue_.swap(keep);
  }
  for (auto& p : grant) Grant(std::move(p));
}

void LeaseManager::Return(const std::string& lease_id, int64_t now_ms, bool disconnect) {
  std::string worker_id;
  {
    absl::MutexLock lock(&mu_);
    auto it = leases_.find(lease_id);
    if (it == leases_.end()) return;
    Release(it->second);
    worker_id = it->second.worker_id;
    lease_of_worker_.erase(worker_id);
    leases_.erase(it);
  }
  if (disconnect) {
    pool_->Kill(worker_id);
  } else {
    pool_->Push(worker_id, now_ms);
  }
  Dispatch();
}

std::vector<std::pair<std::string, std::string>> LeaseManager::OldLeasesToAsk(int64_t now_ms, int64_t age_ms) {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [id, lease] : leases_) {
    if (lease.actor || lease.asked || now_ms - lease.granted_ms < age_ms) continue;
    lease.asked = true;
    out.emplace_back(id, lease.worker_id);
  }
  return out;
}

void LeaseManager::OnWorkerGone(const std::string& worker_id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = lease_of_worker_.find(worker_id);
    if (it == lease_of_worker_.end()) return;
    auto lease = leases_.find(it->second);
    if (lease != leases_.end()) {
      Release(lease->second);
      leases_.erase(lease);
    }
    lease_of_worker_.erase(it);
  }
  Dispatch();
}

void LeaseManager::SetBlocked(const std::string& worker_id, bool blocked) {
  {
    absl::MutexLock lock(&mu_);
    auto it = lease_of_worker_.find(worker_id);
    if (it == lease_of_worker_.end()) return;
    auto& lease = leases_[it->second];
    if (lease.blocked == blocked) return;
    lease.blocked = blocked;
    ResourceSet cpu = CpuOf(lease.held);
    // Only the CPU is lent back; other resources (GPU, custom) stay held.
    if (blocked) {
      Add(available_, cpu);
    } else {
      Subtract(available_, cpu);
    }
  }
  if (blocked) Dispatch();
}

void LeaseManager::SetClusterView(std::vector<proto::NodeInfo> nodes) {
  std::vector<std::pair<Reply, proto::LeaseReply>> spilled;
  {
    absl::MutexLock lock(&mu_);
    cluster_ = std::move(nodes);
    // Queued work that does not fit here now goes to a node that has room
    // for it now, as many as each node's free resources take.
    std::vector<ResourceSet> free;
    for (auto& n : cluster_) free.push_back(FromProto(n.available_resources()));
    ResourceSet here = available_;
    std::deque<Pending> keep;
    for (auto& p : queue_) {
      if (Fits(p.demand, here)) {  // granted here first, in order, by Dispatch
        Subtract(here, p.demand);
        keep.push_back(std::move(p));
        continue;
      }
      size_t i = 0;
      bool may_move = !p.req.grant_or_reject() && p.req.spillback_count() < kMaxSpillbacksToMove;
      while (i < cluster_.size() && (!may_move || !cluster_[i].alive() ||
                                     cluster_[i].node_id() == node_id_ || !Fits(p.demand, free[i]))) {
        ++i;
      }
      if (i == cluster_.size()) {
        keep.push_back(std::move(p));
        continue;
      }
      Subtract(free[i], p.demand);
      proto::LeaseReply r;
      *r.mutable_spillback() = cluster_[i].address();
      spilled.emplace_back(std::move(p.reply), std::move(r));
    }
    queue_.swap(keep);
  }
  if (!spilled.empty()) LOG(INFO) << "moving " << spilled.size() << " queued lease requests to nodes that have room";
  for (auto& [reply, r] : spilled) reply(r);
}

bool LeaseManager::Reserve(const ResourceSet& r, std::vector<std::string>* gpu_ids) {
  absl::MutexLock lock(&mu_);
  if (stopped_ || !Fits(r, available_) || !gpus_.CanTake(GpuOf(r))) return false;
  Subtract(available_, r);
  *gpu_ids = gpus_.Take(GpuOf(r));
  return true;
}

void LeaseManager::Unreserve(const ResourceSet& r, const std::vector<std::string>& gpu_ids) {
  {
    absl::MutexLock lock(&mu_);
    Add(available_, r);
    gpus_.Give(gpu_ids, GpuOf(r));
  }
  Dispatch();
}

void LeaseManager::AddBundleGpus(const std::string& group_hex, int index, const std::vector<std::string>& ids,
                                 const ResourceSet& bundle) {
  if (ids.empty()) return;
  absl::MutexLock lock(&mu_);
  bundle_gpus_[group_hex].insert_or_assign(index, GpuSlots(ids, GpuOf(bundle)));
}

void LeaseManager::RemoveBundleGpus(const std::string& group_hex, int index) {
  absl::MutexLock lock(&mu_);
  auto group = bundle_gpus_.find(group_hex);
  if (group == bundle_gpus_.end()) return;
  group->second.erase(index);
  if (group->second.empty()) bundle_gpus_.erase(group);
}

size_t LeaseManager::ResourceNames() {
  absl::MutexLock lock(&mu_);
  return total_.size();
}

void LeaseManager::AddResources(const ResourceSet& r) {
  {
    absl::MutexLock lock(&mu_);
    Add(total_, r);
    Add(available_, r);
  }
  Dispatch();
}

void LeaseManager::RemoveResources(const ResourceSet& r, const std::string& why) {
  std::vector<std::string> kill;
  std::vector<Reply> refused;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = leases_.begin(); it != leases_.end();) {
      bool uses = false;
      for (auto& [name, amount] : it->second.held) uses = uses || (amount > 0 && r.contains(name));
      if (!uses) {
        ++it;
        continue;
      }
      Release(it->second);
      kill.push_back(it->second.worker_id);
      lease_of_worker_.erase(it->second.worker_id);
      leases_.erase(it++);
    }
    SubtractAndDrop(total_, r);
    SubtractAndDrop(available_, r);
    std::deque<Pending> keep;
    for (auto& p : queue_) {
      if (Fits(p.demand, total_)) {
        keep.push_back(std::move(p));
      } else {
        refused.push_back(std::move(p.reply));
      }
    }
    queue_.swap(keep);
  }
  for (auto& w : kill) {
    LOG(INFO) << "killing worker " << ShortHex(w) << ": " << why;
    pool_->Kill(w);
  }
  for (auto& reply : refused) reply(ErrorReply(proto::SCHEDULING_FAILED, why));
  Dispatch();
}

ResourceSet LeaseManager::Available() {
  absl::MutexLock lock(&mu_);
  return available_;
}

ResourceSet LeaseManager::Total() {
  absl::MutexLock lock(&mu_);
  return total_;
}

void LeaseManager::Stop() {
  std::deque<Pending> refused;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    refused.swap(queue_);
  }
  for (auto& p : refused) p.reply(ErrorReply(proto::SCHEDULING_FAILED, "this raylet is stopping"));
}

size_t LeaseManager::QueueLength() {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

}  // namespace glint::raylet
