// The bytes of ReadObjectChunk, between the raylet that serves a chunk and
// the one pulling it, without a message in between: the server's reply is
// the arena's own bytes behind a few bytes of framing (the object pinned
// until gRPC has sent them), and the puller writes the reply's bytes from
// gRPC's buffers straight into its arena. On the wire it is still a
// ReadObjectChunkReply, so a generated stub can call it too.
#pragma once
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "raylet/object_store.h"

namespace glint::raylet {

// The reply for a chunk lent by `store`; the chunk goes back to the store
// when gRPC lets go of the buffer.
grpc::ByteBuffer ChunkReply(ObjectStore* store, ObjectStore::Chunk chunk);

// Writes the chunk in `reply` (asked for at `offset`, `length` bytes) into
// object `id`, being written in `store`, whose whole size is `total_size`.
// The other holders the reply names (well-formed addresses, at most
// ObjectStore::kMaxHoldersTold) go to `holders` if given.
absl::Status WriteChunkReply(grpc::ByteBuffer* reply, ObjectStore* store, const std::string& id, int64_t offset,
                             int64_t length, int64_t total_size, std::vector<std::string>* holders = nullptr);

// A stub with the one method, for CallAsync and StubCache:
//   CallAsync(queue, stub, &ChunkStub::PrepareAsyncRead, request_buffer, ...).
class ChunkStub {
 public:
  explicit ChunkStub(std::shared_ptr<grpc::Channel> channel) : stub_(std::move(channel)) {}
  std::unique_ptr<grpc::ClientAsyncResponseReader<grpc::ByteBuffer>> PrepareAsyncRead(
      grpc::ClientContext* ctx, const grpc::ByteBuffer& request, grpc::CompletionQueue* cq);

 private:
  grpc::GenericStub stub_;
};
// What StubCache<ChunkService> makes.
struct ChunkService {
  using Stub = ChunkStub;
  static std::unique_ptr<ChunkStub> NewStub(std::shared_ptr<grpc::Channel> channel) {
    return std::make_unique<ChunkStub>(std::move(channel));
  }
};

}  // namespace glint::raylet
