// Directories packed and unpacked (common/dir_archive.h): what a job's
// uploaded working directory goes through, including archives made to do
// harm (paths that climb out, links to write through, hard links, devices,
// archives that unpack to far more than they weigh).
#include "common/dir_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "testing/shell.h"

namespace glint {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void Write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

// One entry of an archive made by hand.
struct Entry {
  std::string path;
  unsigned type = AE_IFREG;
  std::string content;  // a file's
  std::string target;   // a link's
  size_t zeros = 0;     // a file of this many zero bytes instead of `content`
};

Entry File(std::string path, std::string content) {
  Entry e;
  e.path = std::move(path);
  e.content = std::move(content);
  return e;
}
Entry Zeros(std::string path, size_t n) {
  Entry e;
  e.path = std::move(path);
  e.zeros = n;
  return e;
}
// A link: symbolic, or a hard link to `target`.
Entry Link(std::string path, std::string target, bool hard = false) {
  Entry e;
  e.path = std::move(path);
  e.type = hard ? AE_IFREG : AE_IFLNK;
  e.target = std::move(target);
  return e;
}
Entry Device(std::string path) {
  Entry e;
  e.path = std::move(path);
  e.type = AE_IFCHR;
  return e;
}

// A gzip-compressed tar of `entries`, written as they are (no checks).
void MakeTar(const fs::path& out, const std::vector<Entry>& entries) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK);
  std::string zeros(1 << 20, '\0');
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, 0644);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, e.target.c_str());
    if (e.type == AE_IFREG && !e.target.empty())
      archive_entry_set_hardlink(entry, e.target.c_str());
    size_t size = e.zeros > 0 ? e.zeros : e.content.size();
    if (e.type == AE_IFREG && e.target.empty())
      archive_entry_set_size(entry, static_cast<la_int64_t>(size));
    ASSERT_EQ(archive_write_header(a, entry), ARCHIVE_OK) << archive_error_string(a);
    if (e.zeros > 0) {
      for (size_t left = e.zeros; left > 0; left -= std::min(left, zeros.size())) {
        archive_write_data(a, zeros.data(), std::min(left, zeros.size()));
      }
    } else if (!e.content.empty()) {
      archive_write_data(a, e.content.data(), e.content.size());
    }
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

class DirArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::TempDir("glint-dir-archive");
    fs::create_directories(root_ / "dest");
  }
  fs::path root_;
};

TEST_F(DirArchiveTest, APackedDirectoryUnpacksToTheSameTree) {
  fs::path src = root_ / "src";
  fs::create_directories(src / "sub" / "deeper");
  fs::create_directories(src / "empty");
  Write(src / "a.txt", "alpha");
  Write(src / "sub" / "deeper" / "b.bin", std::string("\0\1\2binary", 9));
  Write(src / "sub" / "run.sh", "#!/bin/sh\necho hi\n");
  fs::permissions(src / "sub" / "run.sh", fs::perms::owner_all | fs::perms::group_read);
  fs::create_symlink("../a.txt", src / "sub" / "to-a");
  ASSERT_EQ(mkfifo((src / "a-fifo").c_str(), 0600), 0);

  auto packed = PackDirectory(src.string(), 1 << 20);
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(packed->entries, 7u);  // 3 directories, 3 files, 1 link
  EXPECT_EQ(packed->skipped, 1u);  // the FIFO
  // The same tree packs to the same bytes (so the head keeps it once).
  auto again = PackDirectory(src.string(), 1 << 20);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->bytes, packed->bytes);

  Write(root_ / "p.tgz", packed->bytes);
  ASSERT_TRUE(CheckArchive((root_ / "p.tgz").string()).ok());
  auto s = UnpackArchive((root_ / "p.tgz").string(), (root_ / "dest").string());
  ASSERT_TRUE(s.ok()) << s;
  fs::path d = root_ / "dest";
  EXPECT_EQ(Slurp(d / "a.txt"), "alpha");
  EXPECT_EQ(Slurp(d / "sub" / "deeper" / "b.bin"), std::string("\0\1\2binary", 9));
  EXPECT_EQ(fs::status(d / "sub" / "run.sh").permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_read);
  EXPECT_TRUE(fs::is_directory(d / "empty"));
  EXPECT_TRUE(fs::is_symlink(d / "sub" / "to-a"));
  EXPECT_EQ(fs::read_symlink(d / "sub" / "to-a"), "../a.txt");
  EXPECT_EQ(Slurp(d / "sub" / "to-a"), "alpha");
  EXPECT_FALSE(fs::exists(d / "a-fifo"));
}

