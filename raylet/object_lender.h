// ObjectLender: the holder's side of a copy between raylets of one host
// (same_host_copy.h). A lent object is pinned in the arena until the puller
// gives it back (UnpinObject with the loan's client name) or its lease ends,
// whichever comes first; loans are bounded in number and length, so a
// puller that dies, or a client that asks and never returns, holds nothing
// for long.
#pragma once
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "proto/raylet.pb.h"
#include "raylet/object_store.h"

namespace glint::raylet {

class ObjectLender {
 public:
  static constexpr int64_t kMaxLeaseMs = 60000;
  static constexpr size_t kMaxLoans = 1024;

  // Borrows `store` (its arena made); lends nothing when `enabled` is false.
  ObjectLender(ObjectStore* store, bool enabled);

  // Lends the object `req` names, if sealed in the arena here (else
  // reply->found() is false). FailedPrecondition when lending is off;
  // ResourceExhausted with kMaxLoans out.
  absl::Status Lend(const proto::LendObjectRequest& req, int64_t now_ms, proto::LendObjectReply* reply);
  // Ends the loan `client` of object `id`; false if there is no such loan.
  bool GiveBack(const std::string& id, const std::string& client);
  // Ends the loans whose lease is over.
  void Expire(int64_t now_ms);
  size_t Loans();

 private:
  struct Loan {
    std::string object_id;
    int64_t until_ms;
  };
  ObjectStore* const store_;
  const bool enabled_;
  std::string arena_path_;
  uint64_t arena_device_ = 0, arena_inode_ = 0;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Loan> loans_ ABSL_GUARDED_BY(mu_);  // by client name
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace glint::raylet
