// Objects pulled between nodes through real processes (raylet/
// object_puller.h). In chunks, as between hosts (the nodes here told not to
// copy through memory): a node pulling an object reads it from every node
// that holds a copy, not only the primary, every byte once; a holder that is
// gone does not fail the pull (its chunks come from the primary). Between
// nodes of one host (raylet/same_host_copy.h): the object is copied whole
// from the holder's arena, no chunk is served, the loan is given back, and
// the copy goes when the object is freed, pulls landing again and again in
// one range arrive whole; a holder that does not lend is read in chunks.
#include <glint/api.h>
#include <gtest/gtest.h>

#include "common/rpc.h"
#include "proto/raylet.grpc.pb.h"
#include "integration/test_functions.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::WaitUntil;

using tf::Fill;

// Reads every byte: a value that arrived whole and unchanged gives the same sum.
uint64_t Checksum(std::vector<uint8_t> v) { return tf::Checksum(v.data(), v.size()); }

// Made on the node it runs on (its primary copy stays there).
std::vector<uint8_t> Made(int64_t size, int seed) { return Fill(static_cast<size_t>(size), static_cast<uint8_t>(seed)); }

GLINT_REMOTE(Checksum, Made);

constexpr size_t kSize = 64 << 20;  // 16 chunks

// Bytes of objects other nodes read from this node's store.
int64_t Served(const std::string& raylet) { return glint::testing::StoreInfo(raylet).bytes_served(); }

// The objects on a node, by id (as `glint list objects` shows them).
std::map<std::string, glint::proto::ObjectState> Objects(const std::string& raylet) {
  auto stub = glint::MakeStub<glint::proto::NodeStateService>(raylet);
  grpc::ClientContext ctx;
  glint::SetDeadlineMs(&ctx, 5000);
  glint::proto::ListObjectsRequest req;
  req.set_limit(1000);
  glint::proto::ListObjectsReply reply;
  EXPECT_TRUE(stub->ListObjects(&ctx, req, &reply).ok()) << raylet;
  std::map<std::string, glint::proto::ObjectState> out;
  for (auto& o : reply.objects()) out[o.object_id()] = o;
  return out;
}

// A head (the driver's node, holding the primary copies of what it puts)
// and nodes B, C and D; `flags` for every raylet but D's, which has `d_flags`.
class TransferTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { Start({"--same_host_copy=false"}, {"--same_host_copy=false"}); }
  static void Start(const std::vector<std::string>& flags, const std::vector<std::string>& d_flags) {
    cluster_ = new glint::testing::TestCluster(2, "", flags);
    for (const char* name : {"B", "C", "D"}) {
      nodes_[name] =
          cluster_->AddNode(1, std::string(R"({"node)") + name + R"(": 100})", name[0] == 'D' ? d_flags : flags);
    }
    glint::Config c;
    c.address = cluster_->gcs_address();
    glint::Init(c);
  }
  // Reads `ref` in a task on node `name` (which pulls it there).
  static uint64_t ReadOn(const std::string& name, const glint::ObjectRef<std::vector<uint8_t>>& ref) {
    return glint::Task(Checksum).SetResources({{"node" + name, 1}}).Remote(ref).Get(std::chrono::seconds(120));
  }
  static int64_t ServedBy(const std::string& name) {
    return Served(name == "head" ? cluster_->head_raylet_address() : nodes_[name]);
  }
  static inline std::map<std::string, std::string> nodes_;
};

TEST_F(TransferTest, ASecondNodeReadsFromTheFirstNodesCopyAsWellAsFromThePrimary) {
  auto data = Fill(kSize, 7);
  auto ref = glint::Put(data);
  const int64_t head0 = ServedBy("head"), b0 = ServedBy("B");
  ASSERT_EQ(ReadOn("B", ref), Checksum(data));
  const int64_t stored = ServedBy("head") - head0;  // the packed value: the bytes and a few of msgpack's
  EXPECT_TRUE(stored >= static_cast<int64_t>(kSize) && stored < static_cast<int64_t>(kSize) + 64)
      << "node B read it all from the primary: " << stored;
  EXPECT_EQ(ServedBy("B"), b0);
  ASSERT_EQ(ReadOn("C", ref), Checksum(data));
  const int64_t from_b = ServedBy("B") - b0, from_head = ServedBy("head") - head0 - stored;
  EXPECT_GT(from_b, 0) << "node C read chunks from node B's copy";
  EXPECT_GT(from_head, 0) << "and from the primary";
  EXPECT_EQ(from_b + from_head, stored) << "every byte once";
  EXPECT_EQ(HeadMetric("glint_object_store_served_bytes_total{"), static_cast<double>(ServedBy("head"))) << "on /metrics too";
}

