// Resource sets ({"CPU": 2, "GPU": 1, "custom": 4}) and their arithmetic.
#pragma once
#include <google/protobuf/map.h>

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace glint {

using ResourceSet = std::map<std::string, double>;

ResourceSet FromProto(const google::protobuf::Map<std::string, double>& m);
void ToProto(const ResourceSet& r, google::protobuf::Map<std::string, double>* out);
// True when every positive amount in `demand` is covered by `have`.
bool Fits(const ResourceSet& demand, const ResourceSet& have);
void Subtract(ResourceSet& from, const ResourceSet& amount);
// Subtracts, and drops the names of `amount` that reach zero (resources a
// node stops having, e.g. a placement group's bundle given back).
void SubtractAndDrop(ResourceSet& from, const ResourceSet& amount);
void Add(ResourceSet& to, const ResourceSet& amount);
// The same on a message's map in place (a node's record may carry hundreds
// of names: converting it each time costs more than the change).
void SubtractAndDrop(google::protobuf::Map<std::string, double>& from, const ResourceSet& amount);
void Add(google::protobuf::Map<std::string, double>& to, const ResourceSet& amount);
std::string ToString(const ResourceSet& r);
// Parses a JSON object of amounts, '{"name": 2, ...}' (empty text: none).
absl::StatusOr<ResourceSet> ParseResourceJson(const std::string& json);
std::string ToJson(const ResourceSet& r);

}  // namespace glint
