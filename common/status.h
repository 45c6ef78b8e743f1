// Conversion between absl::Status (internals) and grpc::Status (the RPC edge).
#pragma once
#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace glint {

grpc::Status ToGrpc(const absl::Status& s);
absl::Status FromGrpc(const grpc::Status& s);

}  // namespace glint
