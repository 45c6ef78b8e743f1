// What every command that talks to a cluster's GCS shares (cli.h).
#include <google/protobuf/util/json_util.h>

#include "client/cli/cli.h"
#include "common/rpc.h"

namespace glint::cli {

nlohmann::json Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  if (!google::protobuf::util::MessageToJsonString(m, &out, o).ok()) return nullptr;
  return nlohmann::json::parse(out);
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
