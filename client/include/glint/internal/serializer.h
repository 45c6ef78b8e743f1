// msgpack packing of user values (internal).
#pragma once
#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif
#include <msgpack.hpp>
#include <string>

namespace glint::internal {

template <typename T>
std::string Pack(const T& v) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, v);
  return std::string(buf.data(), buf.size());
}

// Throws glint::Error naming `what` when the bytes are not a T.
[[noreturn]] void ThrowUnpackError(const std::string& what, const char* why);

template <typename T>
T Unpack(const std::string& data, const char* what = "value") {
  try {
    msgpack::object_handle oh = msgpack::unpack(data.data(), data.size());
    return oh.get().as<T>();
  } catch (const std::exception& e) {
    ThrowUnpackError(what, e.what());
  }
}

}  // namespace glint::internal
