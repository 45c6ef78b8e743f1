// The head's uploaded working directories (dashboard/package_store.h):
// named by their bytes, checked on arrival, unpacked for each job, and
// bounded in all with the least recently used removed first.
#include "dashboard/package_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "common/digest.h"
#include "testing/shell.h"

namespace glint::dashboard {
namespace {

namespace fs = std::filesystem;

class PackageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = testing::TempDir("glint-packages"); }

  // A packed directory holding one file `name` of `bytes` random bytes.
  std::string Package(const std::string& name, size_t bytes) {
    fs::path src = root_ / ("src-" + name);
    fs::create_directories(src);
    std::string content;
    std::mt19937 random(static_cast<unsigned>(bytes + name.size()));
    for (size_t i = 0; i < bytes; ++i) content += static_cast<char>(random());
    std::ofstream(src / name, std::ios::binary) << content;
    auto packed = PackDirectory(src.string(), kMaxPackageBytes);
    EXPECT_TRUE(packed.ok()) << packed.status();
    return packed.ok() ? packed->bytes : "";
  }
  PackageStore::Options Options(uint64_t max_total = uint64_t{1} << 30) {
    PackageStore::Options o;
    o.dir = (root_ / "packages").string();
    o.max_total_bytes = max_total;
    return o;
  }
  size_t Files() {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(root_ / "packages")) ++n;
    return n;
  }
  fs::path root_;
};

TEST_F(PackageStoreTest, APackageIsStoredUnderItsSha256AndUnpackedForEachJob) {
  PackageStore store(Options());
  std::string bytes = Package("data.bin", 1000);
  std::string sha = Sha256Hex(bytes);
  EXPECT_FALSE(store.Size(sha));
  auto missing = store.Unpack(sha, root_.string());
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
  EXPECT_NE(missing.message().find("upload it first"), std::string::npos);

  ASSERT_TRUE(store.Put(sha, bytes).ok());
  EXPECT_EQ(store.Size(sha), bytes.size());
  for (const char* job : {"job-1", "job-2"}) {
    fs::create_directories(root_ / job);
    ASSERT_TRUE(store.Unpack(sha, (root_ / job).string()).ok());
    EXPECT_EQ(fs::file_size(root_ / job / "data.bin"), 1000u);
  }
  EXPECT_EQ(Files(), 1u);  // nothing left over from the reads
}

TEST_F(PackageStoreTest, WhatIsNotAWellNamedSoundArchiveIsRefusedAndNotKept) {
  PackageStore store(Options());
  std::string bytes = Package("a", 10);
  struct Case {
    std::string name, bytes, says;
  };
  for (const Case& c : std::vector<Case>{
           {"short", bytes, "is not a package name"},
           {std::string(64, 'A'), bytes, "is not a package name"},  // upper case
           {Sha256Hex("else"), bytes, "the body's SHA-256 is " + Sha256Hex(bytes)},
           {Sha256Hex("junk"), "junk", "not an archive"},
       }) {
    auto s = store.Put(c.name, c.bytes);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.name << ": " << s;
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s;
    EXPECT_FALSE(store.Size(c.name));
  }
  EXPECT_EQ(Files(), 0u);
}

TEST_F(PackageStoreTest, TheLeastRecentlyUsedGoFirstWhenTheyDoNotAllFit) {
  std::string a = Package("a", 100000), b = Package("b", 100000), c = Package("c", 100000);
  // Room for two of them.
  PackageStore store(Options(a.size() + b.size() + c.size() - 1000));
  ASSERT_TRUE(store.Put(Sha256Hex(a), a).ok());
  ASSERT_TRUE(store.Put(Sha256Hex(b), b).ok());
  fs::create_directories(root_ / "job");
  ASSERT_TRUE(
      store.Unpack(Sha256Hex(a), (root_ / "job").string()).ok());  // a is used after b was stored
  ASSERT_TRUE(store.Put(Sha256Hex(c), c).ok());
  EXPECT_TRUE(store.Size(Sha256Hex(a)));
  EXPECT_FALSE(store.Size(Sha256Hex(b)));
  EXPECT_TRUE(store.Size(Sha256Hex(c)));
}

TEST_F(PackageStoreTest, WhatADeadDashboardLeftHalfDoneIsRemovedAtStart) {
  fs::create_directories(root_ / "packages");
  std::ofstream(root_ / "packages" / (".upload-" + std::string(64, 'a') + "-1234"))
      << "half an upload";
  std::ofstream(root_ / "packages" / (".reading-" + std::string(64, 'a') + "-1234"))
      << "a link being read";
  PackageStore store(Options());
  EXPECT_EQ(Files(), 0u);
}

}  // namespace
}  // namespace glint::dashboard
