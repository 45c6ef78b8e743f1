// msgpack packing of user values (internal).
#pragma once
#include "glint/internal/export.h"
#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif
#include <array>
#include <cstring>
#include <exception>
#include <msgpack.hpp>
#include <string>
#include <type_traits>

#include "glint/internal/runtime_api.h"

namespace glint {

// Values that cross processes (arguments, results, Put) are packed with
// msgpack: a class of yours lists its fields with MSGPACK_DEFINE(...). If
// you wrote msgpack adaptors for a type instead, say so here, e.g.
//   template <> inline constexpr bool kMsgpackAdaptor<Point> = true;
template <typename T>
inline constexpr bool kMsgpackAdaptor = false;

}  // namespace glint

namespace glint::internal {

struct SizeSink;

// Whether msgpack can pack a T: not a class, a class with MSGPACK_DEFINE
// (or adaptors declared with kMsgpackAdaptor), or a library template (a
// container, a tuple, std::string...) of such types. Catches the common
// mistake, a plain struct without MSGPACK_DEFINE, with one clear message
// instead of msgpack's page of template errors.
template <typename T>
concept HasMsgpackMembers = requires(const T& v, msgpack::packer<SizeSink>& pk) { v.msgpack_pack(pk); };
template <typename T>
struct PackableType : std::bool_constant<!std::is_class_v<T> || HasMsgpackMembers<T> || kMsgpackAdaptor<T>> {};
template <template <typename...> class C, typename... A>
struct PackableType<C<A...>>
    : std::bool_constant<HasMsgpackMembers<C<A...>> || kMsgpackAdaptor<C<A...>> ||
                         (PackableType<std::remove_cv_t<A>>::value && ...)> {};
template <typename T, size_t N>
struct PackableType<std::array<T, N>> : PackableType<std::remove_cv_t<T>> {};
template <>
struct PackableType<msgpack::type::nil_t> : std::true_type {};
template <>
struct PackableType<msgpack::object> : std::true_type {};
template <typename T>
inline constexpr bool kPackable = PackableType<std::remove_cvref_t<T>>::value;

#define GLINT_CHECK_PACKABLE(T)                                                                              \
  static_assert(::glint::internal::kPackable<T>,                                                              \
                "glint: this type crosses processes (an argument, a result or a Put) but msgpack cannot pack " \
                "it: add MSGPACK_DEFINE(field1, field2, ...) to the class (or, for msgpack adaptors of your "  \
                "own, set glint::kMsgpackAdaptor<T> = true)")

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
  GLINT_CHECK_PACKABLE(T);
  std::string out;
  StringSink sink{&out};
  if constexpr (kPackable<T>) msgpack::pack(sink, v);  // else the one error above, not msgpack's
  return out;
}

template <typename T>
size_t PackedSize(const T& v) {
  GLINT_CHECK_PACKABLE(T);
  SizeSink sink;
  if constexpr (kPackable<T>) msgpack::pack(sink, v);
  return sink.size;
}

// Throws glint::Error naming `what` when the bytes are not a T.
[[noreturn]] GLINT_EXPORT void ThrowUnpackError(const std::string& what, const char* why);

template <typename T>
T Unpack(const char* data, size_t size, const char* what = "value") {
  GLINT_CHECK_PACKABLE(T);
  if constexpr (!kPackable<T>) {
    std::terminate();  // never built: the one error above
  } else {
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
}

template <typename T>
T Unpack(const std::string& data, const char* what = "value") {
  return Unpack<T>(data.data(), data.size(), what);
}

// A type that is read from its packed bytes without copying them, sharing
// what keeps them alive (glint::Buffer, whose header says how).
template <typename T>
struct InPlace {
  static constexpr bool value = false;
};

template <typename T>
T Unpack(const Bytes& data, const char* what = "value") {
  if constexpr (InPlace<T>::value) {
    return InPlace<T>::Read(data, what);
  } else {
    return Unpack<T>(data.data, data.size, what);
  }
}

}  // namespace glint::internal
