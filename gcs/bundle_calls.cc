#include "gcs/bundle_calls.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/limits.h"

namespace glint::gcs {
namespace {

// Step `i` of a call of `steps`: done, refused (saying why, as the raylet
// put it), or lost with the call.
absl::Status StepStatus(const absl::Status& call, const proto::BundleStepsReply& r, size_t i, size_t steps) {
  if (!call.ok()) return absl::UnavailableError(absl::StrCat("the call to its raylet failed: ", call.message()));
  if (r.ok_size() != static_cast<int>(steps)) {
    return absl::InternalError(absl::StrCat("its raylet answered ", r.ok_size(), " steps of ", steps));
  }
  if (r.ok(i)) return absl::OkStatus();
  bool said = static_cast<int>(i) < r.why_size() && !r.why(i).empty();
  return absl::FailedPreconditionError(said ? r.why(i) : "its raylet refused it");
}

}  // namespace

void BundleCalls::Add(const std::string& target, proto::BundleStep step, Done done) {
  {
    absl::MutexLock lock(&mu_);
    Lane& lane = lanes_[target];
    if (lane.busy >= kCallsInFlight) {
      *lane.waiting.add_steps() = std::move(step);
      lane.dones.push_back(std::move(done));
      return;
    }
    ++lane.busy;
  }
  proto::BundleStepsRequest one;
  *one.add_steps() = std::move(step);
  std::vector<Done> dones;
  dones.push_back(std::move(done));
  SendNext(target, std::move(one), std::move(dones));
}

void BundleCalls::SendNext(const std::string& target, proto::BundleStepsRequest steps,
                           std::vector<Done> dones) {
  send_(target, steps,
        [this, target, dones = std::move(dones)](const absl::Status& s,
                                                 const proto::BundleStepsReply& r) {
          // The next call goes before these steps' ends run: what they ask for
          // waits for it, and the raylet is not left idle meanwhile.
          proto::BundleStepsRequest next;
          std::vector<Done> next_dones;
          {
            absl::MutexLock lock(&mu_);
            auto it = lanes_.find(target);
            Lane& lane = it->second;
            if (lane.dones.empty()) {
              if (--lane.busy == 0) lanes_.erase(it);
            } else {
              size_t n = std::min<size_t>(lane.dones.size(), kMaxBundleSteps);
              if (n == lane.dones.size()) {
                next.Swap(&lane.waiting);
                next_dones.swap(lane.dones);
              } else {
                auto* from = lane.waiting.mutable_steps();
                for (size_t i = 0; i < n; ++i) *next.add_steps() = std::move(*from->Mutable(i));
                from->DeleteSubrange(0, n);
                next_dones.assign(std::make_move_iterator(lane.dones.begin()),
                                  std::make_move_iterator(lane.dones.begin() + n));
                lane.dones.erase(lane.dones.begin(), lane.dones.begin() + n);
              }
            }
          }
          if (!next_dones.empty()) SendNext(target, std::move(next), std::move(next_dones));
          for (size_t i = 0; i < dones.size(); ++i) dones[i](StepStatus(s, r, i, dones.size()));
        });
}

size_t BundleCalls::Busy() {
  absl::MutexLock lock(&mu_);
  return lanes_.size();
}

}  // namespace glint::gcs
