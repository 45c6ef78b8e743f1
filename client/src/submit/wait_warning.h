// WaitWarning: the one line a driver prints when its tasks have waited for
// resources for a while with none of them running, or an actor it made has
// waited that long to be placed: what they wait for, and
// what holds it on the nodes where they wait (the pending demand the
// raylets report to the GCS), e.g.
//   (glint) 3 tasks have waited 5 s for {CPU: 1}: on node 1a2b3c4d 2 actors
//   and 0 tasks hold {CPU: 2} of {CPU: 2} ('glint status' shows what waits)
// Asks the GCS without blocking the caller.
#pragma once
#include <cstdio>
#include <string>

#include "client/src/gcs_client.h"
#include "common/resources.h"

namespace glint::internal {

class WaitWarning {
 public:
  // Borrows `gcs`; prints to `out` (stderr).
  WaitWarning(GcsClient* gcs, FILE* out) : gcs_(gcs), out_(out) {}
  // `who` waits: "3 tasks have", "actor 'name' has".
  void Warn(const std::string& who, const google::protobuf::Map<std::string, double>& shape, int64_t waited_ms);
  static std::string Tasks(int n);
  // "actor 'name' has" for one, "12 actors have" for more (`one` among them).
  static std::string Actors(const proto::ActorInfo& one, int actors);
  // The line, from the nodes the GCS reported (exposed for tests).
  static std::string Line(const std::string& who, const ResourceSet& shape, int64_t waited_ms,
                          const proto::GetAllNodesReply& nodes);

 private:
  GcsClient* const gcs_;
  FILE* const out_;
};

}  // namespace glint::internal
