#include "gcs/redis_store.h"

#include <hiredis/hiredis.h>

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace glint::gcs {
namespace {

constexpr int kTimeoutMs = 5000;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

bool NamespaceChar(char c) { return isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'; }

}  // namespace

absl::StatusOr<RedisAddress> ParseRedisAddress(const std::string& url) {
  auto bad = [&url](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", url, "' is not a Redis address (redis://[:PASSWORD@]HOST:PORT[/NAMESPACE]): ", why));
  };
  constexpr absl::string_view kScheme = "redis://";
  if (!absl::StartsWith(url, kScheme)) return bad("it does not start with redis://");
  std::string rest = url.substr(kScheme.size());
  RedisAddress a;
  a.name_space = "glint";
  if (auto slash = rest.find('/', rest.rfind('@') == std::string::npos ? 0 : rest.rfind('@'));
      slash != std::string::npos) {
    a.name_space = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (a.name_space.empty() || a.name_space.size() > 128 ||
        !std::all_of(a.name_space.begin(), a.name_space.end(), NamespaceChar)) {
      return bad("the namespace takes 1 to 128 letters, digits, '_', '-' or '.'");
    }
  }
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    std::string user_info = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = user_info.find(':');
    a.password = colon == std::string::npos ? user_info : user_info.substr(colon + 1);
  }
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad("it needs HOST:PORT");
  a.host = rest.substr(0, colon);
  if (!absl::SimpleAtoi(rest.substr(colon + 1), &a.port) || a.port <= 0 || a.port > 65535) {
    return bad("the port is not a number from 1 to 65535");
  }
  return a;
}

absl::StatusOr<std::unique_ptr<RedisStore>> RedisStore::Open(const std::string& url) {
  auto address = ParseRedisAddress(url);
  if (!address.ok()) return address.status();
  std::unique_ptr<RedisStore> store(new RedisStore(*address));
  absl::MutexLock lock(&store->mu_);
  if (auto s = store->Connect(); !s.ok()) return s;
  return store;
}

RedisStore::~RedisStore() {
  absl::MutexLock lock(&mu_);
  if (ctx_) redisFree(ctx_);
}

std::string RedisStore::Where() const { return absl::StrCat("Redis at ", address_.host, ":", address_.port); }

std::string RedisStore::Key(const std::string& table) const {
  return absl::StrCat("glint:", address_.name_space, ":", table);
}

absl::Status RedisStore::Connect() {
  if (ctx_) redisFree(ctx_);
  timeval tv{kTimeoutMs / 1000, (kTimeoutMs % 1000) * 1000};
  ctx_ = redisConnectWithTimeout(address_.host.c_str(), address_.port, tv);
  auto fail = [this](const std::string& why) {
    if (ctx_) redisFree(ctx_);
    ctx_ = nullptr;
    return absl::UnavailableError(absl::StrCat("cannot use the GCS store (", Where(), "): ", why));
  };
  if (!ctx_) return fail("out of memory");
  if (ctx_->err) return fail(ctx_->errstr);
  redisSetTimeout(ctx_, tv);
  std::vector<std::string> hello = {"PING"};
  if (!address_.password.empty()) hello = {"AUTH", address_.password};
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (auto& h : hello) {
    argv.push_back(h.data());
    lens.push_back(h.size());
  }
  Reply r(static_cast<redisReply*>(redisCommandArgv(ctx_, argv.size(), argv.data(), lens.data())));
  if (!r) return fail(ctx_->errstr);
  if (r->type == REDIS_REPLY_ERROR) return fail(std::string(r->str, r->len));
  return absl::OkStatus();
}

redisReply* RedisStore::Command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  std::string why;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!ctx_ || ctx_->err) {
      if (auto s = Connect(); !s.ok()) {
        why = std::string(s.message());
        continue;
      }
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(ctx_, argv.size(), argv.data(), lens.data()));
    if (r && r->type != REDIS_REPLY_ERROR) return r;
    why = r ? std::string(r->str, r->len) : std::string(ctx_->errstr);
    if (r) {  // Redis refused the command: trying again changes nothing
      freeReplyObject(r);
      break;
    }
  }
  ++failures_;
  LOG_EVERY_N(ERROR, 100) << "GCS store (" << Where() << "): " << args[0] << " failed: " << why << " ("
                          << failures_ << " failed so far)";
  return nullptr;
}

void RedisStore::Put(const std::string& table, const std::string& key, const std::string& value) {
  absl::MutexLock lock(&mu_);
  Reply(Command({"HSET", Key(table), key, value}));
}

void RedisStore::Delete(const std::string& table, const std::string& key) {
  absl::MutexLock lock(&mu_);
  Reply(Command({"HDEL", Key(table), key}));
}

std::map<std::string, std::string> RedisStore::GetAll(const std::string& table) {
  absl::MutexLock lock(&mu_);
  std::map<std::string, std::string> out;
  Reply r(Command({"HGETALL", Key(table)}));
  if (!r || r->type != REDIS_REPLY_ARRAY) return out;
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    const redisReply* k = r->element[i];
    const redisReply* v = r->element[i + 1];
    out.emplace(std::string(k->str, k->len), std::string(v->str, v->len));
  }
  return out;
}

int64_t RedisStore::failures() {
  absl::MutexLock lock(&mu_);
  return failures_;
}

}  // namespace glint::gcs
