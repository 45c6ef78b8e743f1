#include "common/digest.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "common/logging.h"

namespace glint {

std::string Sha256Hex(absl::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  CHECK(EVP_Digest(bytes.data(), bytes.size(), out, &n, EVP_sha256(), nullptr) == 1);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(out), n));
}

bool IsSha256Hex(absl::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace glint
