// The dashboard's web page: one HTML file (web/index.html, built into the
// binary) served at "/" without the token, since it holds no data; its
// script asks /api/cluster and /api/jobs/ for everything, with the token
// the user gives it (pasted, or in the address as #token=..., which never
// reaches the server), and refreshes itself every 2 s.
#pragma once
#include "common/http_server.h"

namespace glint::dashboard {

void AddPageRoutes(HttpServer* server);

}  // namespace glint::dashboard
