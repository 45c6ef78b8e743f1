#include "client/src/objects/actor_scopes.h"

#include "common/rpc.h"

namespace glint::internal {

RefData ActorScopes::Adopt(const std::string& actor_id) {
  proto::ObjectValue v;
  v.set_handle_of_actor(actor_id);
  store_->Put(actor_id, std::move(v), /*owned=*/true);
  return {actor_id, self_};
}

RefData ActorScopes::HandleOf(const proto::ActorInfo& actor) {
  if (actor.lifetime() == proto::DETACHED || !actor.creation_task().has_caller()) return {actor.actor_id(), ""};
  return {actor.actor_id(), AddrString(actor.creation_task().caller())};
}

void ActorScopes::Freed(const proto::ObjectValue& v) {
  if (!v.handle_of_actor().empty()) kill_(v.handle_of_actor(), kOutOfScope);
}

}  // namespace glint::internal
