// glint::Buffer's packing: a msgpack binary of each header size, read in
// place from bytes something keeps alive, copied otherwise, and bytes that
// are not one binary turned away with a clear error.
#include "glint/buffer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "glint/errors.h"

namespace glint::internal {
namespace {

std::vector<uint8_t> Pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + 1);
  return v;
}

TEST(BufferTest, EachBinaryHeaderIsReadInPlaceFromKeptBytes) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{255}, size_t{256}, size_t{65535}, size_t{65536}, size_t{300000}}) {
    Bytes packed(Pack(Buffer(Pattern(n))));
    size_t offset = 0, length = 0;
    ASSERT_TRUE(BinaryPayload(packed.data, packed.size, &offset, &length)) << n;
    EXPECT_EQ(length, n);
    Buffer b = Unpack<Buffer>(packed);
    EXPECT_EQ(b.ToVector(), Pattern(n)) << n;
    if (n > 0) {
      EXPECT_EQ(reinterpret_cast<const char*>(b.data()), packed.data + offset) << "a view, not a copy: " << n;
    }
    // A vector reads the same bytes, and a Buffer reads a packed vector.
    EXPECT_EQ(Unpack<std::vector<uint8_t>>(packed), Pattern(n));
    EXPECT_EQ(Unpack<Buffer>(Bytes(Pack(Pattern(n)))).ToVector(), Pattern(n));
  }
}

TEST(BufferTest, BytesNothingKeepsAreCopied) {
  std::string packed = Pack(Buffer(Pattern(1000)));
  Bytes unowned(nullptr, packed.data(), packed.size());
  Buffer b = Unpack<Buffer>(unowned);
  EXPECT_EQ(b.ToVector(), Pattern(1000));
  EXPECT_TRUE(b.data() < reinterpret_cast<const uint8_t*>(packed.data()) ||
              b.data() >= reinterpret_cast<const uint8_t*>(packed.data() + packed.size()))
      << "the view would outlive the call's bytes";
}

TEST(BufferTest, BytesThatAreNotOneBinaryAreTurnedAway) {
  std::string packed = Pack(Buffer(Pattern(1000)));
  size_t offset = 0, length = 0;
  std::string longer = packed + "x";
  EXPECT_FALSE(BinaryPayload(longer.data(), longer.size(), &offset, &length)) << "more after the binary";
  for (std::string bad : {packed.substr(0, packed.size() - 1),  // shorter than its header says
                          Pack(42), std::string()}) {
    EXPECT_FALSE(BinaryPayload(bad.data(), bad.size(), &offset, &length));
    EXPECT_THROW(Unpack<Buffer>(Bytes(bad)), glint::Error) << bad.size();
  }
  // A packed string converts too (copied).
  EXPECT_EQ(Unpack<Buffer>(Bytes(Pack(std::string("abc")))).view(), "abc");
}

}  // namespace
}  // namespace glint::internal
