// An actor's log, for the page's actor table:
//   GET /api/actors/{actor id, hex}/log[?tail=N]
//     -> {"node": hex, "file": "worker-....log", "log": "...", "size": bytes}
// The actor's worker wrote it on its node; the dashboard reads its last N
// lines (200 by default, at most 10,000 and 1 MiB) from that node's raylet
// (its log service, as `glint logs --actor` does). 404 for an unknown actor,
// 409 for one that never ran in a worker. Behind the cluster token.
#pragma once
#include <string>

#include "common/http_server.h"

namespace glint::dashboard {

void AddLogRoutes(HttpServer* server, const std::string& gcs_address);

}  // namespace glint::dashboard
