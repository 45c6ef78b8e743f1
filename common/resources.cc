#include "common/resources.h"

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

void Add(ResourceSet& to, const ResourceSet& amount) {
  for (auto& [k, v] : amount) to[k] += v;
}

std::string ToString(const ResourceSet& r) {
  std::string s = "{";
  for (auto& [k, v] : r) absl::StrAppend(&s, s.size() > 1 ? ", " : "", k, ": ", v);
  return s + "}";
}

}  // namespace glint
