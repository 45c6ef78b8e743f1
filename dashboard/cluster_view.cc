#include "dashboard/cluster_view.h"

#include "absl/strings/str_cat.h"
#include "common/rpc.h"

namespace glint::dashboard {
namespace {
constexpr int64_t kGcsDeadlineMs = 3000;
}

ClusterView::ClusterView(const std::string& gcs_address)
    : gcs_(MakeStub<proto::GcsService>(gcs_address)), tasks_(MakeStub<proto::TaskEventService>(gcs_address)) {}

ClusterSnapshot ClusterView::Snapshot() {
  ClusterSnapshot out;
  auto ask = [&](const char* part, auto& stub, auto method, const auto& req, auto* reply) {
    auto s = BlockingCall(client_.queue(), stub, method, req, kGcsDeadlineMs, reply);
    if (!s.ok()) {
      reply->Clear();
      out.errors.push_back(absl::StrCat(part, ": ", s.message()));
    }
  };
  ask("nodes", gcs_, &proto::GcsService::Stub::PrepareAsyncGetAllNodes, proto::GetAllNodesRequest(), &out.nodes);
  proto::ListActorsRequest actors;
  actors.set_all(true);
  ask("actors", gcs_, &proto::GcsService::Stub::PrepareAsyncListActors, actors, &out.actors);
  ask("drivers", gcs_, &proto::GcsService::Stub::PrepareAsyncGetAllJobs, proto::GetAllJobsRequest(), &out.drivers);
  ask("placement_groups", gcs_, &proto::GcsService::Stub::PrepareAsyncListPlacementGroups,
      proto::ListPlacementGroupsRequest(), &out.groups);
  ask("tasks", tasks_, &proto::TaskEventService::Stub::PrepareAsyncSummarizeTasks, proto::SummarizeTasksRequest(),
      &out.tasks);
  return out;
}

}  // namespace glint::dashboard
