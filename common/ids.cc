#include "common/ids.h"

#include <random>

namespace glint {

std::string RandomId() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  std::string id(kIdSize, '\0');
  for (size_t i = 0; i < kIdSize; i += 8) {
    uint64_t v = gen();
    for (size_t j = 0; j < 8 && i + j < kIdSize; ++j) id[i + j] = static_cast<char>(v >> (8 * j));
  }
  return id;
}

std::string IdHex(std::string_view id) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(id.size() * 2);
  for (unsigned char c : id) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string ShortHex(std::string_view id) { return IdHex(id.substr(0, 4)); }

std::string IdFromHex(std::string_view hex) {
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2) return {};
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = val(hex[i]), lo = val(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string ReturnObjectId(std::string_view task_id, int index) {
  std::string id(task_id);
  id.push_back(static_cast<char>(index & 0xff));
  return id;
}

std::string GeneratorItemId(std::string_view task_id, int64_t index) {
  std::string id(task_id);
  id.push_back('g');
  for (int shift = 56; shift >= 0; shift -= 8) id.push_back(static_cast<char>((index >> shift) & 0xff));
  return id;
}

}  // namespace glint
