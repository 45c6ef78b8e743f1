#include "dashboard/page.h"

namespace glint::dashboard {

extern const char kIndexHtml[];  // web/index.html

void AddPageRoutes(HttpServer* server) {
  server->Route(
      "GET", "/", [](const HttpRequest&) { return HttpResponse{200, "text/html; charset=utf-8", kIndexHtml}; },
      /*is_public=*/true);
}

}  // namespace glint::dashboard
