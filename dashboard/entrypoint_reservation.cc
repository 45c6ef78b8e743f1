#include "dashboard/entrypoint_reservation.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/rpc.h"

namespace glint::dashboard {
namespace {
constexpr int64_t kGcsDeadlineMs = 5000;
using Stub = proto::GcsService::Stub;
}  // namespace

EntrypointReservations::EntrypointReservations(const std::string& gcs_address)
    : gcs_(MakeStub<proto::GcsService>(gcs_address)) {}

absl::StatusOr<std::string> EntrypointReservations::Reserve(const std::string& submission_id, double cpus) {
  proto::GetAllNodesReply nodes;
  if (auto s = BlockingCall(client_.queue(), gcs_, &Stub::PrepareAsyncGetAllNodes, proto::GetAllNodesRequest(),
                            kGcsDeadlineMs, &nodes);
      !s.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot ask the GCS for the head node: ", s.message()));
  }
  const proto::NodeInfo* head = nullptr;
  for (const auto& n : nodes.nodes()) {
    if (n.is_head() && n.alive()) head = &n;
  }
  if (!head) return absl::InvalidArgumentError("the cluster has no live head node to reserve the entrypoint's CPUs on");
  auto it = head->total_resources().find("CPU");
  double total = it == head->total_resources().end() ? 0 : it->second;
  if (cpus > total) {
    return absl::InvalidArgumentError(absl::StrCat("the entrypoint asks for ", cpus, " CPUs; the head node has ",
                                                   total, " in all"));
  }
  proto::CreatePlacementGroupRequest req;
  auto* g = req.mutable_group();
  g->set_group_id(RandomId());
  g->set_name(submission_id);
  g->set_ray_namespace(kNamespace);
  g->set_strategy(proto::STRICT_PACK);
  g->set_lifetime(proto::DETACHED);
  g->set_target_node_id(head->node_id());
  (*g->add_bundles()->mutable_resources())["CPU"] = cpus;
  proto::CreatePlacementGroupReply reply;
  if (auto s = BlockingCall(client_.queue(), gcs_, &Stub::PrepareAsyncCreatePlacementGroup, req, kGcsDeadlineMs,
                            &reply);
      !s.ok()) {
    if (s.code() == absl::StatusCode::kUnavailable || s.code() == absl::StatusCode::kDeadlineExceeded) {
      Release(g->group_id());  // in case it was made and only the reply was lost
      return absl::UnavailableError(absl::StrCat("cannot reserve the entrypoint's CPUs: ", s.message()));
    }
    return absl::Status(s.code(), absl::StrCat("cannot reserve the entrypoint's CPUs: ", s.message()));
  }
  return g->group_id();
}

absl::StatusOr<EntrypointReservations::State> EntrypointReservations::Check(const std::string& group_id) {
  proto::GetPlacementGroupRequest req;
  req.set_group_id(group_id);
  proto::GetPlacementGroupReply reply;
  if (auto s = BlockingCall(client_.queue(), gcs_, &Stub::PrepareAsyncGetPlacementGroup, req, kGcsDeadlineMs, &reply);
      !s.ok()) {
    return s;
  }
  State st;
  st.placed = reply.found() && reply.group().state() == proto::PG_CREATED;
  st.gone = !reply.found() || reply.group().state() == proto::PG_REMOVED;
  if (!st.placed && !st.gone) st.waiting_for = reply.group().pending_reason();
  return st;
}

bool EntrypointReservations::Release(const std::string& group_id) {
  proto::RemovePlacementGroupRequest req;
  req.set_group_id(group_id);
  proto::RemovePlacementGroupReply reply;
  if (auto s = BlockingCall(client_.queue(), gcs_, &Stub::PrepareAsyncRemovePlacementGroup, req, kGcsDeadlineMs,
                            &reply);
      !s.ok() && s.code() != absl::StatusCode::kNotFound) {
    LOG(WARNING) << "cannot remove the entrypoint reservation " << ShortHex(group_id) << " yet: " << s;
    return false;
  }
  return true;
}

void EntrypointReservations::ReleaseLeftovers() {
  proto::ListPlacementGroupsReply groups;
  if (auto s = BlockingCall(client_.queue(), gcs_, &Stub::PrepareAsyncListPlacementGroups,
                            proto::ListPlacementGroupsRequest(), kGcsDeadlineMs, &groups);
      !s.ok()) {
    LOG(WARNING) << "cannot list the placement groups to remove old entrypoint reservations: " << s;
    return;
  }
  for (const auto& g : groups.groups()) {
    if (g.ray_namespace() != kNamespace || g.state() == proto::PG_REMOVED) continue;
    LOG(INFO) << "removing the CPU reservation a previous dashboard left for job '" << g.name() << "'";
    Release(g.group_id());
  }
}

}  // namespace glint::dashboard
