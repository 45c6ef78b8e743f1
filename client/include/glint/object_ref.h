// ObjectRef<T>: a reference to a value that a task, an actor call or Put
// produces. Copyable; can be passed to other calls (a top-level ObjectRef<T>
// argument to a parameter of type T is resolved to its value first).
#pragma once
#include <chrono>
#include <string>
#include <type_traits>
#include <vector>

#include "glint/internal/runtime_api.h"
#include "glint/internal/serializer.h"

namespace glint {

template <typename T>
class ObjectRef {
 public:
  using ValueType = T;
  ObjectRef() = default;
  explicit ObjectRef(internal::RefData d) : id_(std::move(d.id)), owner_(std::move(d.owner)) {}

  // Blocks until the value is there; throws the call's error (TaskError,
  // ActorDiedError, ...).
  T Get() const { return Decode(internal::GetObject(Data(), -1)); }
  // As Get(), but throws GetTimeoutError after `timeout`.
  T Get(std::chrono::milliseconds timeout) const {
    return Decode(internal::GetObject(Data(), timeout.count()));
  }
  const std::string& ID() const { return id_; }
  internal::RefData Data() const { return {id_, owner_}; }
  bool operator==(const ObjectRef& o) const { return id_ == o.id_; }

  MSGPACK_DEFINE(id_, owner_);

 private:
  static T Decode(const std::string& bytes) {
    if constexpr (std::is_void_v<T>) {
      (void)bytes;
    } else {
      return internal::Unpack<T>(bytes, "a result");
    }
  }
  std::string id_;
  std::string owner_;
};

template <typename T>
struct IsObjectRef : std::false_type {};
template <typename T>
struct IsObjectRef<ObjectRef<T>> : std::true_type {};

template <typename T>
ObjectRef<T> Put(const T& value) {
  return ObjectRef<T>(internal::PutObject(internal::Pack(value)));
}

template <typename T>
T Get(const ObjectRef<T>& ref) {
  return ref.Get();
}

template <typename T>
T Get(const ObjectRef<T>& ref, std::chrono::milliseconds timeout) {
  return ref.Get(timeout);
}

template <typename T>
std::vector<T> Get(const std::vector<ObjectRef<T>>& refs) {
  std::vector<T> out;
  out.reserve(refs.size());
  for (auto& r : refs) out.push_back(r.Get());
  return out;
}

template <typename T>
struct WaitResult {
  std::vector<ObjectRef<T>> ready;
  std::vector<ObjectRef<T>> unready;
};

// Waits until `num_returns` of `refs` are ready or `timeout` passes; keeps
// the order of `refs` within each list.
template <typename T>
WaitResult<T> Wait(const std::vector<ObjectRef<T>>& refs, int num_returns,
                   std::chrono::milliseconds timeout) {
  std::vector<internal::RefData> data;
  data.reserve(refs.size());
  for (auto& r : refs) data.push_back(r.Data());
  auto ready = internal::WaitObjects(data, num_returns, timeout.count());
  WaitResult<T> out;
  for (size_t i = 0; i < refs.size(); ++i) (ready[i] ? out.ready : out.unready).push_back(refs[i]);
  return out;
}

}  // namespace glint
