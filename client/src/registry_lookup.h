// Worker-side lookups in the registry (internal to libglint). Returned
// pointers stay valid: entries are never removed.
#pragma once
#include <string>

#include "absl/status/status.h"

#include "glint/internal/registry.h"

namespace glint::internal {

const FunctionInvoker* FindFunction(const std::string& name);
const FactoryInvoker* FindFactory(const std::string& name);
const MethodInvoker* FindMethod(const std::string& name);
const AsyncMethodInvoker* FindAsyncMethod(const std::string& name);
const GeneratorInvoker* FindGenerator(const std::string& name);
const AsyncGeneratorInvoker* FindAsyncGenerator(const std::string& name);
// True when the factory's class has a coroutine method (an async actor).
bool FactoryMakesAsyncActor(const std::string& factory);
// The method's GLINT_CONCURRENCY_GROUP, or "" (the default group).
std::string DefaultGroupOf(const std::string& method);
// An error naming the names GLINT_REMOTE gave to two different things
// (the first registration of each stays); checked when a process starts.
absl::Status CheckRegistry();

}  // namespace glint::internal
