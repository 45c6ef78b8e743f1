// BundleCalls: the GCS's placement-group bundle steps (Prepare, Commit,
// Return; raylet/bundles.h) on their way to the raylets. Up to
// kCallsInFlight calls go to a raylet at once, each step in a call of its
// own; the steps asked for while that many are in flight wait and go
// together, in the order they were asked, in the next call (BundleSteps, at
// most kMaxBundleSteps each). Groups made or removed from several threads or
// drivers at once thus cost the GCS and the raylet one request and reply per
// call rather than per step, while a driver that makes one group at a time
// never waits for a call before its own.
//
// Each step's `done` gets whether it succeeded (a failed call fails all of
// its steps); it runs on the thread that finished the call, without a lock
// held, so it may ask for more steps. Thread-safe.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "proto/raylet.pb.h"

namespace glint::gcs {

class BundleCalls {
 public:
  using Done = std::function<void(const absl::Status&)>;
  using Reply = std::function<void(const absl::Status&, const proto::BundleStepsReply&)>;
  // Makes one BundleSteps call to `target` ("host:port") and has `reply`
  // run once it ends (possibly before Send returns).
  using Send =
      std::function<void(const std::string& target, const proto::BundleStepsRequest&, Reply reply)>;

  // Calls in flight to one raylet before later steps wait and go together:
  // two, so that a lone driver's Return and its next group's Prepare do not
  // wait for each other (one cost that driver about 10%, tests/bench/RESULTS.md).
  static constexpr int kCallsInFlight = 2;

  explicit BundleCalls(Send send) : send_(std::move(send)) {}
  void Add(const std::string& target, proto::BundleStep step, Done done);

  // Raylets with a call in flight now (for tests).
  size_t Busy();

 private:
  struct Lane {
    int busy = 0;  // calls in flight
    proto::BundleStepsRequest waiting;
    std::vector<Done> dones;
  };
  // Sends `steps` to `target` as one call, counted busy in its lane.
  void SendNext(const std::string& target, proto::BundleStepsRequest steps,
                std::vector<Done> dones);

  const Send send_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Lane> lanes_
      ABSL_GUARDED_BY(mu_);  // only raylets with a call in flight
};

}  // namespace glint::gcs
