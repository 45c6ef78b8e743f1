// What a job's working directory upload leaves out (common/ignore_rules.h):
// .gitignore's pattern syntax, given as --exclude patterns and read from the
// directory's .gitignore files, each applying to its own tree; the last
// pattern that matches decides. (Packing with them: dir_archive_test.cc.)
#include "common/ignore_rules.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "testing/shell.h"

namespace glint {
namespace {

namespace fs = std::filesystem;

struct Case {
  const char* path;
  bool is_dir;
  bool ignored;
};

void Check(const std::vector<std::string>& excludes, const std::vector<Case>& cases) {
  IgnoreRules rules(testing::TempDir("glint-ignore-rules"), excludes, /*read_gitignore=*/false);
  for (const auto& c : cases) {
    EXPECT_EQ(rules.Ignored(c.path, c.is_dir), c.ignored)
        << "'" << c.path << "'" << (c.is_dir ? " (a directory)" : "") << " with "
        << ::testing::PrintToString(excludes);
  }
}

TEST(IgnoreRulesTest, APatternWithoutASlashMatchesANameAtAnyDepth) {
  Check({"*.log", "tmp?", "[ab].txt"}, {{"x.log", false, true},
                                        {"a/b/x.log", false, true},
                                        {"x.log.txt", false, false},
                                        {"tmp1", true, true},
                                        {"deep/tmp2", false, true},
                                        {"tmp12", false, false},
                                        {"a.txt", false, true},
                                        {"c.txt", false, false},
                                        {".hidden.log", false, true}});
}

TEST(IgnoreRulesTest, ASlashAnchorsAndATrailingSlashMeansADirectory) {
  Check({"/out", "build/", "docs/api"}, {{"out", false, true},
                                         {"src/out", false, false},
                                         {"build", true, true},
                                         {"build", false, false},
                                         {"src/build", true, true},
                                         {"docs/api", true, true},
                                         {"x/docs/api", true, false}});
}

TEST(IgnoreRulesTest, TwoStarsStandForAnyDirectoriesAndALaterBangTakesBack) {
  Check({"**/cache", "data/**/*.csv", "logs/**", "*.log", "!keep.log", "#comment", "", "\\#hash"},
        {{"cache", true, true},
         {"a/b/cache", true, true},
         {"data/x.csv", false, true},
         {"data/a/b/x.csv", false, true},
         {"other/data/x.csv", false, false},
         {"logs", true, false},  // what is inside, not the directory
         {"logs/a/b", false, true},
         {"x.log", false, true},
         {"sub/keep.log", false, false},
         {"#comment", false, false},
         {"#hash", false, true}});
}

TEST(IgnoreRulesTest, EachGitignoreAppliesToItsOwnTreeAfterThoseAbove) {
  fs::path root = testing::TempDir("glint-ignore-rules");
  fs::create_directories(root / "sub");
  std::ofstream(root / ".gitignore") << "# top\n*.tmp\n/only-top\nbig/\n";
  std::ofstream(root / "sub" / ".gitignore") << "!*.tmp\n/local\n";
  IgnoreRules rules(root.string(), {"*.bak"}, /*read_gitignore=*/true);
  EXPECT_TRUE(rules.Ignored("a.tmp", false));
  EXPECT_FALSE(rules.Ignored("sub/a.tmp", false)) << "the deeper file takes it back";
  EXPECT_TRUE(rules.Ignored("only-top", false));
  EXPECT_FALSE(rules.Ignored("sub/only-top", false)) << "anchored to the top";
  EXPECT_TRUE(rules.Ignored("sub/local", false));
  EXPECT_FALSE(rules.Ignored("local", false)) << "anchored to sub/";
  EXPECT_TRUE(rules.Ignored("sub/big", true));
  EXPECT_TRUE(rules.Ignored("sub/x.bak", false)) << "an --exclude pattern";
  EXPECT_FALSE(rules.Ignored(".gitignore", false));

  IgnoreRules without(root.string(), {"*.bak"}, /*read_gitignore=*/false);
  EXPECT_FALSE(without.Ignored("a.tmp", false));
  EXPECT_TRUE(without.Ignored("x.bak", false));
}

}  // namespace
}  // namespace glint
