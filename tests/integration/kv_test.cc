// The cluster's key-value store (glint/kv.h) across real processes: what a
// driver writes another driver and the cluster's tasks read, after the
// writer has gone; namespaces keep keys apart; overwrite, delete by prefix
// and listing keys; keys and values out of bounds are refused with an error
// saying which, and the store goes on. (Surviving a GCS restart:
// tests/fault/gcs_restart_test.cc.)
// This program is also the second driver (`kv_integration_test driver ...`).
#include <glint/api.h>
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "common/process.h"
#include "common/rpc.h"
#include "proto/gcs.grpc.pb.h"
#include "testing/driver_process.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::Contains;
using glint::testing::ErrorOf;
using glint::testing::RunToEnd;

std::string ReadKey(std::string key, std::string ns) { return glint::kv::Get(key, ns).value_or("NONE"); }

GLINT_REMOTE(ReadKey);

class KvTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2); }
};

TEST_F(KvTest, WhatOneDriverWritesAnotherAndTheClustersTasksRead) {
  // A driver that writes and exits.
  ASSERT_EQ(RunToEnd(cluster_->gcs_address(), {"put", "shared/model", "v7"}), "PUT 1");
  EXPECT_EQ(glint::kv::Get("shared/model"), "v7");
  EXPECT_EQ(glint::Task(ReadKey).Remote("shared/model", "").Get(std::chrono::seconds(60)), "v7");
  // Binary values come back byte for byte.
  std::string bytes("a\0b\xff", 4);
  glint::kv::Put("shared/bytes", bytes);
  EXPECT_EQ(RunToEnd(cluster_->gcs_address(), {"get", "shared/bytes"}), "GOT 4");
}

TEST_F(KvTest, NamespacesKeepKeysApart) {
  glint::kv::Put("k", "in a", true, "a");
  glint::kv::Put("k", "in b", true, "b");
  EXPECT_EQ(glint::kv::Get("k", "a"), "in a");
  EXPECT_EQ(glint::kv::Get("k", "b"), "in b");
  EXPECT_EQ(glint::kv::Get("k", "c"), std::nullopt);
  EXPECT_EQ(glint::Task(ReadKey).Remote("k", "b").Get(std::chrono::seconds(60)), "in b");
}

TEST_F(KvTest, OverwriteDeleteByPrefixAndKeys) {
  EXPECT_TRUE(glint::kv::Put("x", "1", true, "ops"));
  EXPECT_FALSE(glint::kv::Put("x", "2", /*overwrite=*/false, "ops"));
  EXPECT_EQ(glint::kv::Get("x", "ops"), "1") << "kept without overwrite";
  EXPECT_FALSE(glint::kv::Put("x", "3", true, "ops")) << "not new";
  EXPECT_EQ(glint::kv::Get("x", "ops"), "3");
  for (auto k : {"job/1", "job/2", "job/3", "jobs", "other"}) glint::kv::Put(k, "v", true, "ops");
  EXPECT_EQ(glint::kv::Keys("job/", "ops"), (std::vector<std::string>{"job/1", "job/2", "job/3"}));
  EXPECT_TRUE(glint::kv::Exists("job/2", "ops"));
  {  // Exists asks for no value, and the GCS sends none.
    auto kv = glint::MakeStub<glint::proto::KvService>(cluster_->gcs_address());
    glint::proto::KvGetRequest ask;
    ask.set_ns("ops");
    ask.set_key("x");
    ask.set_exists_only(true);
    grpc::ClientContext ctx;
    glint::proto::KvGetReply found;
    ASSERT_TRUE(kv->Get(&ctx, ask, &found).ok());
    EXPECT_TRUE(found.found());
    EXPECT_EQ(found.value(), "");
  }
  EXPECT_EQ(glint::kv::Delete("job/", /*by_prefix=*/true, "ops"), 3);
  EXPECT_FALSE(glint::kv::Exists("job/2", "ops"));
  EXPECT_EQ(glint::kv::Delete("nothing", false, "ops"), 0);
  EXPECT_EQ(glint::kv::Keys("", "ops"), (std::vector<std::string>{"jobs", "other", "x"}));
}

TEST_F(KvTest, KeysAndValuesOutOfBoundsAreRefusedAndTheStoreGoesOn) {
  EXPECT_PRED2(Contains, ErrorOf([] { glint::kv::Put("", "v"); }), "1 to 1024 bytes");
  EXPECT_PRED2(Contains, ErrorOf([] { glint::kv::Put(std::string(1025, 'k'), "v"); }), "1 to 1024 bytes");
  EXPECT_PRED2(Contains, ErrorOf([] { glint::kv::Put("big", std::string((8 << 20) + 1, 'v')); }), "at most");
  EXPECT_PRED2(Contains, ErrorOf([] { glint::kv::Get("k", std::string("a\0b", 3)); }), "namespace");
  EXPECT_TRUE(glint::kv::Put("after", "fine"));
  EXPECT_EQ(glint::kv::Get("after"), "fine");
}

}  // namespace

// Driver modes (GLINT_ADDRESS set by the test):
//   put KEY VALUE   "PUT <1 if new>"
//   get KEY         "GOT <size of the value>" or "NONE"
int main(int argc, char** argv) {
  if (std::getenv("GLINT_WORKER_MODE")) glint::Init();
  if (argc >= 4 && std::string(argv[1]) == "driver") {
    glint::Init();
    std::string mode = argv[2];
    if (mode == "put" && argc == 5) {
      std::cout << "PUT " << glint::kv::Put(argv[3], argv[4]) << std::endl;
    } else if (mode == "get") {
      auto v = glint::kv::Get(argv[3]);
      std::cout << (v ? "GOT " + std::to_string(v->size()) : "NONE") << std::endl;
    }
    glint::Shutdown();
    return 0;
  }
  glint::testing::SetDriverProgram(glint::SelfExePath());
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
