// The glint command-line tool's parts: each file adds its subcommands to
// the CLI11 app (main.cc), with what they share declared here.
//
// Exit codes every command keeps: 0 done; 1 it could not be done (the
// cluster cannot be reached, a start failed, no such actor); 2 the command
// line is wrong (unknown subcommand or flag, a bad or missing value).
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "common/auth.h"

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

// Session files on this machine.
std::string LatestSession();                   // the session `glint start --head` made last ("" if none)
std::string ReadFile(const std::string& path);  // trimmed; "" if missing
// The process's start time (field 22 of /proc/PID/stat): tells a pid reused
// by another program from the one we started.
std::string StartTime(pid_t pid);

// Each adds its subcommands; what runs sets *exit_code.
void AddNodeCommands(CLI::App* app, int* exit_code);     // start, restart-gcs, stop
void AddInspectCommands(CLI::App* app, int* exit_code);  // status, list, kill-actor, get-auth-token

}  // namespace glint::cli
