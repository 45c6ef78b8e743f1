// What every command that talks to a cluster's GCS shares (cli.h).
#include "client/cli/cli.h"
#include "common/proto_json.h"
#include "common/rpc.h"

namespace glint::cli {

nlohmann::json Json(const google::protobuf::Message& m) { return ProtoJson(m); }

bool FindJob(Gcs& gcs, const std::string& hex_prefix, std::string* job_id) {
  proto::GetAllJobsReply jobs;
  if (!gcs.Call(&proto::GcsService::Stub::PrepareAsyncGetAllJobs, proto::GetAllJobsRequest(), &jobs)) return false;
  int found = 0;
  for (auto& j : jobs.jobs()) {
    if (MatchesId(j.job_id(), hex_prefix)) {
      *job_id = j.job_id();
      ++found;
    }
  }
  if (found != 1) {
    std::cerr << (found == 0 ? "no job's id starts with '" : "several jobs' ids start with '") << hex_prefix
              << "' ('glint list jobs' shows them)\n";
  }
  return found == 1;
}

std::optional<Gcs> Connect(const ClusterFlags& f) {
  std::string address = GcsAddress(f);
  if (address.empty()) {
    std::cerr << "no cluster address: start one with 'glint start --head' or pass --address\n";
    return std::nullopt;
  }
  if (auto s = SetClusterAuth(Auth(f, address)); !s.ok()) {
    std::cerr << s.message() << "\n";
    return std::nullopt;
  }
  return Gcs{MakeStub<proto::GcsService>(address), address};
}

}  // namespace glint::cli
