#include "common/limits.h"

#include <algorithm>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/bundle_resources.h"

namespace glint {
namespace {

template <typename Map>
absl::Status CheckResourceMap(const Map& resources) {
  if (static_cast<int>(resources.size()) > kMaxNodeResources) {
    return absl::InvalidArgumentError(absl::StrCat(resources.size(), " resources in one set; at most ",
                                                   kMaxNodeResources, " may be named, placement groups' included"));
  }
  if (static_cast<int>(resources.size()) > kMaxResources) {
    auto own = std::count_if(resources.begin(), resources.end(), [](const auto& r) { return !IsAnyBundleResource(r.first); });
    if (own > kMaxResources) {
      return absl::InvalidArgumentError(
          absl::StrCat(own, " resources in one set; at most ", kMaxResources, " may be named"));
    }
  }
  for (const auto& [name, amount] : resources) {
    if (auto s = CheckName("a resource name", name, /*may_be_empty=*/false); !s.ok()) return s;
    if (!std::isfinite(amount) || amount < 0 || amount > kMaxResourceAmount) {
      return absl::InvalidArgumentError(absl::StrCat("resource '", name, "' asks for ", amount,
                                                     "; an amount is a number from 0 to ", kMaxResourceAmount));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckName(absl::string_view what, absl::string_view name, bool may_be_empty) {
  if (name.empty() && !may_be_empty) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is ", name.size(), " bytes long; at most ", kMaxNameBytes, " are allowed"));
  }
  if (name.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(what, " holds a NUL byte"));
  }
  return absl::OkStatus();
}

absl::Status CheckId(absl::string_view what, absl::string_view id, bool may_be_empty) {
  if (id.empty() && !may_be_empty) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (id.size() > kMaxIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is ", id.size(), " bytes long; an id has at most ", kMaxIdBytes));
  }
  return absl::OkStatus();
}

absl::Status CheckAddress(absl::string_view what, absl::string_view address, bool may_be_empty) {
  if (address.empty() && !may_be_empty) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (address.size() > kMaxAddressBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is ", address.size(), " bytes long; an address has at most ", kMaxAddressBytes));
  }
  if (address.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(what, " holds a NUL byte"));
  }
  return absl::OkStatus();
}

absl::Status CheckArgRef(const proto::TaskArg& arg) {
  const auto& owner = arg.ref().owner();
  for (auto s : {CheckId("an argument's object id", arg.ref().object_id()),
                 CheckAddress("an argument's owner", owner.ip(), /*may_be_empty=*/false),
                 CheckId("an argument owner's worker id", owner.worker_id(), /*may_be_empty=*/true),
                 CheckAddress("an argument's location", arg.location().raylet())}) {
    if (!s.ok()) return s;
  }
  if (owner.port() <= 0 || owner.port() > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("an argument's owner has port ", owner.port()));
  }
  return absl::OkStatus();
}

absl::Status CheckResources(const google::protobuf::Map<std::string, double>& resources) {
  return CheckResourceMap(resources);
}

absl::Status CheckResources(const std::map<std::string, double>& resources) { return CheckResourceMap(resources); }

absl::Status CheckResourceRequest(const std::map<std::string, double>& resources) {
  if (auto s = CheckResourceMap(resources); !s.ok()) return s;
  for (const auto& [name, amount] : resources) {
    if (amount <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("resource '", name, "' asks for ", amount, "; ask for more than 0, or leave it out"));
    }
    if (amount > 1 && amount != std::floor(amount)) {
      return absl::InvalidArgumentError(absl::StrCat("resource '", name, "' asks for ", amount,
                                                     "; an amount above 1 is a whole number (fractions share one unit)"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckJob(const proto::JobInfo& job) {
  if (auto s = CheckName("the namespace", job.ray_namespace()); !s.ok()) return s;
  if (auto s = CheckAddress("the driver's address", job.driver().ip()); !s.ok()) return s;
  for (const auto& id : {job.driver().worker_id(), job.driver().node_id()}) {
    if (auto s = CheckId("the driver's id", id, /*may_be_empty=*/true); !s.ok()) return s;
  }
  if (job.code().paths_size() > kMaxCodePaths) {
    return absl::InvalidArgumentError(absl::StrCat("a job names at most ", kMaxCodePaths, " code paths"));
  }
  size_t bytes = 0;
  for (const auto& p : job.code().paths()) {
    if (p.empty() || p.size() > kMaxPathBytes || p.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError("a job's code path is empty, too long or holds a NUL byte");
    }
    bytes += p.size();
  }
  if (bytes > kMaxJobCodeBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a job's code paths take ", bytes, " bytes together; at most ", kMaxJobCodeBytes));
  }
  return absl::OkStatus();
}

absl::Status CheckBudget(absl::string_view what, int64_t n) {
  if (n < -1) return absl::InvalidArgumentError(absl::StrCat(what, " is ", n, "; it is -1 (no limit) or more"));
  return absl::OkStatus();
}

absl::Status CheckTask(const proto::TaskSpec& task) {
  if (task.function_name().empty() || task.function_name().size() > kMaxFunctionBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a task's function name is empty or longer than ", kMaxFunctionBytes, " bytes"));
  }
  if (auto s = CheckName("the task's name", task.name()); !s.ok()) return s;
  if (auto s = CheckResources(task.resources()); !s.ok()) return s;
  if (auto s = CheckBudget("max_retries", task.max_retries()); !s.ok()) return s;
  if (auto s = CheckId("the root detached actor", task.root_detached_actor(), /*may_be_empty=*/true); !s.ok()) {
    return s;
  }
  if (task.max_concurrency() < 0 || task.max_concurrency() > kMaxConcurrency) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_concurrency is ", task.max_concurrency(), "; it is 0 (the default) to ", kMaxConcurrency));
  }
  if (task.concurrency_groups_size() > kMaxConcurrencyGroups) {
    return absl::InvalidArgumentError(absl::StrCat("an actor has at most ", kMaxConcurrencyGroups,
                                                   " concurrency groups"));
  }
  for (const auto& [group, limit] : task.concurrency_groups()) {
    if (auto s = CheckName("a concurrency group's name", group, /*may_be_empty=*/false); !s.ok()) return s;
    if (limit < 1 || limit > kMaxConcurrency) {
      return absl::InvalidArgumentError(absl::StrCat("concurrency group '", group, "' has a limit of ", limit,
                                                     "; it is 1 to ", kMaxConcurrency));
    }
  }
  return CheckName("the concurrency group", task.concurrency_group());
}

absl::Status CheckActorThreads(const proto::TaskSpec& creation) {
  int64_t threads = std::max(1, creation.max_concurrency());
  for (const auto& [group, limit] : creation.concurrency_groups()) threads += limit;
  if (threads <= kMaxActorThreads) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "a threaded actor runs each call it takes at once on a thread of its own; ", threads,
      " (max_concurrency and its concurrency groups together) is more than ", kMaxActorThreads,
      " (an async actor takes more: its calls are coroutines)"));
}

}  // namespace glint
