// CountedRef: what ObjectRef and ActorHandle share. It names something an
// owner process keeps (an object; a non-detached actor's handles) by
// [id, owner]; copies in this process are counted (AddLocalRef /
// RemoveLocalRef), so the owner frees it once no copy is left anywhere
// (see docs/design-notes.md, "Ownership" and "Actor lifetimes"). One with no
// owner counts nothing. Serialized it travels as [id, owner]: collected by an
// EscapeCollector for the call or value that carries it, else the owner
// keeps it for good.
#pragma once
#include <string>
#include <utility>

#include "glint/internal/runtime_api.h"
#include "glint/internal/serializer.h"

namespace glint::internal {

class CountedRef {
 public:
  CountedRef() = default;
  explicit CountedRef(RefData d) : id_(std::move(d.id)), owner_(std::move(d.owner)) { Acquire(); }
  CountedRef(const CountedRef& o) : id_(o.id_), owner_(o.owner_) { Acquire(); }
  CountedRef(CountedRef&& o) noexcept : id_(std::move(o.id_)), owner_(std::move(o.owner_)) { o.Forget(); }
  CountedRef& operator=(const CountedRef& o) {
    if (this != &o) {
      Release();
      id_ = o.id_;
      owner_ = o.owner_;
      Acquire();
    }
    return *this;
  }
  CountedRef& operator=(CountedRef&& o) noexcept {
    if (this != &o) {
      Release();
      id_ = std::move(o.id_);
      owner_ = std::move(o.owner_);
      o.Forget();
    }
    return *this;
  }
  ~CountedRef() { Release(); }

  const std::string& ID() const { return id_; }
  RefData Data() const { return {id_, owner_}; }

  // msgpack: [id, owner].
  template <typename Packer>
  void msgpack_pack(Packer& pk) const {
    if (Counted()) MarkEscaped(id_, owner_);
    pk.pack_array(2);
    pk.pack(id_);
    pk.pack(owner_);
  }
  void msgpack_unpack(const msgpack::object& o) {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 2) throw msgpack::type_error();
    Release();
    id_ = o.via.array.ptr[0].as<std::string>();
    owner_ = o.via.array.ptr[1].as<std::string>();
    Acquire();
  }

 protected:
  // An id alone: names something without keeping it.
  explicit CountedRef(std::string id) : id_(std::move(id)) {}

 private:
  bool Counted() const { return !id_.empty() && !owner_.empty(); }
  void Acquire() {
    if (Counted()) AddLocalRef(id_, owner_);
  }
  void Release() {
    if (Counted()) RemoveLocalRef(id_, owner_);
    Forget();
  }
  void Forget() {
    id_.clear();
    owner_.clear();
  }
  std::string id_;
  std::string owner_;
};

}  // namespace glint::internal
