#include "client/src/submit/dependency_resolver.h"

#include <cstring>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "common/ids.h"
#include "common/rpc.h"

namespace glint::internal {

absl::Status DependencyResolver::Pack(std::vector<WireArg>& args, proto::TaskSpec& spec,
                                      std::vector<RefData>& held) {
  for (auto& a : args) {
    held.insert(held.end(), a.nested.begin(), a.nested.end());
    auto* ta = spec.add_args();
    if (a.is_ref) {
      held.push_back({a.data, a.owner});
      auto* r = ta->mutable_ref();
      r->set_object_id(std::move(a.data));
      auto owner = ParseAddress(a.owner);
      if (owner.ok()) *r->mutable_owner() = *owner;
    } else if (spec.type() != proto::ACTOR_CREATION_TASK && a.data.size() >= inline_threshold_) {
      // A large value goes to the store once; the callee reads it there.
      auto r = put_stored_(
          a.data.size(), [&a](char* dst) { std::memcpy(dst, a.data.data(), a.data.size()); }, ta->mutable_location());
      if (!r.ok()) return r.status();
      ta->mutable_ref()->set_object_id(r->id);
      *ta->mutable_ref()->mutable_owner() = self_;
      held.push_back(std::move(*r));  // freed once the call is done
    } else {
      ta->set_value(std::move(a.data));
    }
  }
  return absl::OkStatus();
}

void DependencyResolver::SetArgValue(proto::TaskArg* a, const proto::ObjectValue& v) {
  if (v.has_stored()) {
    *a->mutable_location() = v.stored();
  } else {
    a->set_value(v.data());
  }
}

bool DependencyResolver::IsOwnedRef(const proto::TaskArg& a) const {
  return a.has_ref() && !a.has_location() && AddrString(a.ref().owner()) == self_addr_;
}

void DependencyResolver::Resolve(proto::TaskSpec spec, std::function<void(proto::TaskSpec)> submit) {
  std::vector<int> pending;
  for (int i = 0; i < spec.args_size(); ++i) {
    if (IsOwnedRef(spec.args(i))) pending.push_back(i);
  }
  if (pending.empty()) {
    submit(std::move(spec));
    return;
  }
  // Inline each owned argument once it is ready; submit after the last one.
  struct State {
    absl::Mutex mu;
    proto::TaskSpec spec;
    size_t left;
    std::optional<proto::ObjectValue> failed;  // an argument's error: the call's result
    std::function<void(proto::TaskSpec)> submit;
  };
  auto st = std::make_shared<State>();
  st->spec = std::move(spec);
  st->left = pending.size();
  st->submit = std::move(submit);
  std::vector<std::string> ids;
  for (int i : pending) ids.push_back(st->spec.args(i).ref().object_id());
  for (size_t k = 0; k < pending.size(); ++k) {
    int i = pending[k];
    store_->OnReady(ids[k], [this, st, i](const proto::ObjectValue& v) {
      {
        absl::MutexLock lock(&st->mu);
        if (v.error().type() != proto::ERROR_NONE) {
          if (!st->failed) st->failed = v;
        } else {
          SetArgValue(st->spec.mutable_args(i), v);
        }
        if (--st->left != 0) return;
      }
      if (st->failed) {
        store_->Put(ReturnObjectId(st->spec.task_id(), 0), *st->failed);
      } else {
        st->submit(std::move(st->spec));
      }
    });
  }
}

void DependencyResolver::InlineReady(proto::TaskSpec& spec, bool pin_unready) {
  for (auto& a : *spec.mutable_args()) {
    if (!IsOwnedRef(a)) continue;
    const std::string id = a.ref().object_id();
    auto v = store_->TryGet(id);
    bool ready = v && v->error().type() == proto::ERROR_NONE;
    if (ready) SetArgValue(&a, *v);
    // An actor's creation arguments must outlive every restart.
    if (pin_unready && (!ready || v->has_stored())) refs_->MarkEscaped(id, self_addr_);
  }
}

}  // namespace glint::internal
