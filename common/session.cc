#include "common/session.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/ids.h"

namespace glint {
namespace {

constexpr char kTokenFile[] = "/auth_token";
constexpr char kTlsFile[] = "/tls.json";
constexpr char kAddressFile[] = "/gcs_address";

// The newest session that recorded `gcs_address` ("" if none): a port may
// have served an older cluster too. Each session's time is read once, then
// sorted: other clusters write into their sessions meanwhile, and a sort
// whose comparisons read the times afresh may see its order change under
// it, which std::sort does not survive (it runs off the range).
std::string SessionOf(const std::string& gcs_address) {
  std::vector<std::pair<std::filesystem::file_time_type, std::string>> sessions;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(SessionRoot(), ec)) {
    std::string name = e.path().filename().string();
    std::error_code link_ec, time_ec;
    if (name.rfind("session_", 0) != 0 || e.is_symlink(link_ec)) continue;
    auto modified = e.last_write_time(time_ec);
    if (!time_ec) sessions.emplace_back(modified, e.path().string());  // else it is being removed
  }
  std::sort(sessions.begin(), sessions.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [modified, dir] : sessions) {
    std::ifstream f(dir + kAddressFile);
    std::string address;
    if (f >> address && address == gcs_address) return dir;
  }
  return {};
}

}  // namespace

std::string SessionRoot() {
  const char* e = getenv("GLINT_TMPDIR");
  return e && *e ? e : "/tmp/glint";
}

absl::StatusOr<std::string> NewSessionDir() {
  const std::string root = SessionRoot();
  mkdir(root.c_str(), 0755);
  char stamp[64];
  std::time_t t = std::time(nullptr);
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d_%H-%M-%S", std::localtime(&t));
  std::string dir = absl::StrCat(root, "/session_", stamp, "_", getpid());
  // A session holds the GCS's tables, the jobs' logs and output: its
  // user's only (the cluster token in it is private as well).
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat("cannot create ", dir));
  }
  mkdir((dir + "/logs").c_str(), 0700);
  return dir;
}

void MarkLatestSession(const std::string& dir) {
  const std::string root = SessionRoot();
  std::string tmp = root + "/session_latest.tmp";
  unlink(tmp.c_str());
  if (symlink(dir.c_str(), tmp.c_str()) == 0) rename(tmp.c_str(), (root + "/session_latest").c_str());
}

absl::StatusOr<std::string> RecordAuth(const std::string& session_dir, const AuthOptions& auth) {
  if (auth.tls.enabled()) {
    if (auto s = WriteTlsRecord(session_dir + kTlsFile, auth.tls); !s.ok()) return s;
  }
  if (auth.token.empty()) return std::string();
  std::string file = session_dir + kTokenFile;
  if (auto s = WriteTokenFile(file, auth.token); !s.ok()) return s;
  return file;
}

void RecordAddress(const std::string& session_dir, const std::string& gcs_address) {
  std::ofstream(session_dir + kAddressFile) << gcs_address << "\n";
}

std::string WorkerLogPrefix(const std::string& worker_id) { return absl::StrCat("worker-", ShortHex(worker_id), "-"); }

std::string WorkerLogName(const std::string& worker_id, int pid) {
  if (pid <= 0) return absl::StrCat("worker-", ShortHex(worker_id), ".log");
  return absl::StrCat(WorkerLogPrefix(worker_id), pid, ".log");
}

AuthOptions LocalClusterAuth(const std::string& gcs_address) {
  AuthOptions auth;
  std::string dir = gcs_address.empty() ? "" : SessionOf(gcs_address);
  if (dir.empty()) return auth;
  if (auto token = ReadTokenFile(dir + kTokenFile); token.ok()) auth.token = *token;
  auth.tls = ReadTlsRecord(dir + kTlsFile);
  return auth;
}

AuthOptions ResolveAuth(AuthOptions given, const std::string& gcs_address) {
  AuthOptions env = AuthFromEnvironment();
  if (given.token.empty()) given.token = env.token;
  if (!given.tls.enabled()) given.tls = env.tls;
  if (given.token.empty() || !given.tls.enabled()) {
    AuthOptions local = LocalClusterAuth(gcs_address);
    if (given.token.empty()) given.token = local.token;
    if (!given.tls.enabled()) given.tls = local.tls;
  }
  return given;
}

}  // namespace glint
