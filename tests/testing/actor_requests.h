// A request to create an actor of job `job_id`, as a driver sends it to
// the GCS (a fresh actor id; the class "Counter").
#pragma once
#include <string>

#include "common/ids.h"
#include "proto/gcs.pb.h"

namespace glint::gcs {

inline proto::CreateActorRequest ActorRequest(const std::string& job_id,
                                              const std::string& name = "",
                                              proto::Lifetime lifetime = proto::NON_DETACHED,
                                              int max_restarts = 0) {
  proto::CreateActorRequest r;
  auto* t = r.mutable_creation_task();
  t->set_type(proto::ACTOR_CREATION_TASK);
  t->set_actor_id(RandomId());
  t->set_job_id(job_id);
  t->set_function_name("Counter::Create");
  r.set_name(name);
  r.set_lifetime(lifetime);
  r.set_max_restarts(max_restarts);
  r.set_class_name("Counter");
  return r;
}

}  // namespace glint::gcs
