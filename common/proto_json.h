// A protobuf message as JSON (protobuf's mapping: field names as in the
// .proto files, every field printed, bytes in base64, 64-bit numbers as
// strings): what `glint ... --json` prints and the dashboard's API serves.
#pragma once
#include <google/protobuf/message.h>

#include <nlohmann/json.hpp>

namespace glint {

// null when the message cannot be printed.
nlohmann::json ProtoJson(const google::protobuf::Message& m);

}  // namespace glint
