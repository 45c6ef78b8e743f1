// The jobs API on the dashboard port, as Ray's job REST API:
//   POST /api/jobs/                 {"entrypoint": "...", "submission_id"?, "metadata"?, "working_dir"?}
//                                   -> {"submission_id": "..."}
//   GET  /api/jobs/                 -> [job, ...] (oldest first)
//   GET  /api/jobs/{id}             -> job
//   GET  /api/jobs/{id}/logs[?offset=N&limit=M] -> {"logs": "...", "next_offset": N}
//   POST /api/jobs/{id}/stop        -> {"stopped": true if it was running}
// A job is {"submission_id", "entrypoint", "status" (PENDING, RUNNING,
// STOPPED, SUCCEEDED, FAILED), "message", "metadata", "working_dir" (asked:
// an absolute path on the head, or "package://<sha256>" for an uploaded one,
// packages_api.h, which the job runs in a fresh copy of; shown: where it
// runs), "package" (the uploaded one's SHA-256, else ""),
// "submitted_ms", "start_ms", "end_ms", "driver_pid", "driver_exit_code"
// (null until it exited), "log_file"}. Errors are {"error": "..."} with
// 400 (a bad request), 403, 404, 409 (the id is taken), 429, 503.
//
// Submitting and stopping run code on the cluster: they need its token
// (the server asks every request for it), and a cluster started with
// authentication disabled refuses them (403) rather than run anyone's code.
#pragma once
#include "common/http_server.h"
#include "dashboard/job_supervisor.h"

#include <nlohmann/json.hpp>

namespace glint::dashboard {

void AddJobRoutes(HttpServer* server, JobSupervisor* jobs, bool auth_enabled);

// A job record as the API shows it.
nlohmann::json JobJson(const proto::JobSubmission& job);
// A status as the API and the metrics name it: PENDING, RUNNING, STOPPED, SUCCEEDED, FAILED.
std::string JobStatusName(proto::JobStatus s);

}  // namespace glint::dashboard
