// Calling remote code: Task(f).Remote(...), Actor(factory).Remote(...),
// ActorHandle<T>::Task(&T::Method).Remote(...), GetActor, Kill.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "glint/internal/registry.h"
#include "glint/internal/runtime_api.h"
#include "glint/generator.h"
#include "glint/object_ref.h"
#include "glint/lifetime.h"
#include "glint/object_ref_generator.h"
#include "glint/placement_group.h"

namespace glint {

namespace internal {

template <typename F>
struct FnTraits;
template <typename R, typename... A>
struct FnTraits<R (*)(A...)> {
  using Ret = R;
  using Params = std::tuple<A...>;
};
template <typename R, typename C, typename... A>
struct FnTraits<R (C::*)(A...)> {
  using Ret = R;
  using Params = std::tuple<A...>;
  using Class = C;
};
template <typename R, typename C, typename... A>
struct FnTraits<R (C::*)(A...) const> : FnTraits<R (C::*)(A...)> {};

template <typename Param, typename Arg>
WireArg PackArg(Arg&& a) {
  using P = std::decay_t<Param>;
  if constexpr (IsObjectRef<std::decay_t<Arg>>::value && !IsObjectRef<P>::value) {
    static_assert(std::is_convertible_v<typename std::decay_t<Arg>::ValueType, P>,
                  "an ObjectRef argument must hold the parameter's type");
    return WireArg{true, a.ID(), a.Data().owner, {}};
  } else {
    EscapeCollector nested;
    WireArg w{false, Pack(P(std::forward<Arg>(a))), {}, {}};
    w.nested = std::move(nested.refs);
    return w;
  }
}

template <typename... P, typename... A>
std::vector<WireArg> PackArgs(std::tuple<P...>*, A&&... a) {
  static_assert(sizeof...(P) == sizeof...(A), "wrong number of arguments for the remote call");
  return {PackArg<P>(std::forward<A>(a))...};
}

// What a call returns to its caller: an ObjectRef to the result, or for a
// generator an ObjectRefGenerator of its items.
template <typename R>
struct CallResult {
  using type = ObjectRef<R>;
};
template <typename T>
struct CallResult<Generator<T>> {
  using type = ObjectRefGenerator<T>;
};
template <typename T>
struct CallResult<AsyncGenerator<T>> {
  using type = ObjectRefGenerator<T>;
};

}  // namespace internal

template <typename F>
class TaskCaller {
 public:
  using Ret = typename internal::FnTraits<F>::Ret;
  explicit TaskCaller(F f) : name_(internal::NameOfFunction(reinterpret_cast<const void*>(f))) {}
  TaskCaller& SetName(std::string name) { opts_.name = std::move(name); return *this; }
  TaskCaller& SetResources(std::map<std::string, double> r) { opts_.resources = std::move(r); return *this; }
  // Re-runs the task on another worker when its worker dies, up to `n`
  // times (default 3; -1: for ever). Only the last attempt's result counts.
  TaskCaller& SetMaxRetries(int n) { opts_.max_retries = n; return *this; }
  // A generator pauses at co_yield while `n` of its items are not consumed
  // yet (0: it runs ahead freely).
  TaskCaller& SetGeneratorBackpressure(int n) { opts_.generator_backpressure = n; return *this; }
  // Runs the task in bundle `bundle_index` of `pg` (-1: any bundle), on its
  // node and from its reserved resources. With `capture_child_tasks`, the
  // tasks and actors it creates (that name no group) go to any bundle of
  // `pg` too, and theirs in turn.
  TaskCaller& SetPlacementGroup(const PlacementGroup& pg, int bundle_index = -1, bool capture_child_tasks = false) {
    opts_.placement = {pg.ID(), bundle_index, pg.Bundles(), capture_child_tasks};
    return *this;
  }

  template <typename... A>
  typename internal::CallResult<Ret>::type Remote(A&&... args) {
    auto wire = internal::PackArgs((typename internal::FnTraits<F>::Params*)nullptr,
                                   std::forward<A>(args)...);
    opts_.streaming = IsGenerator<Ret>::value;
    return typename internal::CallResult<Ret>::type(internal::SubmitTask(name_, std::move(wire), opts_));
  }

 private:
  std::string name_;
  internal::TaskOptions opts_;
};

// A remote function call: Task(Plus).Remote(1, 2).
template <typename F>
TaskCaller<F> Task(F f) {
  return TaskCaller<F>(f);
}

namespace internal {
template <typename T>
struct Unwrap {
  using type = T;
};
template <typename T>
struct Unwrap<Async<T>> {
  using type = T;
};
}  // namespace internal

template <typename M>
class ActorTaskCaller {
 public:
  // A coroutine method's ObjectRef holds what it co_returns.
  using Ret = typename internal::Unwrap<typename internal::FnTraits<M>::Ret>::type;
  using Result = typename internal::CallResult<Ret>::type;
  ActorTaskCaller(internal::RefData actor, M m)
      : actor_(std::move(actor)), name_(internal::NameOfMethod(internal::MemberKey(m))) {}
  // Runs this call in the named concurrency group instead of the method's own.
  ActorTaskCaller& SetConcurrencyGroup(std::string group) { opts_.concurrency_group = std::move(group); return *this; }
  // A generator method pauses at co_yield while `n` of its items are not
  // consumed yet (0: it runs ahead freely).
  ActorTaskCaller& SetGeneratorBackpressure(int n) { opts_.generator_backpressure = n; return *this; }

