#include "common/resources.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace glint {

ResourceSet FromProto(const google::protobuf::Map<std::string, double>& m) {
  return ResourceSet(m.begin(), m.end());
}

void ToProto(const ResourceSet& r, google::protobuf::Map<std::string, double>* out) {
  out->clear();
  for (auto& [k, v] : r) (*out)[k] = v;
}

bool Fits(const ResourceSet& demand, const ResourceSet& have) {
  for (auto& [name, amount] : demand) {
    if (amount <= 0) continue;
    auto it = have.find(name);
    if (it == have.end() || it->second + 1e-9 < amount) return false;
  }
  return true;
}

void Subtract(ResourceSet& from, const ResourceSet& amount) {
  for (auto& [k, v] : amount) from[k] -= v;
}

namespace {
// One body for ResourceSet and protobuf maps.
template <class Map>
void SubtractAndDropIn(Map& from, const ResourceSet& amount) {
  for (auto& [name, n] : amount) {
    auto e = from.find(name);
    if (e == from.end()) continue;  // a name it lacks stays absent
    e->second -= n;
    if (e->second <= 1e-9) from.erase(e);
  }
}
template <class Map>
void AddIn(Map& to, const ResourceSet& amount) {
  for (auto& [k, v] : amount) to[k] += v;
}
}  // namespace

void SubtractAndDrop(ResourceSet& from, const ResourceSet& amount) { SubtractAndDropIn(from, amount); }
void SubtractAndDrop(google::protobuf::Map<std::string, double>& from, const ResourceSet& amount) {
  SubtractAndDropIn(from, amount);
}
void Add(ResourceSet& to, const ResourceSet& amount) { AddIn(to, amount); }
void Add(google::protobuf::Map<std::string, double>& to, const ResourceSet& amount) { AddIn(to, amount); }

std::string ToString(const ResourceSet& r) {
  std::string s = "{";
  for (auto& [k, v] : r) absl::StrAppend(&s, s.size() > 1 ? ", " : "", k, ": ", v);
  return s + "}";
}

absl::StatusOr<ResourceSet> ParseResourceJson(const std::string& json) {
  ResourceSet out;
  if (json.find_first_not_of(" \t\n") == std::string::npos) return out;
  auto bad = [&json](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad resources '", json, "': ", why, " (expected a JSON object like {\"name\": 2})"));
  };
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad("not JSON");
  if (!doc.is_object()) return bad("not an object");
  for (auto& [name, amount] : doc.items()) {
    if (name.empty()) return bad("a resource needs a name");
    if (!amount.is_number()) return bad(absl::StrCat("the amount of '", name, "' is not a number"));
    double v = amount.get<double>();
    if (!std::isfinite(v) || v < 0) return bad(absl::StrCat("the amount of '", name, "' is negative"));
    out[name] = v;
  }
  return out;
}

std::string ToJson(const ResourceSet& r) {
  nlohmann::json doc = nlohmann::json::object();
  for (auto& [k, v] : r) doc[k] = v;
  return doc.dump();
}

}  // namespace glint
