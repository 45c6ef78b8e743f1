// Objects lost with their node (raylet killed with SIGKILL) are made again
// by running the task that made them once more (lineage reconstruction), on
// a node that is left: read by their owner, by a task that takes them as an
// argument, by a borrower; a chain is made again from its start even when
// the driver let go of its first link. A task without retries leaves its
// object lost, with an error that says why.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "testing/shell.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::Contains;
using glint::testing::ReadFile;
using Blob = std::vector<uint8_t>;

// Notes in `dir` that it ran here (one line per run: this node's raylet).
void NoteRun(const std::string& dir) {
  std::ofstream(absl::StrCat(dir, "/run-", getpid(), "-", glint::IdHex(glint::RandomId())), std::ios::binary)
      << getenv("GLINT_RAYLET_ADDRESS");
}

// 1 MiB (stored, not inline), its bytes following from `seed`.
Blob Bytes(int seed) {
  Blob v(1 << 20);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 7 + seed);
  return v;
}
Blob Grown(Blob v) {
  for (auto& b : v) b = static_cast<uint8_t>(b + 1);
  v.push_back(42);
  return v;
}

Blob MakeBlob(int seed, std::string dir) {
  NoteRun(dir);
  return Bytes(seed);
}
Blob Grow(Blob v, std::string dir) {
  NoteRun(dir);
  return Grown(std::move(v));
}

uint64_t Checksum(Blob v) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : v) h = (h ^ b) * 1099511628211ull;
  return h ^ v.size();
}

// Reads the values as a borrower (the references came inside a value).
uint64_t ChecksumAll(std::vector<glint::ObjectRef<Blob>> refs) {
  uint64_t h = 0;
  for (auto& r : refs) h += Checksum(r.Get());
  return h;
}

GLINT_REMOTE(MakeBlob, Grow, Checksum, ChecksumAll);

class LineageTest : public ClusterTest {
 protected:
  // The head has no "rebuild" resource: the work that needs it runs on the
  // node each test adds, and again on a second node once the first is gone.
  static void SetUpTestSuite() { StartSuite(2, "", "lineage"); }
  void SetUp() override { runs_ = glint::testing::TempDir(); }

  // The raylets the tasks ran on, one per run.
  std::vector<std::string> Runs() {
    std::vector<std::string> out;
    for (auto& f : std::filesystem::directory_iterator(runs_)) out.push_back(ReadFile(f.path()));
    return out;
  }
  // A node with the resource `name` (each test has its own name), room
  // for two tasks that need it.
  std::string AddNode(const std::string& name) { return cluster_->AddNode(2, absl::StrCat(R"({")", name, R"(": 2})")); }
  // Waits until `ref` is done, without copying it to this node.
  template <typename T>
  static void WaitMade(const glint::ObjectRef<T>& ref) {
    ASSERT_EQ(glint::Wait(std::vector<glint::ObjectRef<T>>{ref}, 1, std::chrono::seconds(60), false).ready.size(),
              1u);
  }
  std::string runs_;
};

TEST_F(LineageTest, TheOwnerReadsALostObjectMadeAgainOnANodeThatIsLeft) {
  std::string first = AddNode("r1");
  auto ref = glint::Task(MakeBlob).SetResources({{"r1", 1}}).Remote(1, runs_);
  WaitMade(ref);
  ASSERT_EQ(Runs(), std::vector<std::string>{first});
  std::string second = AddNode("r1");
  auto killed = std::chrono::steady_clock::now();
  cluster_->KillNode(first);
  EXPECT_EQ(Checksum(ref.Get(std::chrono::seconds(60))), Checksum(Bytes(1)));
  std::cout << "[figures] the lost object read again "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed).count()
            << " ms after its node was killed" << std::endl;
  auto runs = Runs();
  EXPECT_EQ(runs.size(), 2u) << "made once more";
  EXPECT_EQ(std::count(runs.begin(), runs.end(), second), 1) << "on the node that is left";
  // Read again: the new copy, no third run.
  EXPECT_EQ(ref.Get(std::chrono::seconds(60)).size(), 1u << 20);
  EXPECT_EQ(Runs().size(), 2u);
}

TEST_F(LineageTest, ATaskWhoseArgumentWasLostGetsItMadeAgain) {
  std::string first = AddNode("r2");
  auto ref = glint::Task(MakeBlob).SetResources({{"r2", 1}}).Remote(2, runs_);
  WaitMade(ref);
  AddNode("r2");
  cluster_->KillNode(first);
  // The driver owns the argument and tells the task where it was stored.
  EXPECT_EQ(glint::Task(Checksum).Remote(ref).Get(std::chrono::seconds(60)), Checksum(Bytes(2)));
  EXPECT_EQ(Runs().size(), 2u);
}

TEST_F(LineageTest, ABorrowerAsksTheOwnerToMakeALostObjectAgain) {
  std::string first = AddNode("r3");
  std::vector<glint::ObjectRef<Blob>> refs = {glint::Task(MakeBlob).SetResources({{"r3", 1}}).Remote(3, runs_),
                                              glint::Task(MakeBlob).SetResources({{"r3", 1}}).Remote(4, runs_)};
  for (auto& r : refs) WaitMade(r);
  AddNode("r3");
  cluster_->KillNode(first);
  uint64_t want = Checksum(Bytes(3)) + Checksum(Bytes(4));
  EXPECT_EQ(glint::Task(ChecksumAll).Remote(refs).Get(std::chrono::seconds(60)), want);
  EXPECT_EQ(Runs().size(), 4u) << "each made once more";
}

TEST_F(LineageTest, AChainIsMadeAgainFromItsStartThoughTheDriverLetGoOfItsFirstLink) {
  std::string first = AddNode("r4");
  glint::ObjectRef<Blob> grown;
  {
    auto made = glint::Task(MakeBlob).SetResources({{"r4", 1}}).Remote(5, runs_);
    grown = glint::Task(Grow).SetResources({{"r4", 1}}).Remote(made, runs_);
    WaitMade(grown);
  }  // the driver holds only the end of the chain now
  ASSERT_EQ(Runs().size(), 2u);
  AddNode("r4");
  cluster_->KillNode(first);
  EXPECT_EQ(Checksum(grown.Get(std::chrono::seconds(60))), Checksum(Grown(Bytes(5))));
  EXPECT_EQ(Runs().size(), 4u) << "both links made once more";
}

TEST_F(LineageTest, AnObjectOfATaskWithoutRetriesStaysLost) {
  std::string first = AddNode("r5");
  auto ref = glint::Task(MakeBlob).SetResources({{"r5", 1}}).SetMaxRetries(0).Remote(6, runs_);
  WaitMade(ref);
  AddNode("r5");
  cluster_->KillNode(first);
  try {
    ref.Get(std::chrono::seconds(60));
    FAIL() << "a lost object without retries was read";
  } catch (const glint::ObjectLostError& e) {
    EXPECT_PRED2(Contains, e.what(), "cannot be made again");
  }
  EXPECT_EQ(Runs().size(), 1u) << "not run again";
}

}  // namespace
