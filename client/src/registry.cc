// The registry behind GLINT_REMOTE.
#include "glint/internal/registry.h"

#include <map>
#include <mutex>
#include <set>

#include "glint/errors.h"
#include "client/src/registry_lookup.h"

namespace glint::internal {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, FunctionInvoker> functions;
  std::map<std::string, FactoryInvoker> factories;
  std::map<std::string, MethodInvoker> methods;
  std::map<std::string, AsyncMethodInvoker> async_methods;
  std::map<std::string, std::string> factory_class;  // factory name -> class key
  std::set<std::string> async_classes;
  std::map<std::string, std::string> method_group;
  std::map<const void*, std::string> function_names;
  std::map<std::string, std::string> method_names;
};

Registry& Reg() {
  static auto* r = new Registry();
  return *r;
}

}  // namespace

void RegisterFunction(const std::string& name, const void* key, FunctionInvoker f) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  r.functions[name] = std::move(f);
  r.function_names[key] = name;
}

void RegisterFactory(const std::string& name, const void* key, FactoryInvoker f, const char* class_key) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  r.factories[name] = std::move(f);
  r.function_names[key] = name;
  r.factory_class[name] = class_key;
}

void RegisterMethod(const std::string& name, const std::string& key, MethodInvoker f, const char*) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  r.methods[name] = std::move(f);
  r.method_names[key] = name;
}

void RegisterAsyncMethod(const std::string& name, const std::string& key, AsyncMethodInvoker f,
                         const char* class_key) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  r.async_methods[name] = std::move(f);
  r.method_names[key] = name;
  r.async_classes.insert(class_key);
}

const std::string& NameOfFunction(const void* key) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  auto it = r.function_names.find(key);
  if (it == r.function_names.end()) {
    throw FunctionNotFoundError("this function is not registered: add it to GLINT_REMOTE(...)");
  }
  return it->second;
}

const std::string& NameOfMethod(const std::string& key) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  auto it = r.method_names.find(key);
  if (it == r.method_names.end()) {
    throw FunctionNotFoundError("this actor method is not registered: add it to GLINT_REMOTE(...)");
  }
  return it->second;
}

std::vector<std::string> SplitNames(const char* names) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    std::string clean;
    for (char c : cur) {
      if (c != ' ' && c != '\t' && c != '\n' && c != '&') clean.push_back(c);
    }
    out.push_back(clean);
    cur.clear();
  };
  int depth = 0;
  for (const char* p = names; *p; ++p) {
    if (*p == '(' || *p == '<') ++depth;
    if (*p == ')' || *p == '>') --depth;
    if (*p == ',' && depth == 0) {
      flush();
    } else {
      cur.push_back(*p);
    }
  }
  flush();
  return out;
}

void ThrowArity(size_t want, size_t got) {
  throw Error("the call has " + std::to_string(got) + " arguments; the function takes " +
              std::to_string(want));
}

void ThrowUnpackError(const std::string& what, const char* why) {
  throw Error("cannot decode " + what + ": " + why + " (do both sides agree on its type?)");
}

const FunctionInvoker* FindFunction(const std::string& name) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  auto it = r.functions.find(name);
  return it == r.functions.end() ? nullptr : &it->second;
}

const FactoryInvoker* FindFactory(const std::string& name) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  auto it = r.factories.find(name);
  return it == r.factories.end() ? nullptr : &it->second;
}

const AsyncMethodInvoker* FindAsyncMethod(const std::string& name) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  auto it = r.async_methods.find(name);
  return it == r.async_methods.end() ? nullptr : &it->second;
}

void RegisterMethodGroup(const std::string& group, const std::vector<std::string>& methods) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  for (auto& m : methods) r.method_group[m] = group;
}

std::string DefaultGroupOf(const std::string& method) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  auto it = r.method_group.find(method);
  return it == r.method_group.end() ? std::string() : it->second;
}

bool FactoryMakesAsyncActor(const std::string& factory) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  auto it = r.factory_class.find(factory);
  return it != r.factory_class.end() && r.async_classes.count(it->second) > 0;
}

const MethodInvoker* FindMethod(const std::string& name) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  auto it = r.methods.find(name);
  return it == r.methods.end() ? nullptr : &it->second;
}

}  // namespace glint::internal
