#include "fuzz/rpc_fuzzer.h"

#include <chrono>
#include <memory>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/rpc.h"

namespace glint::fuzz {

namespace pb = google::protobuf;

namespace {

constexpr size_t kRecent = 256;

grpc::ByteBuffer ToBuffer(const std::string& s) {
  grpc::Slice slice(s);
  return grpc::ByteBuffer(&slice, 1);
}

// One call in flight. A unary call ends with one event; a stream goes
// start, writes, writes-done, reads until the end, finish.
struct Call {
  enum Step { kStart, kWrite, kWritesDone, kRead, kFinish, kDone };
  grpc::ClientContext ctx;
  const pb::MethodDescriptor* method = nullptr;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> unary;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream;
  std::vector<std::string> frames;
  size_t next_frame = 0;
  grpc::ByteBuffer reply;
  grpc::Status status;
  Step step = kStart;
};

bool Streaming(const pb::MethodDescriptor* m) { return m->client_streaming() || m->server_streaming(); }

}  // namespace

RunStats FuzzService(const std::string& target, const pb::ServiceDescriptor* service, RequestMaker* maker,
                     const RunOptions& options) {
  RunStats stats;
  std::vector<const pb::MethodDescriptor*> methods;
  for (int i = 0; i < service->method_count(); ++i) {
    if (!options.skip.count(service->method(i)->name())) methods.push_back(service->method(i));
  }
  if (methods.empty()) return stats;
  grpc::GenericStub stub(ChannelPool::Default().Get(target));
  grpc::CompletionQueue cq;
  std::mt19937_64 pick(options.calls);
  int64_t started = 0, in_flight = 0;
  auto t0 = std::chrono::steady_clock::now();

  auto remember = [&](const pb::MethodDescriptor* m, const std::string& bytes) {
    stats.recent.emplace_back(m->name(), bytes);
    if (stats.recent.size() > kRecent) stats.recent.pop_front();
    ++stats.inputs;
  };
  auto start = [&] {
    auto* c = new Call();
    c->method = methods[pick() % methods.size()];
    SetDeadlineMs(&c->ctx, options.deadline_ms);
    std::string path = absl::StrCat("/", service->full_name(), "/", c->method->name());
    if (Streaming(c->method)) {
      size_t n = c->method->client_streaming() ? 1 + pick() % 4 : 1;
      for (size_t i = 0; i < n; ++i) {
        c->frames.push_back(maker->Make(c->method->input_type()));
        remember(c->method, c->frames.back());
      }
      c->stream = stub.PrepareCall(&c->ctx, path, &cq);
      c->stream->StartCall(c);
    } else {
      std::string req = maker->Make(c->method->input_type());
      remember(c->method, req);
      c->unary = stub.PrepareUnaryCall(&c->ctx, path, ToBuffer(req), &cq);
      c->unary->StartCall();
      c->step = Call::kFinish;
      c->unary->Finish(&c->reply, &c->status, c);
    }
    ++started;
    ++in_flight;
  };
  // Advances a stream after an event; true once the call has ended.
  auto advance = [&](Call* c, bool ok) {
    if (c->unary) return true;
    switch (c->step) {
      case Call::kStart:
      case Call::kWrite:
        if (!ok) break;  // the stream is gone: finish
        if (c->next_frame < c->frames.size()) {
          c->step = Call::kWrite;
          c->stream->Write(ToBuffer(c->frames[c->next_frame++]), c);
          return false;
        }
        c->step = Call::kWritesDone;
        c->stream->WritesDone(c);
        return false;
      case Call::kWritesDone:
      case Call::kRead:
        if (!ok) break;
        c->step = Call::kRead;
        c->stream->Read(&c->reply, c);
        return false;
      case Call::kFinish:
        return true;
      case Call::kDone:
        return true;
    }
    c->step = Call::kFinish;
    c->stream->Finish(&c->status, c);
    return false;
  };

  while (started < options.calls && in_flight < options.window) start();
  void* tag;
  bool ok;
  while (in_flight > 0 && cq.Next(&tag, &ok)) {
    auto* c = static_cast<Call*>(tag);
    if (!advance(c, ok)) continue;
    auto& m = stats.methods[c->method->name()];
    ++m.calls;
    if (m.codes[c->status.error_code()]++ == 0) m.example[c->status.error_code()] = c->status.error_message();
    delete c;
    --in_flight;
    if (started < options.calls) start();
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace glint::fuzz
