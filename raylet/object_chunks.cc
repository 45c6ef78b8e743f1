#include "raylet/object_chunks.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/rpc.h"

namespace glint::raylet {
namespace {
using google::protobuf::internal::WireFormatLite;
// ReadObjectChunkReply's fields: bytes data = 1; int64 total_size = 2.
constexpr uint32_t kDataTag = WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
constexpr uint32_t kTotalSizeTag = WireFormatLite::MakeTag(2, WireFormatLite::WIRETYPE_VARINT);
constexpr uint32_t kHolderTag = WireFormatLite::MakeTag(3, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
const std::string kReadMethod = "/glint.proto.RayletService/ReadObjectChunk";

struct Lent {
  ObjectStore* store;
  ObjectStore::Chunk chunk;
};
void GiveBack(void* p) {
  auto* lent = static_cast<Lent*>(p);
  lent->store->ReturnChunk(lent->chunk);
  delete lent;
}
}  // namespace

grpc::ByteBuffer ChunkReply(ObjectStore* store, ObjectStore::Chunk chunk) {
  // The framing: total_size and the holders, then data's tag and length (a
  // message's fields may come in any order).
  std::string head;
  {
    google::protobuf::io::StringOutputStream out(&head);
    google::protobuf::io::CodedOutputStream coded(&out);
    for (const auto& h : chunk.holders) {
      coded.WriteTag(kHolderTag);
      coded.WriteVarint32(static_cast<uint32_t>(h.size()));
      coded.WriteString(h);
    }
    coded.WriteTag(kTotalSizeTag);
    coded.WriteVarint64(static_cast<uint64_t>(chunk.total_size));
    coded.WriteTag(kDataTag);
    coded.WriteVarint32(static_cast<uint32_t>(chunk.size));
  }
  auto* lent = new Lent{store, std::move(chunk)};
  char* data = const_cast<char*>(lent->chunk.data());
  size_t size = static_cast<size_t>(lent->chunk.size);
  grpc::Slice slices[] = {grpc::Slice(head), grpc::Slice(data, size, &GiveBack, lent)};
  return grpc::ByteBuffer(slices, 2);
}

absl::Status WriteChunkReply(grpc::ByteBuffer* reply, ObjectStore* store, const std::string& id, int64_t offset,
                             int64_t length, int64_t total_size, std::vector<std::string>* holders) {
  grpc::ProtoBufferReader reader(reply);
  google::protobuf::io::CodedInputStream in(&reader);
  in.SetTotalBytesLimit(std::numeric_limits<int>::max());
  bool have_data = false;
  int64_t total = -1;
  for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
    if (tag == kTotalSizeTag) {
      uint64_t v;
      if (!in.ReadVarint64(&v)) return absl::DataLossError("a chunk's reply is cut short");
      total = static_cast<int64_t>(v);
    } else if (tag == kHolderTag) {
      std::string holder;
      if (!WireFormatLite::ReadString(&in, &holder)) return absl::DataLossError("a chunk's reply is cut short");
      if (holders && holders->size() < ObjectStore::kMaxHoldersTold && ParseAddress(holder).ok()) {
        holders->push_back(std::move(holder));
      }
    } else if (tag == kDataTag) {
      uint32_t n;
      if (!in.ReadVarint32(&n)) return absl::DataLossError("a chunk's reply is cut short");
      if (static_cast<int64_t>(n) != length) {
        return absl::DataLossError(absl::StrCat("a chunk came back with ", n, " bytes, not ", length));
      }
      // The bytes as they lie in gRPC's buffers, written in one call.
      std::vector<absl::string_view> parts;
      for (int64_t left = n; left > 0;) {
        const void* p;
        int got;
        if (!in.GetDirectBufferPointer(&p, &got) || got <= 0) return absl::DataLossError("a chunk's reply is cut short");
        int take = static_cast<int>(std::min<int64_t>(got, left));
        parts.emplace_back(static_cast<const char*>(p), static_cast<size_t>(take));
        in.Skip(take);
        left -= take;
      }
      if (auto s = store->Write(id, offset, parts); !s.ok()) return s;
      have_data = true;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return absl::DataLossError("a chunk's reply is malformed");
    }
  }
  if (!in.ConsumedEntireMessage()) return absl::DataLossError("a chunk's reply is malformed");
  if (!have_data && length > 0) return absl::DataLossError("a chunk's reply has no bytes");
  if (total != total_size) {
    return absl::DataLossError(absl::StrCat("the source says the object has ", total, " bytes, not ", total_size));
  }
  return absl::OkStatus();
}

std::unique_ptr<grpc::ClientAsyncResponseReader<grpc::ByteBuffer>> ChunkStub::PrepareAsyncRead(
    grpc::ClientContext* ctx, const grpc::ByteBuffer& request, grpc::CompletionQueue* cq) {
  return stub_.PrepareUnaryCall(ctx, kReadMethod, request, cq);
}

}  // namespace glint::raylet
