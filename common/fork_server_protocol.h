// What a raylet and its fork servers say to each other (raylet/fork_servers.h
// starts them; client/src/fork_server.h is the server's side). One
// SOCK_SEQPACKET socket pair per server, one message per datagram:
//
//   server -> raylet, once started:  "ready"  (or "error <why>", then it exits)
//   raylet -> server:                "<worker id hex>\0<log file path>"
//   server -> raylet:                "pid <n>" or "error <why>"
//
// The server is a worker process of the job stopped just before its runtime
// starts, with the job's code loaded and no thread running; the worker it
// forks for a request carries on from there with its own id and log file.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace glint {

// The environment variable holding the server's end of the socket (fd 3).
inline constexpr char kForkServerFdEnv[] = "GLINT_FORK_SERVER_FD";
// Set for a server whose dynamic linker bound every symbol at start-up
// (LD_BIND_NOW, which the raylet sets for it), so that the workers it forks
// do not each resolve them again on first call; the server drops both
// from the environment its workers inherit.
inline constexpr char kForkServerBindNowEnv[] = "GLINT_FORK_SERVER_BIND_NOW";
inline constexpr std::string_view kForkServerReady = "ready";
// What a server names itself (as ps and /proc/PID/comm show it).
inline constexpr char kForkServerName[] = "glint-forks";
// Requests and replies are far smaller than this.
inline constexpr size_t kForkMessageMax = 8192;

struct ForkRequest {
  std::string worker_id_hex;
  std::string log_path;  // "": the worker keeps the server's stdout and stderr
};

inline std::string EncodeForkRequest(const ForkRequest& r) {
  std::string out = r.worker_id_hex;
  out.push_back('\0');
  out += r.log_path;
  return out;
}

inline std::optional<ForkRequest> DecodeForkRequest(std::string_view m) {
  auto nul = m.find('\0');
  if (nul == std::string_view::npos || nul == 0) return std::nullopt;
  return ForkRequest{std::string(m.substr(0, nul)), std::string(m.substr(nul + 1))};
}

}  // namespace glint
