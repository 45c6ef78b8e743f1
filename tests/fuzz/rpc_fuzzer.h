// Sends fuzzed requests to one service of a running Glint process over real
// gRPC (through Glint's own channel credentials, so the handlers behind the
// authentication are reached): unary methods, and streaming methods as a few
// fuzzed frames per stream. Keeps `window` calls in flight on one completion
// queue, each with a deadline, and counts the status codes per method.
#pragma once
#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "fuzz/request_maker.h"

namespace glint::fuzz {

struct MethodStats {
  int64_t calls = 0;
  std::map<grpc::StatusCode, int64_t> codes;
  std::map<grpc::StatusCode, std::string> example;  // the first message of each code
};

struct RunStats {
  std::map<std::string, MethodStats> methods;  // by method name
  int64_t inputs = 0;                          // requests and stream frames sent
  double seconds = 0;
  // The latest requests (method, bytes), to replay after a failure.
  std::deque<std::pair<std::string, std::string>> recent;
};

struct RunOptions {
  int64_t calls = 1000;   // calls to make (a stream is one call of several inputs)
  int window = 32;        // calls in flight at once
  int deadline_ms = 2000;
  std::set<std::string> skip;  // methods left out (by name)
};

// Runs `options.calls` calls of `service`'s methods, chosen at random, to
// `target`. Returns once all have ended.
RunStats FuzzService(const std::string& target, const google::protobuf::ServiceDescriptor* service,
                     RequestMaker* maker, const RunOptions& options);

}  // namespace glint::fuzz
