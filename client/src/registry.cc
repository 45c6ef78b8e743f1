// The registry behind GLINT_REMOTE.
#include "glint/internal/registry.h"

#include <map>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
  std::map<std::string, GeneratorInvoker> generators;  // functions and methods
  std::map<std::string, AsyncGeneratorInvoker> async_generators;
  std::map<std::string, std::string> factory_class;  // factory name -> class key
  std::set<std::string> async_classes;
  std::map<std::string, std::string> method_group;
  std::map<const void*, std::string> function_names;
  std::map<std::string, std::string> method_names;
  std::map<std::string, std::string> name_keys;  // name -> what it names (its key's bytes)
  std::vector<std::string> duplicates;          // names given to two different things
};

// Records that `name` names `key`; a second, different thing of that name
// is a duplicate (the first one stays).
bool Claim(Registry& r, const std::string& name, const std::string& key) {
  auto [it, fresh] = r.name_keys.emplace(name, key);
  if (fresh || it->second == key) return true;
  r.duplicates.push_back(name);
  return false;
}

std::string KeyBytes(const void* key) { return std::string(reinterpret_cast<const char*>(&key), sizeof(key)); }

Registry& Reg() {
  static auto* r = new Registry();
  return *r;
}

// The entry for `key` in one of the registry's tables, or null. Entries are
// never removed, so the pointer stays valid.
template <typename Table, typename Key>
const typename Table::mapped_type* Find(Table Registry::*table, const Key& key) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  auto it = (r.*table).find(key);
  return it == (r.*table).end() ? nullptr : &it->second;
}

}  // namespace

void RegisterFunction(const std::string& name, const void* key, FunctionInvoker f) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  if (!Claim(r, name, KeyBytes(key))) return;
  r.functions[name] = std::move(f);
  r.function_names[key] = name;
}

void RegisterFactory(const std::string& name, const void* key, FactoryInvoker f, const char* class_key) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  if (!Claim(r, name, KeyBytes(key))) return;
  r.factories[name] = std::move(f);
  r.function_names[key] = name;
  r.factory_class[name] = class_key;
}

void RegisterMethod(const std::string& name, const std::string& key, MethodInvoker f, const char*) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  if (!Claim(r, name, key)) return;
  r.methods[name] = std::move(f);
  r.method_names[key] = name;
}

void RegisterAsyncMethod(const std::string& name, const std::string& key, AsyncMethodInvoker f,
                         const char* class_key) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  if (!Claim(r, name, key)) return;
  r.async_methods[name] = std::move(f);
  r.method_names[key] = name;
  r.async_classes.insert(class_key);
}

void RegisterGeneratorFunction(const std::string& name, const void* key, GeneratorInvoker f) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  if (!Claim(r, name, KeyBytes(key))) return;
  r.generators[name] = std::move(f);
  r.function_names[key] = name;
}

void RegisterGeneratorMethod(const std::string& name, const std::string& key, GeneratorInvoker f) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  if (!Claim(r, name, key)) return;
  r.generators[name] = std::move(f);
  r.method_names[key] = name;
}

void RegisterAsyncGenerator(const std::string& name, const std::string& key, AsyncGeneratorInvoker f,
                            const char* class_key) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  if (!Claim(r, name, key)) return;
  r.async_generators[name] = std::move(f);
  r.method_names[key] = name;
  r.async_classes.insert(class_key);
}

const std::string& NameOfFunction(const void* key) {
  auto* name = Find(&Registry::function_names, key);
  if (!name) throw FunctionNotFoundError("this function is not registered: add it to GLINT_REMOTE(...)");
  return *name;
}

const std::string& NameOfMethod(const std::string& key) {
  auto* name = Find(&Registry::method_names, key);
  if (!name) throw FunctionNotFoundError("this actor method is not registered: add it to GLINT_REMOTE(...)");
  return *name;
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

absl::Status CheckRegistry() {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  if (r.duplicates.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "GLINT_REMOTE registers ", absl::StrJoin(r.duplicates, ", "),
      " more than once, for different functions or methods: calls name them, so each name must be unique"));
}

const FunctionInvoker* FindFunction(const std::string& name) { return Find(&Registry::functions, name); }

const FactoryInvoker* FindFactory(const std::string& name) { return Find(&Registry::factories, name); }

const AsyncMethodInvoker* FindAsyncMethod(const std::string& name) { return Find(&Registry::async_methods, name); }

void RegisterMethodGroup(const std::string& group, const std::vector<std::string>& methods) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  for (auto& m : methods) r.method_group[m] = group;
}

std::string DefaultGroupOf(const std::string& method) {
  auto* group = Find(&Registry::method_group, method);
  return group ? *group : std::string();
}

bool FactoryMakesAsyncActor(const std::string& factory) {
  auto& r = Reg();
  std::lock_guard lock(r.mu);
  auto it = r.factory_class.find(factory);
  return it != r.factory_class.end() && r.async_classes.count(it->second) > 0;
}

const MethodInvoker* FindMethod(const std::string& name) { return Find(&Registry::methods, name); }

const GeneratorInvoker* FindGenerator(const std::string& name) { return Find(&Registry::generators, name); }

const AsyncGeneratorInvoker* FindAsyncGenerator(const std::string& name) {
  return Find(&Registry::async_generators, name);
}

}  // namespace glint::internal
