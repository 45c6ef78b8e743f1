#include "client/src/detached_root.h"

#include <atomic>

#include "absl/synchronization/mutex.h"

namespace glint {
namespace {

struct Root {
  std::atomic<bool> any{false};  // lets the call path skip the lock (drivers never have one)
  absl::Mutex mu;
  std::string actor_id ABSL_GUARDED_BY(mu);
};

Root& RootNow() {
  static Root* r = new Root();  // never destroyed: calls may run during exit
  return *r;
}

}  // namespace

void UseRootOf(const proto::TaskSpec& spec) {
  Root& r = RootNow();
  const std::string& root = spec.root_detached_actor();
  if (root.empty() && !r.any.load(std::memory_order_acquire)) return;
  absl::MutexLock lock(&r.mu);
  r.any.store(!root.empty(), std::memory_order_release);
  r.actor_id = root;
}

std::string CurrentRoot() {
  Root& r = RootNow();
  if (!r.any.load(std::memory_order_acquire)) return {};
  absl::MutexLock lock(&r.mu);
  return r.actor_id;
}

void MarkRoot(proto::TaskSpec* spec, bool detached_actor) {
  if (detached_actor) {
    spec->set_root_detached_actor(spec->actor_id());
    return;
  }
  std::string root = CurrentRoot();
  if (!root.empty()) spec->set_root_detached_actor(std::move(root));
}

}  // namespace glint
