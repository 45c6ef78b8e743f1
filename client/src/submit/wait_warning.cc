#include "client/src/submit/wait_warning.h"

#include "absl/strings/str_cat.h"
#include "common/ids.h"

namespace glint::internal {

std::string WaitWarning::Tasks(int n) { return absl::StrCat(n, n == 1 ? " task has" : " tasks have"); }

std::string WaitWarning::Actors(const proto::ActorInfo& actor, int actors) {
  if (actors > 1) return absl::StrCat(actors, " actors have");
  return actor.name().empty() ? absl::StrCat("actor ", actor.class_name(), " ", ShortHex(actor.actor_id()), " has")
                              : absl::StrCat("actor '", actor.name(), "' has");
}

std::string WaitWarning::Line(const std::string& who, const ResourceSet& shape, int64_t waited_ms,
                              const proto::GetAllNodesReply& nodes) {
  std::string line = absl::StrCat("(glint) ", who, " waited ", waited_ms / 1000, " s for ", ToString(shape));
  std::string where;
  for (auto& n : nodes.nodes()) {
    if (!n.alive()) continue;
    for (auto& d : n.pending()) {
      if (FromProto(d.shape()) != shape) continue;
      absl::StrAppend(&where, where.empty() ? ": " : "; ", "on node ", ShortHex(n.node_id()), " ", d.held_by());
    }
  }
  if (where.empty()) where = " (no node reports it waiting now: it may be on its way to one)";
  return absl::StrCat(line, where, " ('glint status' shows what waits)\n");
}

void WaitWarning::Warn(const std::string& who, const google::protobuf::Map<std::string, double>& shape,
                       int64_t waited_ms) {
  ResourceSet wanted = FromProto(shape);
  gcs_->GetAllNodesAsync([this, who, wanted, waited_ms](const absl::Status& s, proto::GetAllNodesReply& nodes) {
    std::string line = Line(who, wanted, waited_ms, s.ok() ? nodes : proto::GetAllNodesReply());
    fputs(line.c_str(), out_);
    fflush(out_);
  });
}

}  // namespace glint::internal