  template <typename... A>
  Result Remote(A&&... args) {
    auto wire = internal::PackArgs((typename internal::FnTraits<M>::Params*)nullptr,
                                   std::forward<A>(args)...);
    opts_.streaming = IsGenerator<Ret>::value;
    return Result(internal::SubmitActorTask(actor_, name_, std::move(wire), opts_));
  }

 private:
  internal::RefData actor_;
  std::string name_;
  internal::ActorCallOptions opts_;
};

// A handle to an actor of class T. Copyable; can be passed to tasks and
// actors, and packed into values.
//
// Lifetime: the handles of an actor that is not detached are counted in
// every process, like ObjectRefs; when the last one is gone (and the calls
// made through them are done), the actor ends, its process exits and its
// name is free again ("out of scope" in `glint list actors`). A detached
// actor lives until it is killed, whatever happens to its handles.
template <typename T>
class ActorHandle : public internal::CountedRef {
 public:
  ActorHandle() = default;
  // A handle from a bare actor id: it does not keep the actor alive.
  explicit ActorHandle(std::string actor_id) : CountedRef(std::move(actor_id)) {}
  explicit ActorHandle(internal::RefData d) : CountedRef(std::move(d)) {}

  template <typename M>
  ActorTaskCaller<M> Task(M method) const {
    static_assert(std::is_base_of_v<typename internal::FnTraits<M>::Class, T>,
                  "the method must belong to the actor's class");
    return ActorTaskCaller<M>(Data(), method);
  }
  bool operator==(const ActorHandle& o) const { return ID() == o.ID(); }
};

template <typename F>
class ActorCreator {
 public:
  using Class = std::remove_pointer_t<typename internal::FnTraits<F>::Ret>;
  explicit ActorCreator(F f) : factory_(internal::NameOfFunction(reinterpret_cast<const void*>(f))) {
    auto pos = factory_.rfind("::");
    opts_.class_name = pos == std::string::npos ? factory_ : factory_.substr(0, pos);
  }
  ActorCreator& SetName(std::string name) { opts_.name = std::move(name); return *this; }
  ActorCreator& SetNamespace(std::string ns) { opts_.namespace_ = std::move(ns); return *this; }
  ActorCreator& SetLifetime(Lifetime l) { opts_.detached = l == Lifetime::kDetached; return *this; }
  ActorCreator& SetGetIfExists(bool b) { opts_.get_if_exists = b; return *this; }
  // Restarts the actor when its process dies, up to `n` times (default 0;
  // -1: for ever).
  ActorCreator& SetMaxRestarts(int n) { opts_.max_restarts = n; return *this; }
  // Re-sends a call that was running when the actor died to the restarted
  // actor, up to `n` times (default 0; -1: for ever).
  ActorCreator& SetMaxTaskRetries(int n) { opts_.max_task_retries = n; return *this; }
  ActorCreator& SetMaxConcurrency(int n) { opts_.max_concurrency = n; return *this; }
  // Named executors with their own limits, e.g. {{"io", 2}, {"compute", 4}}.
  // A method runs in the group given by GLINT_CONCURRENCY_GROUP (or per
  // call), else in the default group (limited by SetMaxConcurrency).
  ActorCreator& SetConcurrencyGroups(std::map<std::string, int> groups) {
    opts_.concurrency_groups = std::move(groups);
    return *this;
  }
  ActorCreator& SetResources(std::map<std::string, double> r) { opts_.resources = std::move(r); return *this; }
  // Places the actor in bundle `bundle_index` of `pg` (-1: any bundle), on its
  // node and from its reserved resources, for its whole life. With
  // `capture_child_tasks`, the tasks and actors it creates go to `pg` too.
  ActorCreator& SetPlacementGroup(const PlacementGroup& pg, int bundle_index = -1, bool capture_child_tasks = false) {
    opts_.placement = {pg.ID(), bundle_index, pg.Bundles(), capture_child_tasks};
    return *this;
  }

  template <typename... A>
  ActorHandle<Class> Remote(A&&... args) {
    auto wire = internal::PackArgs((typename internal::FnTraits<F>::Params*)nullptr,
                                   std::forward<A>(args)...);
    return ActorHandle<Class>(internal::CreateActor(factory_, std::move(wire), opts_));
  }

 private:
  std::string factory_;
  internal::ActorOptions opts_;
};

// Creates an actor from a registered factory: Actor(Counter::Create).Remote(0).
template <typename F>
ActorCreator<F> Actor(F factory) {
  static_assert(std::is_pointer_v<typename internal::FnTraits<F>::Ret>,
                "an actor factory returns a pointer to the new actor");
  return ActorCreator<F>(factory);
}

// The actor named `name` in namespace `namespace_` (default: the job's);
// empty when there is none.
template <typename T>
std::optional<ActorHandle<T>> GetActor(const std::string& name, const std::string& namespace_ = "") {
  auto ref = internal::GetNamedActor(name, namespace_);
  if (!ref) return std::nullopt;
  return ActorHandle<T>(std::move(*ref));
}

// Kills the actor; its pending and later calls fail with ActorDiedError.
template <typename T>
void Kill(const ActorHandle<T>& actor, bool no_restart = true) {
  internal::KillActor(actor.ID(), no_restart);
}

}  // namespace glint
