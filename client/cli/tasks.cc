// glint list tasks (via inspect.cc's listing) and glint summary tasks: the
// GCS's table of recent calls (proto/task_events.proto).
#include <algorithm>
#include <cstdio>

#include "client/cli/cli.h"
#include "common/ids.h"

namespace glint::cli {
namespace {

using TaskStub = proto::TaskEventService::Stub;

std::string ShortOrDash(const std::string& id) { return id.empty() ? "-" : ShortHex(id); }

// "12 ms", "3.4 s"; "-" before it started, "running" until it ends.
std::string Duration(const proto::TaskEvent& t) {
  if (t.started_ms() == 0) return "-";
  if (t.ended_ms() == 0) return "running";
  int64_t ms = std::max<int64_t>(0, t.ended_ms() - t.started_ms());
  char buf[32];
  if (ms < 10000) {
    std::snprintf(buf, sizeof buf, "%lld ms", static_cast<long long>(ms));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000.0);
  }
  return buf;
}

const char* TypeName(proto::TaskType type) {
  switch (type) {
    case proto::ACTOR_CREATION_TASK: return "ACTOR_CREATION";
    case proto::ACTOR_TASK: return "ACTOR_TASK";
    default: return "TASK";
  }
}

void PrintDropped(int64_t dropped) {
  if (dropped > 0) {
    std::cout << "(" << dropped << " task events were dropped or evicted: the table keeps the latest "
              << "100000 tasks, and busy processes drop what they cannot send)\n";
  }
}

struct SummaryFlags {
  ClusterFlags cluster;
  std::string what;
  std::string job;
  bool json = false;
};

int SummaryTasks(const SummaryFlags& f) {
  auto gcs = Connect(f.cluster);
  if (!gcs) return kFailed;
  auto stub = MakeStub<proto::TaskEventService>(gcs->address);
  proto::SummarizeTasksRequest req;
  proto::SummarizeTasksReply reply;
  if (!f.job.empty() && !FindJob(*gcs, f.job, req.mutable_job_id())) return kFailed;
  if (!gcs->CallOn(stub.get(), &TaskStub::PrepareAsyncSummarizeTasks, req, &reply)) return kFailed;
  if (f.json) {
    std::cout << Json(reply).dump(2) << "\n";
    return 0;
  }
  const char* states[] = {"PENDING", "RUNNING", "FINISHED", "FAILED"};
  std::printf("%-40s %-15s %8s %8s %9s %8s %8s\n", "NAME", "TYPE", "PENDING", "RUNNING", "FINISHED", "FAILED",
              "TOTAL");
  for (auto& s : reply.summaries()) {
    std::printf("%-40s %-15s", s.name().c_str(), TypeName(s.type()));
    for (const char* state : states) {
      auto it = s.state_counts().find(state);
      std::printf(" %8lld", static_cast<long long>(it == s.state_counts().end() ? 0 : it->second));
    }
    std::printf(" %8lld\n", static_cast<long long>(s.total()));
  }
  std::cout << reply.total() << " tasks\n";
  PrintDropped(reply.dropped());
  return 0;
}

}  // namespace

bool CollectTasks(Gcs& gcs, int limit, const std::string& job_id, proto::ListTasksReply* out) {
  auto stub = MakeStub<proto::TaskEventService>(gcs.address);
  proto::ListTasksRequest req;
  req.set_limit(limit);
  req.set_job_id(job_id);
  return gcs.CallOn(stub.get(), &TaskStub::PrepareAsyncListTasks, req, out);
}

void PrintTasks(const proto::ListTasksReply& tasks) {
  std::cout << "TASK      STATE     TYPE            NAME                           NODE      PID     TOOK      ERROR\n";
  for (auto& t : tasks.tasks()) {
    std::printf("%-9s %-9s %-15s %-30s %-9s %-7s %-9s %s\n", ShortHex(t.task_id()).c_str(),
                proto::TaskState_Name(t.state()).c_str(), TypeName(t.type()), t.name().c_str(),
                ShortOrDash(t.node_id()).c_str(), t.worker_pid() > 0 ? std::to_string(t.worker_pid()).c_str() : "-",
                Duration(t).c_str(), t.error_type().c_str());
  }
  if (tasks.total() > tasks.tasks_size()) {
    std::cout << "(" << tasks.total() << " tasks in all: raise --limit to see more)\n";
  }
  PrintDropped(tasks.dropped());
}

void AddSummaryCommands(CLI::App* app, int* exit_code) {
  auto f = std::make_shared<SummaryFlags>();
  auto* summary = app->add_subcommand("summary", "counts of the cluster's recent tasks by function and state");
  summary->add_option("what", f->what, "tasks")->required()->check(CLI::IsMember({"tasks"}));
  summary->add_option("--job", f->job, "only this job's (a hex prefix of its id)");
  AddClusterFlags(summary, &f->cluster,
                  "the cluster's GCS, HOST:PORT (default: $GLINT_ADDRESS, else this machine's latest)");
  summary->add_flag("--json", f->json, "print JSON");
  summary->callback([f, exit_code] { *exit_code = SummaryTasks(*f); });
}

}  // namespace glint::cli
