// What a request may carry: the bounds every Glint server checks where a
// request comes in (the GCS's and the raylets' handlers) and libglint checks
// before it sends one, so a client's mistake or malice gets a clear
// INVALID_ARGUMENT and never a daemon holding what it should not.
#pragma once
#include <google/protobuf/map.h>

#include <cstddef>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/common.pb.h"

namespace glint {

constexpr size_t kMaxNameBytes = 256;       // actor, task, class and resource names; namespaces
constexpr size_t kMaxFunctionBytes = 1024;  // a remote function's or method's registered name
constexpr size_t kMaxPathBytes = 4096;      // a code path
constexpr int kMaxCodePaths = 64;
constexpr size_t kMaxJobCodeBytes = 16 << 10;  // a job's code paths together
constexpr int kMaxResources = 64;           // entries in one resource set, besides placement groups' (below)
// Entries in one resource set together with those placement group bundles
// add to their node ("CPU_group_<i>_<group>", common/bundle_resources.h): a
// node holding a few thousand bundles reports all of them in each heartbeat.
constexpr int kMaxNodeResources = 16384;
constexpr double kMaxResourceAmount = 1e9;
constexpr int kMaxConcurrency = 100000;     // an actor's calls at once, or a group's
constexpr int kMaxConcurrencyGroups = 64;
constexpr int kMaxActorThreads = 1000;      // the threads a threaded actor runs calls on, all groups together
constexpr size_t kMaxIdBytes = 64;          // an object, job, worker or lease id (Glint's are 16 or 17 bytes)
constexpr size_t kMaxAddressBytes = 300;    // "host:port" (a DNS name is at most 253 bytes), maybe with "/worker"
constexpr int kMaxIdsPerRequest = 100000;   // ids named in one request (objects freed at once)
constexpr int kMaxLeasesPerCall = 64;       // workers asked for in one RequestWorkerLeases
constexpr int kMaxBundleSteps = 1000;       // placement group bundle steps in one BundleSteps call

// A name that is not empty unless `may_be_empty`, within kMaxNameBytes and
// without NUL bytes; `what` names it in the error.
absl::Status CheckName(absl::string_view what, absl::string_view name, bool may_be_empty = true);
// An id: not empty unless `may_be_empty`, at most kMaxIdBytes.
absl::Status CheckId(absl::string_view what, absl::string_view id, bool may_be_empty = false);
// An address or a client's name: at most kMaxAddressBytes, no NUL byte.
absl::Status CheckAddress(absl::string_view what, absl::string_view address, bool may_be_empty = true);
// A reference passed as an argument: its id, and its owner's address (a
// HOST:PORT Glint will call) and its location's raylet, if given.
absl::Status CheckArgRef(const proto::TaskArg& arg);
// At most kMaxResources entries besides the names of placement group
// bundles, and kMaxNodeResources in all; named by CheckName, each amount
// finite and within [0, kMaxResourceAmount].
absl::Status CheckResources(const google::protobuf::Map<std::string, double>& resources);
absl::Status CheckResources(const std::map<std::string, double>& resources);
// What a task or actor asks for (SetResources), as Ray's C++ API checks it:
// as CheckResources, and each amount above 0, and whole when above 1.
absl::Status CheckResourceRequest(const std::map<std::string, double>& resources);
// A job as a driver registers it: its namespace and code paths.
absl::Status CheckJob(const proto::JobInfo& job);
// A task's function, name, resources, retries and concurrency settings.
absl::Status CheckTask(const proto::TaskSpec& task);
// The threads a threaded (not async) actor created by `creation` would run
// its calls on, within kMaxActorThreads.
absl::Status CheckActorThreads(const proto::TaskSpec& creation);
// A retry or restart budget: -1 (forever) or more.
absl::Status CheckBudget(absl::string_view what, int64_t n);

}  // namespace glint
