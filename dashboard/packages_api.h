// Uploaded working directories on the dashboard port (package_store.h):
//   GET /api/packages/{sha256}  -> {"sha256": ..., "size": N}, or 404 when not here
//   PUT /api/packages/{sha256}  body: the archive (at most 100 MiB) -> {"sha256": ..., "size": N}
// A job then names it as its working directory: "working_dir":
// "package://<sha256>" (or Ray's place, runtime_env.working_dir). Storing
// files for jobs to run with asks the cluster's token, as every route does,
// and a cluster started with authentication disabled refuses it (403), as
// it refuses to run jobs.
#pragma once
#include "common/http_server.h"
#include "dashboard/package_store.h"

namespace glint::dashboard {

void AddPackageRoutes(HttpServer* server, PackageStore* packages, bool auth_enabled);

}  // namespace glint::dashboard
