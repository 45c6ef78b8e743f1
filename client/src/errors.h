// Glint's errors inside libglint, and where they turn into the public
// glint::Error types.
//
// Internals report failures as absl::Status (a status may carry the glint
// error type a caller should see, as a payload) or, for an object whose
// value is an error, as an ObjectValue with ErrorInfo (that is data: it
// travels to every reader of the object). Exceptions are thrown only by the
// API layer (api.cc), with ThrowIfError.
#pragma once
#include <exception>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "proto/common.pb.h"

namespace glint::internal {

proto::ObjectValue ErrorValue(proto::ErrorType type, const std::string& message);
// A status that makes the API throw the error of `type` (with `code`).
absl::Status ErrorStatus(proto::ErrorType type, absl::string_view message,
                         absl::StatusCode code = absl::StatusCode::kFailedPrecondition);
// The error a value carries as a status (OK for a value that is no error).
absl::Status ValueStatus(const proto::ObjectValue& v);
// The API layer: throws the typed glint error a value or a status carries;
// returns if there is none.
void ThrowIfError(const proto::ObjectValue& v);
void ThrowIfError(const absl::Status& s);
// The error for an exception user code threw.
proto::ErrorInfo FromException(std::exception_ptr e, const std::string& where);

}  // namespace glint::internal
