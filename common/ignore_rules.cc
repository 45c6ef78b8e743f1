#include "common/ignore_rules.h"

#include <fnmatch.h>

#include <fstream>
#include <utility>

#include "absl/strings/str_split.h"

namespace glint {
namespace {

constexpr size_t kMaxGitignoreBytes = 1 << 20;

std::vector<std::string> Segments(const std::string& path) {
  return absl::StrSplit(path, '/', absl::SkipEmpty());
}

// Whether segments [p..) of a pattern match segments [s..) of a path.
bool MatchFrom(const std::vector<std::string>& pat, size_t p, const std::vector<std::string>& path,
               size_t s) {
  if (p == pat.size()) return s == path.size();
  if (pat[p] == "**") {
    if (p + 1 == pat.size()) return s < path.size();  // "x/**": everything inside x, not x
    for (size_t k = s; k <= path.size(); ++k) {
      if (MatchFrom(pat, p + 1, path, k)) return true;
    }
    return false;
  }
  return s < path.size() && fnmatch(pat[p].c_str(), path[s].c_str(), 0) == 0 &&
         MatchFrom(pat, p + 1, path, s + 1);
}

}  // namespace

IgnoreRules::IgnoreRules(std::string root, const std::vector<std::string>& excludes,
                         bool read_gitignore)
    : root_(std::move(root)), read_gitignore_(read_gitignore), excludes_(Parse(excludes)) {}

IgnoreRules::Rules IgnoreRules::Parse(const std::vector<std::string>& lines) {
  Rules rules;
  for (std::string line : lines) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    while (!line.empty() && line.back() == ' ' &&
           !(line.size() >= 2 && line[line.size() - 2] == '\\')) {
      line.pop_back();
    }
    if (line.empty() || line[0] == '#') continue;
    Rule r;
    if (line[0] == '!') {
      r.negate = true;
      line.erase(0, 1);
    } else if (line[0] == '\\') {
      line.erase(0, 1);  // "\#" and "\!" stand for themselves
    }
    if (!line.empty() && line.back() == '/') {
      r.dir_only = true;
      line.pop_back();
    }
    bool anchored = line.find('/') != std::string::npos;
    if (!line.empty() && line[0] == '/') line.erase(0, 1);
    r.segments = Segments(line);
    if (r.segments.empty()) continue;
    if (!anchored) r.segments.insert(r.segments.begin(), "**");  // at any depth
    rules.push_back(std::move(r));
  }
  return rules;
}

const IgnoreRules::Rules& IgnoreRules::GitignoreOf(const std::string& dir) {
  auto it = gitignores_.find(dir);
  if (it != gitignores_.end()) return it->second;
  std::vector<std::string> lines;
  std::ifstream f(root_ + "/" + dir + (dir.empty() ? "" : "/") + ".gitignore", std::ios::binary);
  size_t bytes = 0;
  for (std::string line; f && bytes < kMaxGitignoreBytes && std::getline(f, line);) {
    bytes += line.size() + 1;
    lines.push_back(std::move(line));
  }
  return gitignores_.emplace(dir, Parse(lines)).first->second;
}

bool IgnoreRules::Ignored(const std::string& rel, bool is_dir) {
  const std::vector<std::string> path = Segments(rel);
  bool ignored = false;
  auto apply = [&](const Rules& rules, size_t depth) {
    const std::vector<std::string> below(path.begin() + static_cast<ptrdiff_t>(depth), path.end());
    for (const auto& r : rules) {
      if (r.dir_only && !is_dir) continue;
      if (MatchFrom(r.segments, 0, below, 0)) ignored = !r.negate;
    }
  };
  if (read_gitignore_) apply(GitignoreOf(""), 0);
  apply(excludes_, 0);
  if (!read_gitignore_) return ignored;
  std::string dir;
  for (size_t depth = 1; depth < path.size();
       ++depth) {  // each directory above `rel`, shallow first
    dir += (depth > 1 ? "/" : "") + path[depth - 1];
    apply(GitignoreOf(dir), depth);
  }
  return ignored;
}

}  // namespace glint
