// FakeOwners: an OwnerClient that records what a process tells the owners
// of the objects it borrows, answers GetObject from a table, and lets a test
// decide which processes still answer.
#pragma once
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "client/src/objects/owner_client.h"

namespace glint::testing {

// The address of a process at ip:port, as owners are named.
inline proto::Address Addr(const std::string& ip, int port) {
  proto::Address a;
  a.set_ip(ip);
  a.set_port(port);
  return a;
}

class FakeOwners : public internal::OwnerClient {
 public:
  absl::Status AddBorrower(const std::string& owner, const std::string& id) override {
    added.emplace_back(owner, id);
    return absl::OkStatus();
  }
  void RemoveBorrower(const std::string& owner, const std::string& id) override { removed.emplace_back(owner, id); }
  void GetObject(const std::string& owner, const std::string& id, int64_t, ObjectFn done) override {
    proto::GetObjectReply reply;
    if (gone.count(owner)) return done(absl::UnavailableError("connection refused"), reply);
    auto it = values.find(id);
    if (it == values.end()) {
      reply.set_unknown(true);
    } else {
      reply.set_ready(true);
      *reply.mutable_value() = it->second;
    }
    done(absl::OkStatus(), reply);
  }
  void RecoverObject(const std::string& owner, const std::string& id, const proto::StoredObject& lost,
                     ObjectFn done) override {
    recovered.emplace_back(owner, id);
    lost_nodes.push_back(lost.node_id());
    GetObject(owner, id, 0, std::move(done));
  }

  std::vector<std::pair<std::string, std::string>> added, removed, recovered;  // (owner, object)
  std::vector<std::string> lost_nodes;                               // of RecoverObject calls
  std::set<std::string> gone;                                        // processes that refuse connections
  std::map<std::string, proto::ObjectValue> values;                  // what owners answer
};

}  // namespace glint::testing
