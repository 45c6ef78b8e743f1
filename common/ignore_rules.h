// IgnoreRules: which paths of a directory are left out when it is packed
// for upload (a job's working directory), by patterns in the syntax of
// .gitignore files, as Ray's `excludes` and its reading of .gitignore go:
//
//   *.log     a name at any depth ("*", "?" and "[a-z]" within one name)
//   build/    a directory only (and so everything in it)
//   /out      anchored: a pattern with a "/" at its start or in its middle
//   data/*.csv, docs/**/tmp, logs/**    "**" stands for any number of
//             directories (at the end: everything inside)
//   !keep.log a later "!" pattern takes a path back in
//   # ...     a comment; blank lines are skipped
//
// The patterns given (`excludes`) apply from the root, after the root's
// .gitignore; each .gitignore below applies to its own directory's tree,
// after those above it; the last pattern that matches decides. As in git,
// nothing inside a directory left out can be taken back in (the directory
// is not walked). Not thread-safe.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace glint {

class IgnoreRules {
 public:
  // `root`: the directory; `excludes`: patterns relative to it; with
  // `read_gitignore`, its .gitignore files count too (at most 1 MiB each).
  IgnoreRules(std::string root, const std::vector<std::string>& excludes, bool read_gitignore);

  // Whether `rel` (a path relative to the root, "/"-separated, of a
  // directory if `is_dir`) is left out.
  bool Ignored(const std::string& rel, bool is_dir);

 private:
  struct Rule {
    std::vector<std::string> segments;  // "**" matches any number of them
    bool negate = false;
    bool dir_only = false;
  };
  using Rules = std::vector<Rule>;
  static Rules Parse(const std::vector<std::string>& lines);
  // The rules of `dir`'s .gitignore (`dir` relative to the root, "" for the root).
  const Rules& GitignoreOf(const std::string& dir);

  const std::string root_;
  const bool read_gitignore_;
  Rules excludes_;
  std::map<std::string, Rules> gitignores_;  // by directory, read once
};

}  // namespace glint
