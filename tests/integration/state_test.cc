// `glint list workers` and `glint list objects` across real processes (what
// each node's raylet holds now), and --filter and --limit on every listing:
// an actor's worker is listed with its pid and log file, a stored object
// with its size and where it is; filters by field, by id prefix, negated;
// a filter on a field that does not exist, or malformed, is refused.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/ids.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;

class Lister {
 public:
  static Lister* Create() { return new Lister(); }
  int Pid() { return getpid(); }
};

GLINT_REMOTE(Lister::Create, &Lister::Pid);

class StateTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2); }
  static nlohmann::json Json(const std::string& args) { return CliJson(args); }
};

TEST_F(StateTest, AnActorsWorkerIsListedWithItsPidAndLogFile) {
  auto a = glint::Actor(Lister::Create).SetName("listed-worker").Remote();
  int pid = a.Task(&Lister::Pid).Remote().Get();
  auto workers = Json("list workers --filter state=ACTOR");
  ASSERT_TRUE(workers.is_array()) << workers;
  bool found = false;
  for (auto& w : workers) {
    EXPECT_EQ(w.value("state", ""), "ACTOR") << w;
    if (w.value("pid", 0) != pid) continue;
    found = true;
    EXPECT_EQ(w.value("log_file", "").substr(0, 7), "worker-") << w;
    EXPECT_NE(w.value("log_file", "").find("-" + std::to_string(pid) + ".log"), std::string::npos) << w;
  }
  EXPECT_TRUE(found) << workers;
  auto [table, status] = Cli("list workers");
  EXPECT_EQ(status, 0);
  EXPECT_NE(table.find(std::to_string(pid)), std::string::npos) << table;
  EXPECT_NE(table.find("ACTOR"), std::string::npos) << table;
  glint::Kill(a);
}

TEST_F(StateTest, AStoredObjectIsListedAndFoundByItsIdPrefix) {
  auto ref = glint::Put(std::string(2 << 20, 'x'));  // over the inline threshold: in the node's store
  std::string hex = glint::IdHex(ref.ID()).substr(0, 12);
  auto objects = Json("list objects --filter object_id=" + hex);
  ASSERT_TRUE(objects.is_array()) << objects;
  ASSERT_EQ(objects.size(), 1u) << objects;
  EXPECT_GT(std::stoll(objects[0].value("size", "0")), 2 << 20) << objects[0];
  EXPECT_EQ(objects[0].value("state", ""), "IN_MEMORY") << objects[0];
  EXPECT_TRUE(objects[0].value("primary", false)) << objects[0];
  EXPECT_TRUE(Json("list objects --filter object_id=" + hex + " --filter state=SPILLED").empty());
  auto others = Json("list objects --filter object_id!=" + hex);
  EXPECT_EQ(others.size() + 1, Json("list objects").size()) << "!= keeps all the others";
  auto [table, status] = Cli("list objects");
  EXPECT_NE(table.find(glint::ShortHex(ref.ID())), std::string::npos) << table;
}

TEST_F(StateTest, FiltersAndLimitsWorkOnEveryListAndBadOnesAreRefused) {
  auto a = glint::Actor(Lister::Create).SetName("filtered-1").Remote();
  auto b = glint::Actor(Lister::Create).SetName("filtered-2").Remote();
  a.Task(&Lister::Pid).Remote().Get();
  b.Task(&Lister::Pid).Remote().Get();
  EXPECT_EQ(Json("list actors --filter class_name=Lister --filter state=ALIVE").size(), 2u);
  EXPECT_EQ(Json("list actors --filter name=filtered-2").size(), 1u);
  EXPECT_EQ(Json("list actors --filter class_name=Lister --limit 1").size(), 1u);
  EXPECT_EQ(Json("list nodes --filter is_head=true").size(), 1u);
  EXPECT_EQ(Json("list jobs --filter finished=false").size(), 1u) << "this driver's job";
  auto [unknown, s1] = Cli("list actors --filter colour=red");
  EXPECT_EQ(s1, 1) << unknown;
  EXPECT_NE(unknown.find("no field 'colour'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("class_name"), std::string::npos) << "the message lists the fields: " << unknown;
  auto [malformed, s2] = Cli("list actors --filter justakey");
  EXPECT_EQ(s2, 2) << malformed;
  EXPECT_NE(malformed.find("KEY=VALUE"), std::string::npos) << malformed;
  glint::Kill(a);
  glint::Kill(b);
}

}  // namespace
