// The worker side of a fork server (common/fork_server_protocol.h): a
// worker process the raylet started as its job's fork server waits here,
// with the job's code loaded and before any thread starts, and forks the
// job's new workers on request.
#pragma once

namespace glint::internal {

// Returns at once in a process that is not a fork server. In one, never
// returns in the server itself (it exits when the raylet closes the
// socket), and returns in each worker it forks, with that worker's id in
// GLINT_WORKER_ID and its log file as stdout and stderr.
void ServeForksIfAsked();

}  // namespace glint::internal
