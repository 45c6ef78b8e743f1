// The glint command-line tool's parts: each file adds its subcommands to
// the CLI11 app (main.cc), with what they share declared here.
//
// Exit codes every command keeps: 0 done; 1 it could not be done (the
// cluster cannot be reached, a start failed, no such actor); 2 the command
// line is wrong (unknown subcommand or flag, a bad or missing value).
#pragma once
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/async_call.h"
#include "common/auth.h"
#include "proto/gcs.grpc.pb.h"
#include "proto/raylet.pb.h"
#include "proto/task_events.grpc.pb.h"

namespace glint::cli {

constexpr int kFailed = 1;
constexpr int kUsage = 2;

// How to reach a cluster: its address and credentials. Every command that
// talks to one takes these flags.
struct ClusterFlags {
  std::string address;
  std::string auth_token;
  std::string auth_token_file;
  std::string tls_cert, tls_key, tls_ca, tls_server_name;
  bool tls_mutual = false;
};
// Adds --address (described by `address_help`) and the credential flags.
void AddClusterFlags(CLI::App* cmd, ClusterFlags* f, const std::string& address_help);
// The cluster's address: --address, $GLINT_ADDRESS, or this machine's latest
// cluster ("" if none).
std::string GcsAddress(const ClusterFlags& f);
// The token from the flags, $GLINT_AUTH_TOKEN, or what a session on this
// machine recorded for `gcs` ("" if none); TLS from the flags, $GLINT_TLS_*,
// or the session. Throws std::runtime_error for an unreadable token file.
AuthOptions Auth(const ClusterFlags& f, const std::string& gcs);

// A connection to the cluster's GCS, for one command.
struct Gcs {
  std::unique_ptr<proto::GcsService::Stub> stub;
  std::string address;
  std::unique_ptr<ClientQueueThread> client = std::make_unique<ClientQueueThread>();
  // A blocking call; false (with the reason on stderr) when it failed.
  template <typename Req, typename Reply, typename M>
  bool Call(M method, const Req& req, Reply* reply) {
    return CallOn(stub.get(), method, req, reply);
  }
  // The same on another service the GCS serves.
  template <typename Stub, typename Req, typename Reply, typename M>
  bool CallOn(Stub* other, M method, const Req& req, Reply* reply) {
    auto s = BlockingCall(client->queue(), other, method, req, 5000, reply);
    if (!s.ok()) std::cerr << "cannot reach the GCS at " << address << ": " << s.message() << "\n";
    return s.ok();
  }
};
// Connects with the flags' address and credentials (nullopt, the reason on
// stderr, when there is no address or the credentials cannot be read).
std::optional<Gcs> Connect(const ClusterFlags& f);
// The job whose id starts with `hex_prefix`; false (the reason on stderr)
// when none or several do, or the GCS cannot be asked.
bool FindJob(Gcs& gcs, const std::string& hex_prefix, std::string* job_id);
// A message as JSON, field names as in the .proto files.
nlohmann::json Json(const google::protobuf::Message& m);

// What every alive node holds now, from its raylet (at most
// `limit_per_node` of each); false (the reason on stderr) when a node could
// not be asked (what the others said is in *out).
bool CollectWorkers(Gcs& gcs, int limit_per_node, proto::ListWorkersReply* out);
bool CollectObjects(Gcs& gcs, int limit_per_node, proto::ListObjectsReply* out);
// The GCS's recent tasks (of `job_id`, or all), newest first, at most
// `limit` (0: its default); false (the reason on stderr) when it could not be asked.
bool CollectTasks(Gcs& gcs, int limit, const std::string& job_id, proto::ListTasksReply* out);
void PrintTasks(const proto::ListTasksReply& tasks);

// Whether binary `id` starts with `hex_prefix` (4 hex digits at least, any case).
bool MatchesId(const std::string& id, const std::string& hex_prefix);

// --filter KEY=VALUE (or KEY!=VALUE) on a listing: KEY is a field as --json
// prints it; an id field matches a hex prefix of 4 or more digits too.
struct Filter {
  std::string key, value;
  bool equal = true;
};
// Parses the --filter arguments; false with *error set on a malformed one.
bool ParseFilters(const std::vector<std::string>& args, std::vector<Filter>* out, std::string* error);
// Whether `item` (its JSON) passes every filter; *error set (and false) when
// a filter names a field the item lacks.
bool Passes(const nlohmann::json& item, const std::vector<Filter>& filters, std::string* error);
// Keeps the items that pass, at most `limit` (0: all); false with *error
// set when a filter names no field of theirs.
template <typename T>
bool KeepPassing(google::protobuf::RepeatedPtrField<T>* items, const std::vector<Filter>& filters, int limit,
                 std::string* error) {
  google::protobuf::RepeatedPtrField<T> kept;
  for (auto& item : *items) {
    if (limit > 0 && kept.size() >= limit) break;
    if (filters.empty() || Passes(Json(item), filters, error)) {
      *kept.Add() = std::move(item);
    } else if (!error->empty()) {
      return false;
    }
  }
  items->Swap(&kept);
  return true;
}

// Session files on this machine.
std::string LatestSession();                   // the session `glint start --head` made last ("" if none)
std::string ReadFile(const std::string& path);  // trimmed; "" if missing
// The process's start time (field 22 of /proc/PID/stat): tells a pid reused
// by another program from the one we started.
std::string StartTime(pid_t pid);

// Each adds its subcommands; what runs sets *exit_code.
void AddNodeCommands(CLI::App* app, int* exit_code);     // start, restart-gcs, stop
void AddInspectCommands(CLI::App* app, int* exit_code);  // status, list, kill-actor, get-auth-token
void AddLogCommands(CLI::App* app, int* exit_code);      // logs
void AddHealthCommands(CLI::App* app, int* exit_code);   // health
void AddSummaryCommands(CLI::App* app, int* exit_code);  // summary
void AddJobCommands(CLI::App* app, int* exit_code);      // job submit|status|logs|stop|list

}  // namespace glint::cli
