// glint job submit|status|logs|stop|list: jobs run by the head's job
// supervisor, through the dashboard's jobs API (dashboard/jobs_api.h). The
// dashboard is found in the GCS (it records its address there), or given
// with --dashboard HOST:PORT; its requests carry the cluster token.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/cli.h"
#include "common/digest.h"
#include "common/dir_archive.h"
#include "common/http_client.h"
#include "common/rpc.h"

namespace glint::cli {
namespace {

struct JobFlags {
  ClusterFlags cluster;
  std::string dashboard;
  bool json = false;
};

// The dashboard to talk to, and the cluster's token and TLS settings (a
// cluster with TLS serves HTTPS).
struct Dashboard {
  std::string address;
  AuthOptions auth;

  HttpCallOptions Options() const {
    HttpCallOptions o;
    o.token = auth.token;
    o.tls = auth.tls;
    return o;
  }

  // A request; the reply's JSON, or nullopt with the reason on stderr.
  std::optional<nlohmann::json> Call(const std::string& method, const std::string& target, const std::string& body = "",
                                     const HttpCallOptions* options = nullptr) const {
    auto reply = HttpCall(address, method, target, body, options ? *options : Options());
    if (!reply.ok()) {
      std::cerr << "cannot reach the dashboard: " << reply.status().message() << "\n";
      return std::nullopt;
    }
    auto j = nlohmann::json::parse(reply->body, nullptr, false);
    if (reply->status != 200) {
      std::cerr << (j.is_object() && j.contains("error") ? j["error"].get<std::string>()
                                                         : absl::StrCat("HTTP ", reply->status, ": ", reply->body))
                << "\n";
      return std::nullopt;
    }
    if (j.is_discarded()) {
      std::cerr << "the dashboard's reply is not JSON\n";
      return std::nullopt;
    }
    return j;
  }
};

std::optional<Dashboard> FindDashboard(const JobFlags& f) {
  if (!f.dashboard.empty()) return Dashboard{f.dashboard, Auth(f.cluster, GcsAddress(f.cluster))};
  auto gcs = Connect(f.cluster);
  if (!gcs) return std::nullopt;
  auto kv = MakeStub<proto::KvService>(gcs->address);
  proto::KvGetRequest req;
  req.set_ns("cluster");
  req.set_key("dashboard_address");
  proto::KvGetReply reply;
  if (!gcs->CallOn(kv.get(), &proto::KvService::Stub::PrepareAsyncGet, req, &reply)) return std::nullopt;
  if (!reply.found()) {
    std::cerr << "the cluster at " << gcs->address
              << " runs no dashboard (its head was started with --no-dashboard?); jobs need one\n";
    return std::nullopt;
  }
  return Dashboard{reply.value(), Auth(f.cluster, gcs->address)};
}

bool Ended(const std::string& status) { return status == "STOPPED" || status == "SUCCEEDED" || status == "FAILED"; }

// The entrypoint from the words after `--`: one word is a shell command as
// it is; several are quoted for the shell where they need it.
std::string Entrypoint(const std::vector<std::string>& words) {
  if (words.size() == 1) return words[0];
  std::vector<std::string> quoted;
  for (const auto& w : words) {
    bool plain = !w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                   "0123456789_-./=:,+@%") == std::string::npos;
    if (plain) {
      quoted.push_back(w);
      continue;
    }
    std::string q = "'";
    for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    quoted.push_back(q + "'");
  }
  return absl::StrJoin(quoted, " ");
}

// Prints the job's log from `*offset` on; false when the dashboard failed.
bool PrintLogs(const Dashboard& d, const std::string& id, int64_t* offset) {
  for (int pieces = 0; pieces < 1000; ++pieces) {  // 1 MiB a piece
    auto chunk = d.Call("GET", absl::StrCat("/api/jobs/", id, "/logs?offset=", *offset));
    if (!chunk) return false;
    std::string text = (*chunk)["logs"].get<std::string>();
    *offset = (*chunk)["next_offset"].get<int64_t>();
    std::cout << text << std::flush;
    if (text.empty()) return true;
  }
  return true;
}

// Prints the log as it grows until the job ends; its final record.
std::optional<nlohmann::json> Follow(const Dashboard& d, const std::string& id, int64_t offset) {
  std::string waiting;  // what a PENDING job said it waits for, last
  while (true) {
    auto job = d.Call("GET", "/api/jobs/" + id);
    if (!job) return std::nullopt;
    std::string status = (*job)["status"].get<std::string>();
    if (status == "PENDING" && (*job)["message"] != waiting) {
      waiting = (*job)["message"].get<std::string>();
      std::cerr << "job '" << id << "' PENDING: " << waiting << "\n";
    }
    bool ended = Ended(status);
    if (!PrintLogs(d, id, &offset)) return std::nullopt;  // after the status: nothing written before the end is missed
    if (ended) return job;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void PrintEnd(const nlohmann::json& job) {
  std::cerr << "job '" << job["submission_id"].get<std::string>() << "' " << job["status"].get<std::string>() << ": "
            << job["message"].get<std::string>() << "\n";
}

int ExitFor(const nlohmann::json& job) { return job["status"] == "SUCCEEDED" ? 0 : kFailed; }

struct SubmitFlags {
  JobFlags job;
  std::string working_dir, submission_id;
  std::vector<std::string> excludes;  // patterns of what the working directory's upload leaves out
  bool no_gitignore = false;
  double entrypoint_num_cpus = 0;
  std::vector<std::string> metadata;
  bool no_wait = false;
  std::vector<std::string> command;
};

// Packs `dir` (without what `excludes` and its .gitignore files leave out,
// as Ray does) and uploads it unless the head has it already (Ray's CLI
// does the same with a local working_dir); the package's name, or nullopt
// with the reason on stderr.
std::optional<std::string> Upload(const Dashboard& d, const std::string& dir, const std::vector<std::string>& excludes,
                                  bool read_gitignore) {
  IgnoreRules ignore(dir, excludes, read_gitignore);
  auto packed = PackDirectory(dir, kMaxPackageBytes, {}, &ignore);
  if (!packed.ok()) {
    std::cerr << "--working-dir: " << packed.status().message() << "\n";
    return std::nullopt;
  }
  std::string sha256 = Sha256Hex(packed->bytes);
  std::string target = "/api/packages/" + sha256;
  auto have = HttpCall(d.address, "GET", target, "", d.Options());
  if (!have.ok()) {
    std::cerr << "cannot reach the dashboard: " << have.status().message() << "\n";
    return std::nullopt;
  }
  std::string what = absl::StrCat(packed->entries, " entries, ", (packed->bytes.size() + 1023) / 1024, " KiB packed");
  if (packed->ignored > 0) absl::StrAppend(&what, ", ", packed->ignored, " left out by --exclude or .gitignore");
  if (packed->skipped > 0) absl::StrAppend(&what, ", ", packed->skipped, " sockets, FIFOs or devices left out");
  if (have->status == 200) {
    std::cerr << "working directory " << dir << " (" << what << "): on the head already\n";
    return sha256;
  }
  HttpCallOptions o = d.Options();
  o.content_type = "application/octet-stream";
  o.timeout_ms = 30000 + static_cast<int>(packed->bytes.size() >> 20) * 1000;  // as the server allows
  if (!d.Call("PUT", target, packed->bytes, &o)) return std::nullopt;
  std::cerr << "working directory " << dir << " (" << what << ") uploaded\n";
  return sha256;
}

int Submit(const SubmitFlags& f) {
  nlohmann::json body = {{"entrypoint", Entrypoint(f.command)}};
  if (!f.submission_id.empty()) body["submission_id"] = f.submission_id;
  if (f.entrypoint_num_cpus > 0) body["entrypoint_num_cpus"] = f.entrypoint_num_cpus;
  for (const auto& kv : f.metadata) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      std::cerr << "--metadata takes KEY=VALUE, not '" << kv << "'\n";
      return kUsage;
    }
    body["metadata"][kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto d = FindDashboard(f.job);
  if (!d) return kFailed;
  if (!f.working_dir.empty()) {
    auto package = Upload(*d, f.working_dir, f.excludes, !f.no_gitignore);
    if (!package) return kFailed;
    body["working_dir"] = kPackageScheme + *package;
  }
  auto submitted = d->Call("POST", "/api/jobs/", body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!submitted) return kFailed;
  std::string id = (*submitted)["submission_id"].get<std::string>();
  std::cerr << "job '" << id << "' submitted\n";
  if (f.no_wait) {
    std::cout << id << "\n";
    std::cerr << "follow it with: glint job logs --follow " << id << "\n";
    return 0;
  }
  auto job = Follow(*d, id, 0);
  if (!job) return kFailed;
  PrintEnd(*job);
  return ExitFor(*job);
}

void PrintJob(const nlohmann::json& job) {
  std::cout << job["submission_id"].get<std::string>() << "  " << job["status"].get<std::string>() << "  "
            << job["message"].get<std::string>() << "\n  entrypoint: " << job["entrypoint"].get<std::string>()
            << "\n";
}

}  // namespace

void AddJobCommands(CLI::App* app, int* exit_code) {
  auto* job = app->add_subcommand("job", "run a command on the head node as a job, and look after it");
  job->require_subcommand(1);
  auto add_flags = [](CLI::App* cmd, JobFlags* f) {
    AddClusterFlags(cmd, &f->cluster, "the cluster's GCS, HOST:PORT (default: $GLINT_ADDRESS, else this machine's)");
    cmd->add_option("--dashboard", f->dashboard, "the dashboard, HOST:PORT (default: as the GCS records it)")
        ->envname("GLINT_DASHBOARD_ADDRESS");
  };

  auto sf = std::make_shared<SubmitFlags>();
  auto* submit = job->add_subcommand("submit", "run CMD on the head node as a job; prints its output as it comes "
                                               "and exits 0 if it succeeded, 1 if not");
  add_flags(submit, &sf->job);
  auto* working_dir = submit->add_option("--working-dir", sf->working_dir,
                     "upload this directory (of this machine) and run in a copy of it on the head node "
                     "(at most 100 MiB packed; default: a new empty directory in the head's session)")
      ->check(CLI::ExistingDirectory);
  submit->add_option("--exclude", sf->excludes,
                     "leave out of the working directory's upload what this pattern matches, in .gitignore's "
                     "syntax (\"*.log\", \"build/\", \"/data/**/*.csv\"; repeatable)")
      ->needs(working_dir);
  submit->add_flag("--no-gitignore", sf->no_gitignore,
                   "upload what the working directory's .gitignore files leave out too (by default they count "
                   "as --exclude patterns, each in its own directory)")
      ->needs(working_dir);
  submit->add_option("--submission-id", sf->submission_id, "the job's id (default: a new one)");
  submit->add_option("--entrypoint-num-cpus", sf->entrypoint_num_cpus,
                     "CPUs of the head node held for the entrypoint while it runs (it waits PENDING until they "
                     "are free; default: none)")
      ->check(CLI::Range(0.0, 1e6));
  submit->add_option("--metadata", sf->metadata, "KEY=VALUE kept with the job (repeatable)");
  submit->add_flag("--no-wait", sf->no_wait, "print the job's id and return at once");
  submit->add_option("command", sf->command, "the entrypoint, after --: one shell command, or a program and its "
                                             "arguments")
      ->required();
  submit->callback([sf, exit_code] { *exit_code = Submit(*sf); });

  struct IdFlags {
    JobFlags job;
    std::string id;
    bool follow = false, no_wait = false;
  };

  auto status_flags = std::make_shared<IdFlags>();
  auto* status = job->add_subcommand("status", "a job's status and what happened");
  add_flags(status, &status_flags->job);
  status->add_option("submission_id", status_flags->id, "the job's submission id")->required();
  status->add_flag("--json", status_flags->job.json, "print the job's record as JSON");
  status->callback([status_flags, exit_code] {
    auto d = FindDashboard(status_flags->job);
    auto j = d ? d->Call("GET", "/api/jobs/" + status_flags->id) : std::nullopt;
    if (!j) {
      *exit_code = kFailed;
      return;
    }
    if (status_flags->job.json) {
      std::cout << j->dump(2) << "\n";
    } else {
      PrintJob(*j);
    }
    *exit_code = 0;
  });

  auto logs_flags = std::make_shared<IdFlags>();
  auto* logs = job->add_subcommand("logs", "a job's output (stdout and stderr of its entrypoint)");
  add_flags(logs, &logs_flags->job);
  logs->add_option("submission_id", logs_flags->id, "the job's submission id")->required();
  logs->add_flag("-f,--follow", logs_flags->follow, "keep printing until the job ends");
  logs->callback([logs_flags, exit_code] {
    auto d = FindDashboard(logs_flags->job);
    int64_t offset = 0;
    bool ok = d && (logs_flags->follow ? Follow(*d, logs_flags->id, 0).has_value()
                                       : d->Call("GET", "/api/jobs/" + logs_flags->id) &&
                                             PrintLogs(*d, logs_flags->id, &offset));
    *exit_code = ok ? 0 : kFailed;
  });

  auto stop_flags = std::make_shared<IdFlags>();
  auto* stop = job->add_subcommand("stop", "stop a running job (SIGTERM to its processes, SIGKILL 3 s later)");
  add_flags(stop, &stop_flags->job);
  stop->add_option("submission_id", stop_flags->id, "the job's submission id")->required();
  stop->add_flag("--no-wait", stop_flags->no_wait, "return once asked, not once it ended");
  stop->callback([stop_flags, exit_code] {
    *exit_code = kFailed;
    auto d = FindDashboard(stop_flags->job);
    auto asked = d ? d->Call("POST", "/api/jobs/" + stop_flags->id + "/stop") : std::nullopt;
    if (!asked) return;
    if (!(*asked)["stopped"].get<bool>()) {
      std::cerr << "job '" << stop_flags->id << "' was not running\n";
    }
    if (stop_flags->no_wait) {
      *exit_code = 0;
      return;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      auto j = d->Call("GET", "/api/jobs/" + stop_flags->id);
      if (!j) return;
      if (Ended((*j)["status"].get<std::string>())) {
        PrintEnd(*j);
        *exit_code = 0;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::cerr << "job '" << stop_flags->id << "' has not ended yet\n";
  });

  auto list_flags = std::make_shared<JobFlags>();
  auto* list = job->add_subcommand("list", "every job submitted to the cluster, oldest first");
  add_flags(list, list_flags.get());
  list->add_flag("--json", list_flags->json, "print the records as JSON");
  list->callback([list_flags, exit_code] {
    auto d = FindDashboard(*list_flags);
    auto j = d ? d->Call("GET", "/api/jobs/") : std::nullopt;
    if (!j) {
      *exit_code = kFailed;
      return;
    }
    if (list_flags->json) {
      std::cout << j->dump(2) << "\n";
    } else {
      for (const auto& job : *j) PrintJob(job);
      if (j->empty()) std::cout << "no jobs\n";
    }
    *exit_code = 0;
  });
}

}  // namespace glint::cli
