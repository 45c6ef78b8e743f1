// SHA-256 of some bytes, as 64 lowercase hex digits (OpenSSL): the name a
// job's uploaded working directory is stored under (dashboard/package_store.h).
#pragma once
#include <string>

#include "absl/strings/string_view.h"

namespace glint {

std::string Sha256Hex(absl::string_view bytes);

// Whether `s` has that form.
bool IsSha256Hex(absl::string_view s);

}  // namespace glint
