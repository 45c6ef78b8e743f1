// What the nodes hold now (their workers, the objects in their stores),
// asked of each alive node's raylet (NodeStateService) and put together.
#include "client/cli/cli.h"
#include "common/ids.h"
#include "common/rpc.h"
#include "proto/raylet.grpc.pb.h"

namespace glint::cli {
namespace {

using StateStub = proto::NodeStateService::Stub;

// Calls `method` on every alive node's raylet and hands each reply to `take`.
template <typename Req, typename Reply, typename Method, typename Take>
bool EachNode(Gcs& gcs, const Req& req, Method method, Take take) {
  proto::GetAllNodesReply nodes;
  if (!gcs.Call(&proto::GcsService::Stub::PrepareAsyncGetAllNodes, proto::GetAllNodesRequest(), &nodes)) return false;
  bool ok = true;
  for (auto& n : nodes.nodes()) {
    if (!n.alive()) continue;
    Reply reply;
    auto s = BlockingCall(gcs.client->queue(), MakeStub<proto::NodeStateService>(AddrString(n.address())), method,
                          req, 5000, &reply);
    if (!s.ok()) {
      std::cerr << "node " << ShortHex(n.node_id()) << " (" << AddrString(n.address()) << "): " << s.message() << "\n";
      ok = false;
      continue;
    }
    take(reply);
  }
  return ok;
}

}  // namespace

bool CollectWorkers(Gcs& gcs, int limit_per_node, proto::ListWorkersReply* out) {
  proto::ListWorkersRequest req;
  req.set_limit(limit_per_node);
  return EachNode<proto::ListWorkersRequest, proto::ListWorkersReply>(
      gcs, req, &StateStub::PrepareAsyncListWorkers, [out](proto::ListWorkersReply& r) {
        for (auto& w : *r.mutable_workers()) *out->add_workers() = std::move(w);
        out->set_truncated(out->truncated() || r.truncated());
      });
}

bool CollectObjects(Gcs& gcs, int limit_per_node, proto::ListObjectsReply* out) {
  proto::ListObjectsRequest req;
  req.set_limit(limit_per_node);
  return EachNode<proto::ListObjectsRequest, proto::ListObjectsReply>(
      gcs, req, &StateStub::PrepareAsyncListObjects, [out](proto::ListObjectsReply& r) {
        for (auto& o : *r.mutable_objects()) *out->add_objects() = std::move(o);
        out->set_truncated(out->truncated() || r.truncated());
      });
}

}  // namespace glint::cli
