#include "client/src/execute/gpu_ids.h"

#include <cstdlib>
#include <optional>

#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"

namespace glint::internal {
namespace {

struct Gpus {
  absl::Mutex mu;
  bool started = false;
  std::optional<std::string> original;  // CUDA_VISIBLE_DEVICES as the worker started
  std::vector<std::string> ids ABSL_GUARDED_BY(mu);
};

Gpus& State() {
  static Gpus* gpus = new Gpus();  // never destroyed: tasks may run during exit
  return *gpus;
}

}  // namespace

void UseGpus(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  Gpus& g = State();
  absl::MutexLock lock(&g.mu);
  if (!g.started) {
    g.started = true;
    if (const char* v = getenv("CUDA_VISIBLE_DEVICES")) g.original = v;
  }
  std::vector<std::string> now(ids.begin(), ids.end());
  if (now == g.ids) return;
  g.ids = std::move(now);
  if (!g.ids.empty()) {
    setenv("CUDA_VISIBLE_DEVICES", absl::StrJoin(g.ids, ",").c_str(), 1);
  } else if (g.original) {
    setenv("CUDA_VISIBLE_DEVICES", g.original->c_str(), 1);
  } else {
    unsetenv("CUDA_VISIBLE_DEVICES");
  }
}

std::vector<std::string> CurrentGpuIds() {
  Gpus& g = State();
  absl::MutexLock lock(&g.mu);
  return g.ids;
}

}  // namespace glint::internal
