// msgpack packing of user values (internal).
#pragma once
#include "glint/internal/export.h"
#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif
#include <cstring>
#include <msgpack.hpp>
#include <string>

#include "glint/internal/runtime_api.h"

namespace glint::internal {

// msgpack output streams: into a string, counting only, into a fixed buffer.
struct StringSink {
  std::string* out;
  void write(const char* d, size_t n) { out->append(d, n); }
};
struct SizeSink {
  size_t size = 0;
  void write(const char*, size_t n) { size += n; }
};
struct BufferSink {
  char* p;
  char* end;
  void write(const char* d, size_t n) {
    if (n > static_cast<size_t>(end - p)) throw std::length_error("a value packed bigger than measured");
    std::memcpy(p, d, n);
    p += n;
  }
};

template <typename T>
std::string Pack(const T& v) {
  std::string out;
  StringSink sink{&out};
  msgpack::pack(sink, v);
  return out;
}

template <typename T>
size_t PackedSize(const T& v) {
  SizeSink sink;
  msgpack::pack(sink, v);
  return sink.size;
}

// Throws glint::Error naming `what` when the bytes are not a T.
[[noreturn]] GLINT_EXPORT void ThrowUnpackError(const std::string& what, const char* why);

template <typename T>
T Unpack(const char* data, size_t size, const char* what = "value") {
  try {
    // Strings and binaries are read in place (the bytes outlive the handle),
    // not copied into msgpack's zone first.
    msgpack::object_handle oh =
        msgpack::unpack(data, size, +[](msgpack::type::object_type, size_t, void*) { return true; });
    return oh.get().as<T>();
  } catch (const std::exception& e) {
    ThrowUnpackError(what, e.what());
  }
}

template <typename T>
T Unpack(const std::string& data, const char* what = "value") {
  return Unpack<T>(data.data(), data.size(), what);
}

template <typename T>
T Unpack(const Bytes& data, const char* what = "value") {
  return Unpack<T>(data.data, data.size, what);
}

}  // namespace glint::internal
