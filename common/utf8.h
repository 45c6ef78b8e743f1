// UTF-8 checks for text that reaches protobuf `string` fields (which must
// be UTF-8, or JSON printing and other languages' parsers fail).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace glint {

bool IsUtf8(std::string_view s);
// `s` with each byte that is not part of a valid UTF-8 sequence replaced by
// '?', cut to at most `max_bytes` without splitting a character.
std::string ToUtf8(std::string_view s, size_t max_bytes = std::string::npos);

}  // namespace glint
