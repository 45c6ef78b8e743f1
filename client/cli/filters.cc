// --filter on `glint list`: items kept by their fields as --json prints them.
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "client/cli/cli.h"
#include "common/ids.h"

namespace glint::cli {

bool MatchesId(const std::string& id, const std::string& hex_prefix) {
  return hex_prefix.size() >= 4 && absl::StartsWith(IdHex(id), absl::AsciiStrToLower(hex_prefix));
}

bool ParseFilters(const std::vector<std::string>& args, std::vector<Filter>* out, std::string* error) {
  for (auto& a : args) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0 || (eq == 1 && a[0] == '!')) {
      *error = "--filter takes KEY=VALUE or KEY!=VALUE, not '" + a + "'";
      return false;
    }
    Filter f;
    f.equal = a[eq - 1] != '!';
    f.key = a.substr(0, f.equal ? eq : eq - 1);
    f.value = a.substr(eq + 1);
    out->push_back(std::move(f));
  }
  return true;
}

namespace {

// The field's value as text: strings as they are, an id (protobuf prints
// bytes as base64) as hex, anything else as JSON.
bool Matches(const std::string& key, const nlohmann::json& v, const std::string& wanted) {
  if (!v.is_string()) return v.dump() == wanted;
  const std::string& s = v.get_ref<const std::string&>();
  if (s == wanted) return true;
  std::string bytes;
  return absl::EndsWith(key, "id") && absl::Base64Unescape(s, &bytes) && MatchesId(bytes, wanted);
}

}  // namespace

bool Passes(const nlohmann::json& item, const std::vector<Filter>& filters, std::string* error) {
  for (auto& f : filters) {
    auto it = item.find(f.key);
    if (it == item.end()) {
      std::string fields;
      for (auto& [k, v] : item.items()) fields += (fields.empty() ? "" : ", ") + k;
      *error = "--filter: no field '" + f.key + "' (the fields: " + fields + ")";
      return false;
    }
    if (Matches(f.key, *it, f.value) != f.equal) return false;
  }
  return true;
}

}  // namespace glint::cli
