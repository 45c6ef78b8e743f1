// The dashboard's page and the cluster API behind it, across real
// processes: /api/cluster shows what the GCS holds (a named actor this
// driver just made among it) to a client with the token only, and the page,
// opened in a real headless Chromium, shows that actor; with a wrong token
// it shows nothing of the cluster. Skipped, saying so, without chromium.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/ids.h"
#include "testing/shell.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::Contains;
using glint::testing::WaitUntil;

class Shown {
 public:
  static Shown* Create() { return new Shown(); }
  int Ping() { return 1; }
  int Say(std::string what) {
    std::cout << what << std::endl;
    return 1;
  }
};
GLINT_REMOTE(Shown::Create, &Shown::Ping, &Shown::Say);

class DashboardTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2, "", "dashboard-test", {}, {}, /*dashboard=*/true); }

  static glint::HttpReply Get(const std::string& target, const std::string& token) {
    glint::HttpCallOptions o;
    o.token = token;
    auto r = glint::HttpCall(cluster_->dashboard_address(), "GET", target, "", o);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : glint::HttpReply{};
  }

  // The page's DOM once its script ran, as headless Chromium renders it at
  // `url` ("" when chromium is missing: *why_not says so).
  static std::string RenderedPage(const std::string& url, std::string* why_not) {
    int status = 0;
    std::string chromium = glint::testing::RunCommand("command -v chromium || command -v chromium-browser", &status);
    while (!chromium.empty() && chromium.back() == '\n') chromium.pop_back();
    if (chromium.empty()) {
      *why_not = "chromium is not installed (Debian package chromium): the page is not checked in a browser";
      return "";
    }
    auto profile = std::filesystem::temp_directory_path() / ("glint-chromium-" + std::to_string(getpid()));
    std::filesystem::create_directories(profile);
    // Root needs --no-sandbox; the virtual time budget lets the script fetch
    // and render before the DOM is dumped (bounded by the timeout).
    std::string dom = glint::testing::RunCommand(
        "timeout 60 " + chromium +
            " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --user-data-dir=" +
            profile.string() + " --virtual-time-budget=10000 --dump-dom '" + url + "' 2> /dev/null",
        &status);
    std::filesystem::remove_all(profile);
    return dom;
  }
};

TEST_F(DashboardTest, TheClusterApiShowsWhatTheGcsHoldsToTheTokenOnly) {
  auto actor = glint::Actor(Shown::Create).SetName("in-the-api").Remote();
  ASSERT_EQ(actor.Task(&Shown::Ping).Remote().Get(), 1);
  auto r = Get("/api/cluster", cluster_->auth_token());
  ASSERT_EQ(r.status, 200) << r.body;
  auto c = nlohmann::json::parse(r.body, nullptr, false);
  ASSERT_TRUE(c.is_object()) << r.body;
  EXPECT_TRUE(c["errors"].empty()) << c["errors"];
  ASSERT_EQ(c["nodes"].size(), 1u) << c["nodes"];
  EXPECT_EQ(c["nodes"][0]["alive"], true);
  EXPECT_EQ(c["nodes"][0]["total_resources"]["CPU"], 2);
  bool found = false;
  for (auto& a : c["actors"]) {
    if (a["name"] == "in-the-api") {
      found = true;
      EXPECT_EQ(a["state"], "ALIVE") << a;
      EXPECT_EQ(a["ray_namespace"], "dashboard-test") << a;
      EXPECT_GT(a["pid"].get<int>(), 0) << a;
      EXPECT_FALSE(a.contains("creation_task")) << "the page gets no call arguments";
    }
  }
  EXPECT_TRUE(found) << c["actors"];
  EXPECT_FALSE(c["drivers"].empty());
  // Without the token: nothing of the cluster; the page itself holds no data.
  EXPECT_EQ(Get("/api/cluster", "").status, 401);
  EXPECT_EQ(Get("/api/cluster", cluster_->auth_token() + "0").status, 401);
  auto page = Get("/", "");
  EXPECT_EQ(page.status, 200);
  EXPECT_PRED2(Contains, page.content_type, "text/html");
  EXPECT_PRED2(Contains, page.body, "<title>Glint dashboard</title>");
  EXPECT_FALSE(Contains(page.body, "in-the-api"));
  glint::Kill(actor);
}

TEST_F(DashboardTest, AnActorsLogIsReadFromItsNode) {
  auto actor = glint::Actor(Shown::Create).SetName("with-a-log").Remote();
  ASSERT_EQ(actor.Task(&Shown::Say).Remote(std::string("a line for the dashboard")).Get(), 1);
  const std::string path = "/api/actors/" + glint::IdHex(actor.ID()) + "/log";
  nlohmann::json log;
  EXPECT_TRUE(WaitUntil([&] {  // the worker's output reaches its file as it prints
    log = nlohmann::json::parse(Get(path + "?tail=50", cluster_->auth_token()).body, nullptr, false);
    return log.is_object() && Contains(log.value("log", ""), "a line for the dashboard");
  })) << log;
  EXPECT_EQ(log.value("file", "").rfind("worker-", 0), 0u) << log;
  EXPECT_EQ(Get("/api/actors/00112233445566778899aabbccddeeff/log", cluster_->auth_token()).status, 404);
  EXPECT_EQ(Get(path + "?tail=0", cluster_->auth_token()).status, 400);
  EXPECT_EQ(Get(path, "").status, 401);
  glint::Kill(actor);
}

TEST_F(DashboardTest, ThePageInChromiumShowsANamedActorJustMade) {
  auto actor = glint::Actor(Shown::Create).SetName("seen-in-the-browser").Remote();
  ASSERT_EQ(actor.Task(&Shown::Ping).Remote().Get(), 1);
  // The call is in the task table (reported within a second) before the page loads.
  ASSERT_TRUE(WaitUntil([] { return Contains(Get("/api/cluster", cluster_->auth_token()).body, "Shown::Ping"); }));
  const std::string base = "http://" + cluster_->dashboard_address() + "/";
  std::string why_not;
  std::string dom = RenderedPage(base + "#token=" + cluster_->auth_token(), &why_not);
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  ASSERT_PRED2(Contains, dom, "<title>Glint dashboard</title>");
  // The actors table, filled by the page's script from /api/cluster.
  auto row = dom.find("<td>seen-in-the-browser</td>");
  ASSERT_NE(row, std::string::npos) << dom;
  auto row_end = dom.find("</tr>", row);
  std::string cells = dom.substr(row, row_end - row);
  EXPECT_PRED2(Contains, cells, "ALIVE");
  EXPECT_PRED2(Contains, cells, "dashboard-test");
  EXPECT_PRED2(Contains, cells, "<a>log</a>");  // its log, one click away
  EXPECT_PRED2(Contains, dom, "(head)");  // the node table
  EXPECT_PRED2(Contains, dom, "Shown::Ping");  // the task summary
  // A wrong token: the page asks for the right one and shows nothing else.
  std::string refused = RenderedPage(base + "#token=wrong", &why_not);
  EXPECT_PRED2(Contains, refused, "not this cluster");
  EXPECT_FALSE(Contains(refused, "seen-in-the-browser"));
  glint::Kill(actor);
}

}  // namespace
