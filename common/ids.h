// Identifiers: random opaque byte strings, printed as hex.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace glint {

inline constexpr size_t kIdSize = 16;

// A new random id of kIdSize bytes (thread-safe).
std::string RandomId();
// Lower-case hex of an id, for logs and the CLI.
std::string IdHex(std::string_view id);
// The first 8 hex characters: enough to tell ids apart in logs.
std::string ShortHex(std::string_view id);
// Parses hex back into bytes; empty on malformed input.
std::string IdFromHex(std::string_view hex);
// The id of return object `index` of a task.
std::string ReturnObjectId(std::string_view task_id, int index);
// The id of item `index` (from 1) that a generator task streams: longer
// than a return object's id, so the two never meet.
std::string GeneratorItemId(std::string_view task_id, int64_t index);

}  // namespace glint