// Last: it kills node D.
TEST_F(TransferTest, ZZAHolderThatIsGoneDoesNotFailThePull) {
  auto data = Fill(kSize, 9);
  auto ref = glint::Put(data);
  int64_t head0 = ServedBy("head");
  ASSERT_EQ(ReadOn("D", ref), Checksum(data));
  const int64_t stored = ServedBy("head") - head0;
  cluster_->KillNode(nodes_["D"]);
  head0 = ServedBy("head");
  EXPECT_EQ(ReadOn("C", ref), Checksum(data)) << "node D is named as a holder, but gone";
  EXPECT_EQ(ServedBy("head") - head0, stored) << "so the primary gave every chunk";
}

// The same nodes, copying through memory: node D alone does not lend.
class SameHostTransferTest : public TransferTest {
 protected:
  static void SetUpTestSuite() { Start({}, {"--same_host_copy=false"}); }
};

TEST_F(SameHostTransferTest, ANodeOfThisHostCopiesTheWholeObjectFromTheHoldersMemory) {
  auto data = Fill(kSize, 5);
  auto ref = glint::Put(data);
  const int64_t head0 = ServedBy("head");
  ASSERT_EQ(ReadOn("B", ref), Checksum(data));
  EXPECT_EQ(ServedBy("head"), head0) << "no chunk went over the network";
  EXPECT_EQ(Objects(nodes_["B"]).count(ref.ID()), 1u) << "node B holds a copy";
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto objects = Objects(cluster_->head_raylet_address());
        auto it = objects.find(ref.ID());
        return it != objects.end() && it->second.pins() == 0;
      },
      std::chrono::seconds(30)))
      << "the loan was given back (the primary copy still here, unpinned)";
  // Node C copies it from the primary too (a copy is lent by the primary only).
  ASSERT_EQ(ReadOn("C", ref), Checksum(data));
  EXPECT_EQ(ServedBy("head"), head0);
  // Freed, the copies go: the holder knew who had copied it.
  const std::string id = ref.ID();
  ref = {};
  EXPECT_TRUE(WaitUntil([&] { return Objects(nodes_["B"]).count(id) == 0 && Objects(nodes_["C"]).count(id) == 0; },
                        std::chrono::seconds(30)))
      << "the copies on B and C were dropped with the object";
}

// Pulls that keep landing in the same range of node B's store go through
// its mapping of that range after a few (ObjectStore::kCopiesBeforeMapping);
// every pull, before and after, arrives whole (in two parts: 64 MiB).
TEST_F(SameHostTransferTest, PullsThatKeepLandingInOneRangeArriveWhole) {
  for (int i = 0; i < 6; ++i) {
    auto data = Fill(kSize, static_cast<uint8_t>(20 + i));
    auto ref = glint::Put(data);
    ASSERT_EQ(ReadOn("B", ref), Checksum(data)) << "pull " << i;
    const std::string id = ref.ID();
    ref = {};
    ASSERT_TRUE(WaitUntil([&] { return Objects(nodes_["B"]).count(id) == 0; }, std::chrono::seconds(30)))
        << "B's copy goes, so the next pull lands in the same range";
  }
}

TEST_F(SameHostTransferTest, AHolderThatDoesNotLendIsReadInChunks) {
  auto data = Fill(kSize, 3);
  auto made_on_d = glint::Task(Made).SetResources({{"nodeD", 1}}).Remote(static_cast<int64_t>(kSize), 3);
  const int64_t d0 = ServedBy("D");
  ASSERT_EQ(ReadOn("B", made_on_d), Checksum(data));
  EXPECT_GE(ServedBy("D") - d0, static_cast<int64_t>(kSize)) << "node D served it in chunks";
}

}  // namespace
