// GcsServer::Service: GcsService's methods (proto/gcs.proto), served from
// the GCS's completion queue (gcs_server.h), each answered on the thread
// that took its request off the socket. Most answer at once (ServeUnary);
// the long polls finish later, and a driver's keep-alive is held open
// until the driver goes (common/server_call.h).
#pragma once
#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "common/server_call.h"
#include "gcs/gcs_server.h"
#include "proto/gcs.grpc.pb.h"

namespace glint::gcs {

class GcsServer::Service final : public proto::GcsService::AsyncService {
 public:
  explicit Service(GcsServer* s) : s_(s) {}
  // Starts taking requests from `cq`.
  void Serve(grpc::ServerCompletionQueue* cq);

 private:
  absl::Status RegisterNode(const proto::RegisterNodeRequest& req, proto::RegisterNodeReply*);

  absl::Status Heartbeat(const proto::HeartbeatRequest& req, proto::HeartbeatReply* reply);

  absl::Status GetAllNodes(const proto::GetAllNodesRequest&, proto::GetAllNodesReply* reply);

  absl::Status RegisterJob(const proto::RegisterJobRequest& req, proto::RegisterJobReply* reply);

  // A driver's keep-alive: held open while the driver lives.
  absl::Status KeepAliveStarts(const proto::JobKeepAliveRequest& req);

  // The keep-alive dropped: the driver exited or died, or the stream was
  // reset. Only a driver that no longer answers has ended its job.
  void KeepAliveEnds(const proto::JobKeepAliveRequest& req);

  absl::Status FinishJob(const proto::FinishJobRequest& req, proto::FinishJobReply*);

  absl::Status GetJob(const proto::GetJobRequest& req, proto::GetJobReply* reply);

  absl::Status GetAllJobs(const proto::GetAllJobsRequest&, proto::GetAllJobsReply* reply);

  absl::Status CreateActor(const proto::CreateActorRequest& req, proto::CreateActorReply* reply);

  // By name or id, at once; or by id once it is newer than a version the
  // caller has seen (a long poll, answered when it changes or times out).
  void GetActor(ServerCall<proto::GetActorRequest, proto::GetActorReply>* c);

  absl::Status KillActor(const proto::KillActorRequest& req, proto::KillActorReply*);

  absl::Status ListActors(const proto::ListActorsRequest& req, proto::ListActorsReply* reply);

  absl::Status ReportWorkerFailure(const proto::ReportWorkerFailureRequest& req, proto::ReportWorkerFailureReply*);

  // Both answer before the calls to raylets they start go out.
  void CreatePlacementGroup(ServerCall<proto::CreatePlacementGroupRequest, proto::CreatePlacementGroupReply>* c);

  // By name or id, at once; or by id once it is placed (a long poll).
  void GetPlacementGroup(ServerCall<proto::GetPlacementGroupRequest, proto::GetPlacementGroupReply>* c);

  void RemovePlacementGroup(ServerCall<proto::RemovePlacementGroupRequest, proto::RemovePlacementGroupReply>* c);

  absl::Status ListPlacementGroups(const proto::ListPlacementGroupsRequest&, proto::ListPlacementGroupsReply* reply);

  GcsServer* s_;
};

}  // namespace glint::gcs
