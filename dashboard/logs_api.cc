#include "dashboard/logs_api.h"

#include <memory>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/async_call.h"
#include "common/ids.h"
#include "common/rpc.h"
#include "common/session.h"
#include "common/utf8.h"
#include "proto/gcs.grpc.pb.h"
#include "proto/logs.grpc.pb.h"

namespace glint::dashboard {
namespace {

constexpr int64_t kDeadlineMs = 5000;
constexpr int kDefaultTail = 200;
constexpr int kMaxTail = 10000;
constexpr int kMaxBytes = 1 << 20;

class ActorLogs {
 public:
  explicit ActorLogs(const std::string& gcs) : gcs_(MakeStub<proto::GcsService>(gcs)) {}

  HttpResponse Get(const std::string& actor_hex, int tail) {
    proto::ListActorsRequest req;
    req.set_all(true);
    proto::ListActorsReply actors;
    if (auto s = BlockingCall(client_.queue(), gcs_, &proto::GcsService::Stub::PrepareAsyncListActors, req,
                              kDeadlineMs, &actors);
        !s.ok()) {
      return HttpError(503, absl::StrCat("cannot ask the GCS: ", s.message()));
    }
    const proto::ActorInfo* actor = nullptr;
    for (const auto& a : actors.actors()) {
      if (IdHex(a.actor_id()) == actor_hex) actor = &a;
    }
    if (!actor) return HttpError(404, absl::StrCat("no actor with the id ", actor_hex));
    if (actor->address().worker_id().empty() || actor->pid() == 0) {
      return HttpError(409, absl::StrCat("the actor never ran in a worker (it is ",
                                         proto::ActorState_Name(actor->state()), ")"));
    }
    proto::GetAllNodesReply nodes;
    if (auto s = BlockingCall(client_.queue(), gcs_, &proto::GcsService::Stub::PrepareAsyncGetAllNodes,
                              proto::GetAllNodesRequest(), kDeadlineMs, &nodes);
        !s.ok()) {
      return HttpError(503, absl::StrCat("cannot ask the GCS: ", s.message()));
    }
    const proto::NodeInfo* node = nullptr;
    for (const auto& n : nodes.nodes()) {
      if (n.node_id() == actor->address().node_id()) node = &n;
    }
    if (!node || !node->alive()) return HttpError(409, "the node the actor ran on is gone, and its logs with it");
    proto::ReadLogRequest read;
    read.set_name(WorkerLogName(actor->address().worker_id(), actor->pid()));
    read.set_offset(-1);
    read.set_tail_lines(tail);
    read.set_max_bytes(kMaxBytes);
    proto::ReadLogReply log;
    auto raylet = MakeStub<proto::LogService>(AddrString(node->address()));
    if (auto s = BlockingCall(client_.queue(), raylet, &proto::LogService::Stub::PrepareAsyncReadLog, read, kDeadlineMs,
                              &log);
        !s.ok()) {
      return HttpError(503, absl::StrCat("cannot read ", read.name(), " on node ", ShortHex(node->node_id()), ": ",
                                         s.message()));
    }
    nlohmann::json out = {{"node", IdHex(node->node_id())},
                          {"file", read.name()},
                          {"log", ToUtf8(log.data())},
                          {"size", log.size()}};
    return {200, "application/json", out.dump()};
  }

 private:
  ClientQueueThread client_;
  std::unique_ptr<proto::GcsService::Stub> gcs_;
};

}  // namespace

void AddLogRoutes(HttpServer* server, const std::string& gcs_address) {
  auto logs = std::make_shared<ActorLogs>(gcs_address);
  server->Route("GET", "/api/actors/{}/log", [logs](const HttpRequest& r) {
    int tail = kDefaultTail;
    if (auto it = r.query.find("tail"); it != r.query.end()) {
      if (!absl::SimpleAtoi(it->second, &tail) || tail < 1 || tail > kMaxTail) {
        return HttpError(400, absl::StrCat("'tail' must be a number from 1 to ", kMaxTail));
      }
    }
    return logs->Get(r.params[0], tail);
  });
}

}  // namespace glint::dashboard
