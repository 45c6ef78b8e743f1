// How long an actor or a placement group lives: with its job, or until
// it is killed or removed.
#pragma once

namespace glint {

enum class Lifetime { kNonDetached, kDetached };

}  // namespace glint
