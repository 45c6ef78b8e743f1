#include "client/src/objects/lineage.h"

#include "absl/strings/str_cat.h"
#include "client/src/errors.h"
#include "common/ids.h"
#include "common/logging.h"
#include "common/rpc.h"

namespace glint::internal {
namespace {
bool RetriesLeft(const proto::TaskSpec& t) { return t.max_retries() < 0 || t.attempt() < t.max_retries(); }

template <typename F>
void ForEachRefArg(const proto::TaskSpec& t, F f) {
  for (auto& a : t.args()) {
    if (a.has_ref()) f(a.ref().object_id(), AddrString(a.ref().owner()));
  }
}
}  // namespace

void Lineage::Record(const proto::TaskSpec& task) {
  if (task.type() != proto::NORMAL_TASK || task.streaming() || !RetriesLeft(task)) return;
  std::string id = ReturnObjectId(task.task_id(), 0);
  size_t bytes = task.ByteSizeLong();
  {
    absl::MutexLock lock(&mu_);
    auto it = tasks_.find(id);
    if (it != tasks_.end()) {  // made again: the newer attempt counts
      bytes_ += bytes - it->second.bytes;
      it->second = {task, bytes};
      return;
    }
    if (bytes_ + bytes > kMaxBytes) {
      if (!warned_full_) {
        LOG(WARNING) << "the lineage kept to rebuild lost objects has reached " << (kMaxBytes >> 20)
                     << " MiB: results made from now on are lost for good with their node";
        warned_full_ = true;
      }
      return;
    }
    tasks_.emplace(id, Entry{task, bytes});
    bytes_ += bytes;
  }
  // Held by the task's caller until its result is put: taken here first.
  ForEachRefArg(task, [&](const std::string& arg, const std::string& owner) {
    refs_->AddLocalRef(arg, owner, /*register_borrow=*/false);
  });
}

void Lineage::Release(const Entry& e) {
  ForEachRefArg(e.task, [&](const std::string& arg, const std::string& owner) { refs_->RemoveLocalRef(arg, owner); });
}

void Lineage::Forget(const std::string& object_id) {
  Entry e;
  {
    absl::MutexLock lock(&mu_);
    auto it = tasks_.find(object_id);
    if (it == tasks_.end()) return;
    e = std::move(it->second);
    tasks_.erase(it);
    bytes_ -= e.bytes;
  }
  Release(e);
}

std::optional<proto::ObjectValue> Lineage::Rebuild(const std::string& object_id, const proto::StoredObject& lost) {
  std::string what =
      absl::StrCat("object ", ShortHex(object_id), " was lost with node ", ShortHex(lost.node_id()), " (",
                   lost.raylet(), ")");
  proto::TaskSpec again;
  {
    absl::MutexLock lock(&mu_);
    auto it = tasks_.find(object_id);
    if (it == tasks_.end()) {
      return ErrorValue(proto::OBJECT_LOST,
                        what + " and cannot be made again: only results of tasks with retries left are "
                               "(not Put values or actor call results)");
    }
    proto::TaskSpec& task = it->second.task;
    if (!RetriesLeft(task)) {
      return ErrorValue(proto::OBJECT_LOST, absl::StrCat(what, " and its task '", task.function_name(),
                                                         "' has no retries left to make it again (",
                                                         task.max_retries(), ", SetMaxRetries)"));
    }
    // Only the first to find this copy lost runs the task again; the others
    // wait for the same new value.
    if (!store_->Reopen(object_id, lost.node_id())) return std::nullopt;
    task.set_attempt(task.attempt() + 1);
    again = task;
    again.set_rebuilds_lost_on(lost.node_id());
  }
  LOG(INFO) << what << ": running its task '" << again.function_name() << "' again (attempt " << again.attempt()
            << ")";
  submit_(std::move(again));
  return std::nullopt;
}

}  // namespace glint::internal
