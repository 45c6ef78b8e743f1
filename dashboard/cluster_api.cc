#include "dashboard/cluster_api.h"

#include <google/protobuf/util/json_util.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/async_call.h"
#include "common/rpc.h"
#include "dashboard/jobs_api.h"
#include "proto/gcs.grpc.pb.h"
#include "proto/task_events.grpc.pb.h"

namespace glint::dashboard {
namespace {

constexpr int64_t kGcsDeadlineMs = 3000;
constexpr int kMaxActors = 2000;  // the page shows the first ones; `glint list actors` has them all

nlohmann::json ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  if (!google::protobuf::util::MessageToJsonString(m, &out, o).ok()) return nullptr;
  return nlohmann::json::parse(out, nullptr, false);
}

// The GCS's answers, asked one after another on the request's thread.
class ClusterView {
 public:
  explicit ClusterView(const std::string& gcs)
      : gcs_(MakeStub<proto::GcsService>(gcs)), tasks_(MakeStub<proto::TaskEventService>(gcs)) {}

  nlohmann::json Snapshot(JobSupervisor* jobs) {
    nlohmann::json out = {{"errors", nlohmann::json::array()}};
    auto ask = [&](const char* part, auto& stub, auto method, const auto& req, auto* reply, auto&& fill) {
      auto s = BlockingCall(client_.queue(), stub, method, req, kGcsDeadlineMs, reply);
      if (!s.ok()) {
        out["errors"].push_back(absl::StrCat(part, ": ", s.message()));
        out[part] = nlohmann::json::array();
        return;
      }
      fill(*reply);
    };
    proto::GetAllNodesReply nodes;
    ask("nodes", gcs_, &proto::GcsService::Stub::PrepareAsyncGetAllNodes, proto::GetAllNodesRequest(), &nodes,
        [&](const proto::GetAllNodesReply& r) { out["nodes"] = ToJson(r)["nodes"]; });
    proto::ListActorsRequest actors_req;
    actors_req.set_all(true);
    proto::ListActorsReply actors;
    ask("actors", gcs_, &proto::GcsService::Stub::PrepareAsyncListActors, actors_req, &actors,
        [&](proto::ListActorsReply& r) {
          out["actors_total"] = r.actors_size();
          if (r.actors_size() > kMaxActors) r.mutable_actors()->DeleteSubrange(kMaxActors, r.actors_size() - kMaxActors);
          for (auto& a : *r.mutable_actors()) a.clear_creation_task();  // its arguments are not the page's
          out["actors"] = ToJson(r)["actors"];
        });
    proto::GetAllJobsReply drivers;
    ask("drivers", gcs_, &proto::GcsService::Stub::PrepareAsyncGetAllJobs, proto::GetAllJobsRequest(), &drivers,
        [&](const proto::GetAllJobsReply& r) { out["drivers"] = ToJson(r)["jobs"]; });
    proto::ListPlacementGroupsReply groups;
    ask("placement_groups", gcs_, &proto::GcsService::Stub::PrepareAsyncListPlacementGroups,
        proto::ListPlacementGroupsRequest(), &groups,
        [&](const proto::ListPlacementGroupsReply& r) { out["placement_groups"] = ToJson(r)["groups"]; });
    proto::SummarizeTasksReply summary;
    ask("tasks", tasks_, &proto::TaskEventService::Stub::PrepareAsyncSummarizeTasks, proto::SummarizeTasksRequest(),
        &summary, [&](const proto::SummarizeTasksReply& r) { out["tasks"] = ToJson(r); });
    for (const char* list : {"nodes", "actors", "drivers", "placement_groups"}) {
      if (!out.contains(list) || out[list].is_null()) out[list] = nlohmann::json::array();
    }
    out["jobs"] = nlohmann::json::array();
    for (const auto& job : jobs->List()) out["jobs"].push_back(JobJson(job));
    return out;
  }

 private:
  ClientQueueThread client_;
  std::unique_ptr<proto::GcsService::Stub> gcs_;
  std::unique_ptr<proto::TaskEventService::Stub> tasks_;
};

}  // namespace

void AddClusterRoutes(HttpServer* server, const std::string& gcs_address, JobSupervisor* jobs) {
  auto view = std::make_shared<ClusterView>(gcs_address);
  server->Route("GET", "/api/cluster", [view, jobs](const HttpRequest&) {
    return HttpResponse{200, "application/json",
                        view->Snapshot(jobs).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  });
}

}  // namespace glint::dashboard
