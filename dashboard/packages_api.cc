#include "dashboard/packages_api.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace glint::dashboard {
namespace {

HttpResponse Described(const std::string& sha256, uint64_t size) {
  return {200, "application/json", nlohmann::json{{"sha256", sha256}, {"size", size}}.dump()};
}

}  // namespace

void AddPackageRoutes(HttpServer* server, PackageStore* packages, bool auth_enabled) {
  server->Route("GET", "/api/packages/{}", [packages](const HttpRequest& r) {
    auto size = packages->Size(r.params[0]);
    if (!size)
      return HttpError(404, absl::StrCat("there is no package '", r.params[0], "' on the head"));
    return Described(r.params[0], *size);
  });
  server->Route(
      "PUT", "/api/packages/{}",
      [packages, auth_enabled](const HttpRequest& r) {
        if (!auth_enabled) {
          return HttpError(
              403,
              "this cluster was started with authentication disabled; it takes no packages for "
              "jobs (start it with a token)");
        }
        auto s = packages->Put(r.params[0], r.body);
        if (!s.ok())
          return HttpError(s.code() == absl::StatusCode::kInvalidArgument ? 400 : 503,
                           std::string(s.message()));
        return Described(r.params[0], r.body.size());
      },
      /*is_public=*/false, kMaxPackageBytes);
}

}  // namespace glint::dashboard
