// UTF-8 checks: what protobuf string fields may carry.
#include "common/utf8.h"

#include <gtest/gtest.h>

namespace glint {
namespace {

TEST(Utf8Test, ValidTextPassesAndBrokenSequencesDoNot) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("plain"));
  EXPECT_TRUE(IsUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_FALSE(IsUtf8("\xff"));
  EXPECT_FALSE(IsUtf8("\xc3"));               // cut short
  EXPECT_FALSE(IsUtf8("\xc0\xaf"));           // overlong
  EXPECT_FALSE(IsUtf8("\xed\xa0\x80"));       // a surrogate
  EXPECT_FALSE(IsUtf8("\xf4\x90\x80\x80"));   // past U+10FFFF
}

TEST(Utf8Test, ToUtf8ReplacesBadBytesAndCutsBetweenCharacters) {
  EXPECT_EQ(ToUtf8("a\xff" "b"), "a?b");
  EXPECT_EQ(ToUtf8("\xc3\xa9\xc3\xa9", 3), "\xc3\xa9");  // not half of the second é
  EXPECT_EQ(ToUtf8("abc", 2), "ab");
  EXPECT_TRUE(IsUtf8(ToUtf8("\xe2\x82\xac\xe2\x82", 100)));
}

}  // namespace
}  // namespace glint
