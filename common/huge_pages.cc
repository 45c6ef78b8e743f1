#include "common/huge_pages.h"

#include <sys/mman.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_split.h"

namespace glint {
namespace {

std::string ReadWhole(const char* path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A mount point as mountinfo writes it: space, tab, newline and backslash
// as octal escapes (\040 ...).
std::string Unescape(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3 && octal; ++k) {
        octal = s[i + k] >= '0' && s[i + k] <= '7';
        v = v * 8 + (s[i + k] - '0');
      }
      if (octal) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// `mount` holds `path`: equal, or a directory above it.
bool Holds(const std::string& mount, absl::string_view path) {
  if (mount == "/") return !path.empty() && path[0] == '/';
  return path.substr(0, mount.size()) == mount && (path.size() == mount.size() || path[mount.size()] == '/');
}

}  // namespace

bool HugePagesIn(absl::string_view path, absl::string_view mountinfo, absl::string_view shmem_enabled) {
  // The setting in force is the one in brackets: "always within_size advise [never] deny force".
  size_t open = shmem_enabled.find('['), close = shmem_enabled.find(']');
  absl::string_view system =
      open != absl::string_view::npos && close > open ? shmem_enabled.substr(open + 1, close - open - 1) : "";
  if (system == "deny") return false;
  // The mount that holds `path`: the longest mount point above it; of mounts
  // on one point, the last listed (the one on top).
  size_t best = 0;
  bool huge = false;  // what the best mount so far gives
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n')) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    // id parent major:minor root mount-point options [optional...] - type source super-options
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (dash + 1 >= f.size()) continue;  // not a mount line
    std::string mount = Unescape(f[4]);
    if (!Holds(mount, path) || mount.size() < best) continue;
    best = mount.size();
    absl::string_view type = f[dash + 1];
    absl::string_view options = dash + 3 < f.size() ? f[dash + 3] : "";
    huge = false;
    if (type != "tmpfs") continue;
    if (system == "force") {
      huge = true;
      continue;
    }
    for (absl::string_view o : absl::StrSplit(options, ',')) {
      huge = huge || o == "huge=always" || o == "huge=within_size" || o == "huge=advise";
    }
  }
  return huge;
}

bool HugePagesIn(const std::string& dir) {
  std::error_code ec;
  auto real = std::filesystem::canonical(dir, ec);
  if (ec) return false;
  return HugePagesIn(real.string(), ReadWhole("/proc/self/mountinfo"),
                     ReadWhole("/sys/kernel/mm/transparent_hugepage/shmem_enabled"));
}

void AdviseHugePages(void* addr, size_t length) {
#ifdef MADV_HUGEPAGE
  if (length > 0) madvise(addr, length, MADV_HUGEPAGE);  // refused or ignored where not possible: nothing lost
#endif
}

}  // namespace glint
