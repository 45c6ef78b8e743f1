// The cluster's key-value store (Ray's internal_kv): small records that
// every driver and worker of the cluster reads and writes, kept by the GCS
// in its store, so they outlive the programs that wrote them and a restart
// of the GCS. Keys are 1 to 1024 bytes, values up to 8 MiB, 256 MiB in all;
// `ns` keeps programs apart ("" is a namespace too). Keys and values are
// bytes (any std::string).
//
//   glint::kv::Put("model/version", "7");
//   auto v = glint::kv::Get("model/version");   // std::optional<std::string>
//
// Each call is one round trip to the GCS; while the GCS does not answer it
// waits (Config::gcs_reconnect_timeout_ms) and then throws ConnectionError.
// A key or value out of bounds throws glint::Error, saying which.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "glint/internal/export.h"

namespace glint::kv {

// Sets `key` to `value`; true if the key was new. With `overwrite` false an
// existing key keeps its value (and false is returned).
GLINT_EXPORT bool Put(const std::string& key, const std::string& value, bool overwrite = true,
                      const std::string& ns = "");
// The value, or nullopt if there is no such key.
GLINT_EXPORT std::optional<std::string> Get(const std::string& key, const std::string& ns = "");
GLINT_EXPORT bool Exists(const std::string& key, const std::string& ns = "");
// Deletes `key`, or with `by_prefix` every key that starts with it; how many went.
GLINT_EXPORT int64_t Delete(const std::string& key, bool by_prefix = false, const std::string& ns = "");
// The keys that start with `prefix`, in byte order.
GLINT_EXPORT std::vector<std::string> Keys(const std::string& prefix = "", const std::string& ns = "");

}  // namespace glint::kv
