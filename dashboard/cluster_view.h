// ClusterView: one snapshot of what the GCS holds (nodes, actors, drivers,
// placement groups, the task summary), asked part by part; a part the GCS
// could not give stays empty and is named in `errors`. The page's
// /api/cluster and the cluster's /metrics are both made from it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "common/async_call.h"
#include "proto/gcs.grpc.pb.h"
#include "proto/task_events.grpc.pb.h"

namespace glint::dashboard {

struct ClusterSnapshot {
  proto::GetAllNodesReply nodes;
  proto::ListActorsReply actors;  // every namespace, the dead too
  proto::GetAllJobsReply drivers;
  proto::ListPlacementGroupsReply groups;
  proto::SummarizeTasksReply tasks;
  std::vector<std::string> errors;  // "actors: <why>" for each part that failed
};

class ClusterView {
 public:
  explicit ClusterView(const std::string& gcs_address);
  // Blocks for up to a few seconds per part.
  ClusterSnapshot Snapshot();

 private:
  ClientQueueThread client_;
  std::unique_ptr<proto::GcsService::Stub> gcs_;
  std::unique_ptr<proto::TaskEventService::Stub> tasks_;
};

}  // namespace glint::dashboard
