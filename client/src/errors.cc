#include "client/src/errors.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "absl/strings/numbers.h"
#include "common/utf8.h"
#include "glint/errors.h"

namespace glint::internal {
namespace {

constexpr char kErrorType[] = "glint.dev/error-type";

std::string Demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
  return status == 0 && d ? d.get() : name;
}

}  // namespace

proto::ObjectValue ErrorValue(proto::ErrorType type, const std::string& message) {
  proto::ObjectValue v;
  v.mutable_error()->set_type(type);
  v.mutable_error()->set_message(message);
  return v;
}

absl::Status ErrorStatus(proto::ErrorType type, absl::string_view message, absl::StatusCode code) {
  absl::Status s(code, message);
  s.SetPayload(kErrorType, absl::Cord(std::to_string(static_cast<int>(type))));
  return s;
}

absl::Status ValueStatus(const proto::ObjectValue& v) {
  if (v.error().type() == proto::ERROR_NONE) return absl::OkStatus();
  return ErrorStatus(v.error().type(), v.error().message());
}

void ThrowIfError(const absl::Status& s) {
  if (s.ok()) return;
  if (absl::IsUnavailable(s) && !s.GetPayload(kErrorType)) throw ConnectionError(std::string(s.message()));
  proto::ObjectValue v;
  v.mutable_error()->set_type(proto::SYSTEM_ERROR);
  v.mutable_error()->set_message(std::string(s.message()));
  int type = 0;
  if (auto p = s.GetPayload(kErrorType); p && absl::SimpleAtoi(std::string(*p), &type) &&
                                         proto::ErrorType_IsValid(type) && type != proto::ERROR_NONE) {
    v.mutable_error()->set_type(static_cast<proto::ErrorType>(type));
  }
  ThrowIfError(v);
}

void ThrowIfError(const proto::ObjectValue& v) {
  const auto& e = v.error();
  const std::string& m = e.message();
  switch (e.type()) {
    case proto::ERROR_NONE: return;
    case proto::TASK_ERROR: throw TaskError(e.exception_type(), m, e.where());
    case proto::ACTOR_DIED: throw ActorDiedError(m);
    case proto::WORKER_CRASHED: throw WorkerCrashedError(m);
    case proto::FUNCTION_NOT_FOUND: throw FunctionNotFoundError(m);
    case proto::OBJECT_LOST: throw ObjectLostError(m);
    case proto::OWNER_DIED: throw OwnerDiedError(m);
    case proto::ACTOR_UNAVAILABLE: throw ActorUnavailableError(m);
    case proto::TASK_CANCELLED: throw TaskCancelledError(m);
    case proto::CODE_LOAD_FAILED: throw CodeLoadError(m);
    case proto::SCHEDULING_FAILED: throw SchedulingError(m);
    case proto::OBJECT_STORE_FULL: throw ObjectStoreFullError(m);
    default: throw Error(m);
  }
}

proto::ErrorInfo FromException(std::exception_ptr ep, const std::string& where) {
  proto::ErrorInfo e;
  e.set_type(proto::TASK_ERROR);
  e.set_where(where);
  try {
    std::rethrow_exception(ep);
  } catch (const TaskError& t) {  // a nested call failed: keep the original type
    e.set_exception_type(t.type());
    e.set_message(t.message());
    e.set_where(t.where() + ", via " + where);
  } catch (const std::exception& x) {
    e.set_exception_type(Demangle(typeid(x).name()));
    // Protobuf strings are UTF-8 (a reply with other bytes in one fails to
    // parse at the caller); what() may be any bytes.
    e.set_message(ToUtf8(x.what()));
  } catch (...) {
    e.set_exception_type("unknown");
    e.set_message("a non-standard exception was thrown");
  }
  return e;
}

}  // namespace glint::internal
