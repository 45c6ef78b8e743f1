// RedisStore: the GCS's tables in a Redis server, for a head whose state
// must outlive the head machine (Ray keeps its GCS tables in Redis the same
// way). Each table is one hash, "glint:<namespace>:<table>", its keys the
// hash's fields: one cluster's tables stay apart from another's in a shared
// server. A Put or Delete returns once Redis acknowledged it, so it survives
// the GCS being killed; Redis's own persistence settings decide what
// survives Redis. One connection behind a mutex, reconnected (once per
// call) when it breaks.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gcs/store.h"

struct redisContext;
struct redisReply;

namespace glint::gcs {

// What a redis://[:PASSWORD@]HOST:PORT[/NAMESPACE] address says.
struct RedisAddress {
  std::string host;
  int port = 0;
  std::string password;
  std::string name_space;  // default "glint"
};
absl::StatusOr<RedisAddress> ParseRedisAddress(const std::string& url);

class RedisStore : public GcsStore {
 public:
  // Connects (and authenticates); the error names the server and Redis's reason.
  static absl::StatusOr<std::unique_ptr<RedisStore>> Open(const std::string& url);
  ~RedisStore() override;

  void Put(const std::string& table, const std::string& key, const std::string& value) override;
  void Delete(const std::string& table, const std::string& key) override;
  std::map<std::string, std::string> GetAll(const std::string& table) override;

  // Writes that failed so far (each is logged; the GCS keeps serving from memory).
  int64_t failures();

 private:
  explicit RedisStore(RedisAddress address) : address_(std::move(address)) {}
  absl::Status Connect() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs a command (argv, binary-safe), reconnecting once if the connection
  // broke; nullptr (logged) on failure. The caller frees the reply.
  redisReply* Command(const std::vector<std::string>& args) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Key(const std::string& table) const;
  std::string Where() const;

  const RedisAddress address_;
  absl::Mutex mu_;
  redisContext* ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
  int64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace glint::gcs
