// Buffer: read-only bytes that cross processes without being copied on the
// way out. A Buffer travels as a msgpack binary, like std::vector<uint8_t>
// (either reads what the other packed). Reading one that is stored on this
// node (a Get, or the argument of a task or actor method) gives a view into
// the node's shared-memory object store, not a copy: the object stays
// pinned there, and its bytes valid, while any copy of the Buffer lives,
// even after every ObjectRef to it is gone (Ray's zero-copy reads).
//
//   auto ref = glint::Put(glint::Buffer(std::move(bytes)));  // one copy in
//   glint::Buffer b = ref.Get();                             // no copy out
//   Checksum(b.data(), b.size());                           // or b.span()
//   glint::Buffer v = glint::GetBuffer(vector_ref);          // an ObjectRef<std::vector<uint8_t>> too
//
// Copies of a Buffer share the bytes. A Buffer read from a small value (kept
// in the reading process, not the store) shares that value's bytes instead.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "glint/internal/serializer.h"
#include "glint/object_ref.h"

namespace glint {

class Buffer {
 public:
  Buffer() = default;
  // Takes the bytes over (no copy).
  explicit Buffer(std::vector<uint8_t> bytes) {
    auto owned = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
    data_ = owned->data();
    size_ = owned->size();
    keep_ = std::move(owned);
  }
  explicit Buffer(std::string bytes) {
    auto owned = std::make_shared<std::string>(std::move(bytes));
    data_ = reinterpret_cast<const uint8_t*>(owned->data());
    size_ = owned->size();
    keep_ = std::move(owned);
  }
  // A view of `size` bytes at `data`, valid while `keep` is held (by this
  // Buffer and its copies).
  Buffer(std::shared_ptr<const void> keep, const void* data, size_t size)
      : keep_(std::move(keep)), data_(static_cast<const uint8_t*>(data)), size_(size) {}
  // A copy of `size` bytes at `data`.
  static Buffer CopyOf(const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    return Buffer(std::vector<uint8_t>(p, p + size));
  }

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const uint8_t> span() const { return {data_, size_}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }
  const uint8_t* begin() const { return data_; }
  const uint8_t* end() const { return data_ + size_; }
  uint8_t operator[](size_t i) const { return data_[i]; }
  std::vector<uint8_t> ToVector() const { return {begin(), end()}; }
  bool operator==(const Buffer& o) const { return size_ == o.size_ && (size_ == 0 || !std::memcmp(data_, o.data_, size_)); }

 private:
  std::shared_ptr<const void> keep_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

template <>
inline constexpr bool kMsgpackAdaptor<Buffer> = true;

namespace internal {

// A packed binary's payload: where it starts in `data` and how long it is;
// false when `data` is not one msgpack binary and nothing else.
inline bool BinaryPayload(const char* data, size_t size, size_t* offset, size_t* length) {
  if (size < 2) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  size_t header = 0, n = 0;
  switch (p[0]) {
    case 0xc4: header = 2, n = p[1]; break;  // bin 8
    case 0xc5:                                // bin 16
      if (size < 3) return false;
      header = 3, n = (size_t{p[1]} << 8) | p[2];
      break;
    case 0xc6:  // bin 32
      if (size < 5) return false;
      header = 5, n = (size_t{p[1]} << 24) | (size_t{p[2]} << 16) | (size_t{p[3]} << 8) | p[4];
      break;
    default: return false;
  }
  if (header + n != size) return false;
  *offset = header;
  *length = n;
  return true;
}

// A Buffer is read in place from bytes that are kept alive (the store's
// pinned mapping, or a value this process holds); other bytes are copied.
template <>
struct InPlace<Buffer> {
  static constexpr bool value = true;
  static Buffer Read(const Bytes& bytes, const char* what) {
    size_t offset = 0, length = 0;
    if (!bytes.keep || !BinaryPayload(bytes.data, bytes.size, &offset, &length)) {
      return Unpack<Buffer>(bytes.data, bytes.size, what);
    }
    return Buffer(bytes.keep, bytes.data + offset, length);
  }
};

}  // namespace internal

// The value of `ref`, a Buffer or a std::vector<uint8_t>, as a Buffer read
// in place (see above); throws as Get() does.
template <typename T>
  requires std::is_same_v<T, Buffer> || std::is_same_v<T, std::vector<uint8_t>>
Buffer GetBuffer(const ObjectRef<T>& ref) {
  return internal::InPlace<Buffer>::Read(internal::GetObject(ref.Data(), -1), "a result");
}
template <typename T>
  requires std::is_same_v<T, Buffer> || std::is_same_v<T, std::vector<uint8_t>>
Buffer GetBuffer(const ObjectRef<T>& ref, std::chrono::milliseconds timeout) {
  return internal::InPlace<Buffer>::Read(internal::GetObject(ref.Data(), timeout.count()), "a result");
}

}  // namespace glint

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <>
struct pack<glint::Buffer> {
  template <typename Stream>
  packer<Stream>& operator()(packer<Stream>& o, const glint::Buffer& b) const {
    if (b.size() > UINT32_MAX) throw std::length_error("a Buffer crosses processes with at most 4 GiB - 1 bytes");
    o.pack_bin(static_cast<uint32_t>(b.size()));
    o.pack_bin_body(reinterpret_cast<const char*>(b.data()), static_cast<uint32_t>(b.size()));
    return o;
  }
};

template <>
struct convert<glint::Buffer> {
  const msgpack::object& operator()(const msgpack::object& o, glint::Buffer& b) const {
    if (o.type == msgpack::type::BIN) {
      b = glint::Buffer::CopyOf(o.via.bin.ptr, o.via.bin.size);
    } else if (o.type == msgpack::type::STR) {
      b = glint::Buffer::CopyOf(o.via.str.ptr, o.via.str.size);
    } else {
      throw msgpack::type_error();
    }
    return o;
  }
};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
