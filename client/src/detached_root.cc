#include "client/src/detached_root.h"

#include "client/src/handed_on.h"

namespace glint {
namespace {

HandedOn<std::string>& Root() {
  static auto* r = new HandedOn<std::string>();  // never destroyed: calls may run during exit
  return *r;
}

}  // namespace

void UseRootOf(const proto::TaskSpec& spec) {
  const std::string& root = spec.root_detached_actor();
  Root().Set(root, !root.empty());
}

std::string CurrentRoot() { return Root().Get(); }

void MarkRoot(proto::TaskSpec* spec, bool detached_actor) {
  if (detached_actor) {
    spec->set_root_detached_actor(spec->actor_id());
    return;
  }
  std::string root = CurrentRoot();
  if (!root.empty()) spec->set_root_detached_actor(std::move(root));
}

}  // namespace glint
