// Worker-side lookups in the registry (internal to libglint). Returned
// pointers stay valid: entries are never removed.
#pragma once
#include <string>

#include "glint/internal/registry.h"

namespace glint::internal {

const FunctionInvoker* FindFunction(const std::string& name);
const FactoryInvoker* FindFactory(const std::string& name);
const MethodInvoker* FindMethod(const std::string& name);

}  // namespace glint::internal