TEST_F(DirArchiveTest, WhatTheIgnoreRulesLeaveOutIsNotPackedNorWalked) {
  fs::path src = root_ / "src";
  fs::create_directories(src / "build" / "deep");
  fs::create_directories(src / "sub");
  Write(src / ".gitignore", "build/\n*.log\n");
  Write(src / "main.cc", "int main() {}");
  Write(src / "run.log", "noise");
  Write(src / "build" / "deep" / "obj.o", "object");
  Write(src / "sub" / ".gitignore", "!keep.log\n");
  Write(src / "sub" / "keep.log", "kept");
  Write(src / "sub" / "data.bak", "old");

  IgnoreRules ignore(src.string(), {"*.bak"}, /*read_gitignore=*/true);
  auto packed = PackDirectory(src.string(), 1 << 20, {}, &ignore);
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(packed->ignored, 3u);  // build/ (once, with what it holds), run.log, sub/data.bak
  Write(root_ / "p.tgz", packed->bytes);
  ASSERT_TRUE(UnpackArchive((root_ / "p.tgz").string(), (root_ / "dest").string()).ok());
  std::vector<std::string> got;
  for (const auto& e : fs::recursive_directory_iterator(root_ / "dest")) {
    got.push_back(e.path().lexically_relative(root_ / "dest").generic_string());
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{".gitignore", "main.cc", "sub", "sub/.gitignore", "sub/keep.log"}));
}

TEST_F(DirArchiveTest, PackingStopsAtItsBoundsSayingWhich) {
  fs::path src = root_ / "src";
  fs::create_directories(src);
  std::string noise;  // does not compress
  std::mt19937 random(7);
  for (int i = 0; i < 200000; ++i) noise += static_cast<char>(random());
  Write(src / "noise", noise);
  auto small = PackDirectory(src.string(), 64 << 10);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("packs to more than 65536 bytes"), std::string::npos)
      << small.status();
  ArchiveLimits limits;
  limits.max_unpacked_bytes = 1000;
  auto few = PackDirectory(src.string(), 1 << 20, limits);
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.status().message().find("holds more than 1000 bytes"), std::string::npos)
      << few.status();
  EXPECT_FALSE(PackDirectory((root_ / "no-such").string(), 1 << 20).ok());
}

TEST_F(DirArchiveTest, ArchivesMadeToHarmAreRefusedAndWriteNothingOutside) {
  fs::path outside = root_ / "outside";
  fs::create_directories(outside);
  struct Case {
    std::string name;
    std::vector<Entry> entries;
    std::string says;
  };
  std::vector<Case> cases = {
      {"climbs", {File("ok.txt", "x"), File("../outside/climbed", "x")}, "climbs out"},
      {"hidden climb", {File("a/../../outside/climbed", "x")}, "climbs out"},
      {"absolute", {File((outside / "absolute").string(), "x")}, "absolute path"},
      // A link to outside, then a file written "through" it.
      {"through a link",
       {Link("link", outside.string()), File("link/through", "x")},
       "cannot unpack"},
      {"hard link",
       {Link("hard", "/etc/passwd", /*hard=*/true)},
       "not a file, a directory or a symbolic link"},
      {"device", {Device("dev")}, "not a file, a directory or a symbolic link"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    fs::path tar = root_ / "evil.tgz";
    MakeTar(tar, c.entries);
    fs::path dest = root_ / ("dest-" + std::to_string(&c - cases.data()));
    fs::create_directories(dest);
    auto s = UnpackArchive(tar.string(), dest.string());
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s;
    if (c.name != "through a link") {  // refused before anything is written, when checked alone too
      EXPECT_FALSE(CheckArchive(tar.string()).ok());
    }
    EXPECT_TRUE(fs::is_empty(outside))
        << "written outside: " << fs::begin(fs::directory_iterator(outside))->path();
  }
}

TEST_F(DirArchiveTest, AnArchiveThatUnpacksToMoreThanItsBoundIsStoppedThere) {
  // 8 MiB of zeros weigh a few KiB packed.
  fs::path tar = root_ / "bomb.tgz";
  MakeTar(tar, {Zeros("zeros", 8 << 20)});
  ASSERT_LT(fs::file_size(tar), 64u << 10);
  ArchiveLimits limits;
  limits.max_entries = 10;
  limits.max_unpacked_bytes = 1 << 20;
  auto checked = CheckArchive(tar.string(), limits);
  EXPECT_FALSE(checked.ok());
  auto s = UnpackArchive(tar.string(), (root_ / "dest").string(), limits);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unpacks to more than 1048576 bytes"), std::string::npos) << s;
  // Too many entries, however small.
  std::vector<Entry> many;
  for (int i = 0; i < 11; ++i) many.push_back(File("f" + std::to_string(i), "x"));
  MakeTar(tar, many);
  auto counted = CheckArchive(tar.string(), limits);
  ASSERT_FALSE(counted.ok());
  EXPECT_NE(counted.message().find("more than 10 entries"), std::string::npos) << counted;
  // And what is no archive at all.
  Write(tar, "plain words, no archive");
  auto garbage = CheckArchive(tar.string());
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.message().find("not an archive"), std::string::npos) << garbage;
}

}  // namespace
}  // namespace glint
