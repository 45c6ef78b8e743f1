// Errors the public API throws. All derive from glint::Error.
#pragma once
#include "glint/internal/export.h"
#include <stdexcept>
#include <string>

namespace glint {

class GLINT_EXPORT Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// User code threw remotely. type() is the exception's C++ type, message() its
// what(), where() the function, node and process it ran in.
class GLINT_EXPORT TaskError : public Error {
 public:
  TaskError(std::string type, std::string message, std::string where)
      : Error(type + ": " + message + " (in " + where + ")"),
        type_(std::move(type)),
        message_(std::move(message)),
        where_(std::move(where)) {}
  const std::string& type() const { return type_; }
  const std::string& message() const { return message_; }
  const std::string& where() const { return where_; }

 private:
  std::string type_, message_, where_;
};

#define GLINT_DEFINE_ERROR(Name) \
  class GLINT_EXPORT Name : public Error { \
   public:                       \
    using Error::Error;          \
  }
GLINT_DEFINE_ERROR(ActorDiedError);
GLINT_DEFINE_ERROR(ActorUnavailableError);
GLINT_DEFINE_ERROR(GetTimeoutError);
GLINT_DEFINE_ERROR(TaskCancelledError);
GLINT_DEFINE_ERROR(ObjectLostError);
GLINT_DEFINE_ERROR(OwnerDiedError);
GLINT_DEFINE_ERROR(WorkerCrashedError);
GLINT_DEFINE_ERROR(FunctionNotFoundError);
GLINT_DEFINE_ERROR(CodeLoadError);       // a node could not load the job's code
GLINT_DEFINE_ERROR(SchedulingError);     // no node can run the requested resources
GLINT_DEFINE_ERROR(ConnectionError);     // no GCS or raylet at the address
GLINT_DEFINE_ERROR(AsyncGetError);
GLINT_DEFINE_ERROR(ObjectStoreFullError); // no room in a node's object store, even after spilling
GLINT_DEFINE_ERROR(QueueEmpty);
GLINT_DEFINE_ERROR(QueueFull);
#undef GLINT_DEFINE_ERROR

}  // namespace glint
