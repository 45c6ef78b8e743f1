#include "common/port_holder.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace glint {
namespace {

constexpr char kListen[] = "0A";  // TCP_LISTEN in /proc/net/tcp's "st" column

// The inodes of the sockets listening on `port` (IPv4 and IPv6).
std::set<std::string> ListeningInodes(int port) {
  std::set<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream f(table);
    std::string line;
    std::getline(f, line);  // the header
    while (std::getline(f, line)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      std::istringstream in(line);
      std::string sl, local, remote, state, queues, timer, retransmit, uid, timeout, inode;
      if (!(in >> sl >> local >> remote >> state >> queues >> timer >> retransmit >> uid >> timeout >> inode)) continue;
      auto colon = local.rfind(':');
      if (colon == std::string::npos || state != kListen) continue;
      if (std::strtol(local.substr(colon + 1).c_str(), nullptr, 16) == port) inodes.insert(inode);
    }
  }
  return inodes;
}

}  // namespace

std::string PortHolder(int port) {
  auto inodes = ListeningInodes(port);
  if (inodes.empty()) return {};
  DIR* proc = opendir("/proc");
  if (!proc) return {};
  std::string found;
  while (dirent* e = readdir(proc)) {
    int pid = 0;
    if (!absl::SimpleAtoi(e->d_name, &pid)) continue;
    std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
    DIR* fds = opendir(fd_dir.c_str());
    if (!fds) continue;  // not ours to read
    while (dirent* fd = readdir(fds)) {
      char target[64];
      ssize_t n = readlink(absl::StrCat(fd_dir, "/", fd->d_name).c_str(), target, sizeof(target) - 1);
      if (n <= 0) continue;
      std::string t(target, n);
      if (t.rfind("socket:[", 0) != 0 || !inodes.count(t.substr(8, t.size() - 9))) continue;
      std::string name;
      std::getline(std::ifstream(absl::StrCat("/proc/", pid, "/comm")), name);
      found = absl::StrCat(name.empty() ? "a process" : name, " (pid ", pid, ")");
      break;
    }
    closedir(fds);
    if (!found.empty()) break;
  }
  closedir(proc);
  return found;
}

}  // namespace glint
