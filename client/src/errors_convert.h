// Between wire errors (proto::ErrorInfo) and the public glint::Error types.
#pragma once
#include <exception>
#include <string>

#include "proto/common.pb.h"

namespace glint::internal {

proto::ObjectValue ErrorValue(proto::ErrorType type, const std::string& message);
// Throws the typed glint error a value carries; returns if it is not an error.
void ThrowIfError(const proto::ObjectValue& v);
// The error for an exception user code threw.
proto::ErrorInfo FromException(std::exception_ptr e, const std::string& where);

}  // namespace glint::internal
