// The bytes of a chunk between two raylets' stores (raylet/object_chunks.h):
// lent from one arena without a copy, pinned while gRPC holds them, written
// from the reply's buffers into the other arena; malformed replies refused.
#include "raylet/object_chunks.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "proto/raylet.grpc.pb.h"  // grpc::SerializationTraits for its messages

namespace glint::raylet {
namespace {

class ObjectChunksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/glint-chunks-test.XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::unique_ptr<ObjectStore> Make(const std::string& name, bool spill = false) {
    ObjectStoreOptions o;
    o.dir = root_ + "/" + name;
    o.spill_dir = spill ? root_ + "/" + name + "-spill" : "";
    o.capacity = 1 << 20;
    o.spill_reserve_bytes = 0;
    auto s = std::make_unique<ObjectStore>(o);
    EXPECT_TRUE(s->Init().ok());
    return s;
  }
  static std::string Pattern(int64_t n) {
    std::string s(static_cast<size_t>(n), '\0');
    for (int64_t i = 0; i < n; ++i) s[static_cast<size_t>(i)] = static_cast<char>('a' + i % 26);
    return s;
  }
  static void Put(ObjectStore& s, const std::string& id, const std::string& bytes) {
    ASSERT_TRUE(s.Create(id, static_cast<int64_t>(bytes.size()), {"127.0.0.1:1", "w", "j"}, true).ok());
    ASSERT_TRUE(s.Write(id, 0, bytes).ok());
    ASSERT_TRUE(s.Seal(id).ok());
  }
  static grpc::ByteBuffer Lend(ObjectStore& s, const std::string& id, int64_t offset, int64_t length) {
    ObjectStore::Chunk chunk;
    EXPECT_TRUE(s.LendChunk(id, offset, length, "127.0.0.1:9", &chunk).ok());
    return ChunkReply(&s, std::move(chunk));
  }
  // The object's bytes, read back through a chunk.
  static std::string Bytes(ObjectStore& s, const std::string& id) {
    ObjectStore::Chunk chunk;
    ObjectLocation where;
    if (!s.Pin(id, "t", &where)) return "<absent>";
    s.Unpin(id, "t");
    if (!s.LendChunk(id, 0, where.size, "", &chunk).ok()) return "<unreadable>";
    std::string out(chunk.data(), static_cast<size_t>(chunk.size));
    s.ReturnChunk(chunk);
    return out;
  }
  std::string root_;
};

TEST_F(ObjectChunksTest, AChunkGoesFromOneArenaToAnotherAndItsObjectStaysWhileGrpcHoldsIt) {
  auto from = Make("from"), to = Make("to");
  const std::string bytes = Pattern(300000);
  Put(*from, "x", bytes);
  ASSERT_TRUE(to->Create("x", 300000, {}, false).ok());
  auto first = Lend(*from, "x", 0, 200000);
  auto second = Lend(*from, "x", 200000, 100000);
  from->Free({"x"});
  EXPECT_EQ(from->Info().used(), 300000 / 4096 * 4096 + 4096) << "freed, but lent: kept";
  ASSERT_TRUE(WriteChunkReply(&second, to.get(), "x", 200000, 100000, 300000).ok());
  ASSERT_TRUE(WriteChunkReply(&first, to.get(), "x", 0, 200000, 300000).ok());
  ASSERT_TRUE(to->Seal("x").ok());
  EXPECT_EQ(Bytes(*to, "x"), bytes);
  first.Clear();
  EXPECT_NE(from->Info().used(), 0) << "one chunk is still lent";
  second.Clear();
  EXPECT_EQ(from->Info().used(), 0) << "the last chunk back: the freed object goes";
}

TEST_F(ObjectChunksTest, TheReplyIsAReadObjectChunkReplyOnTheWire) {
  auto from = Make("from");
  Put(*from, "x", Pattern(5000));
  auto reply = Lend(*from, "x", 1000, 3000);
  proto::ReadObjectChunkReply parsed;
  ASSERT_TRUE(grpc::SerializationTraits<proto::ReadObjectChunkReply>::Deserialize(&reply, &parsed).ok());
  EXPECT_EQ(parsed.data(), Pattern(5000).substr(1000, 3000));
  EXPECT_EQ(parsed.total_size(), 5000);
}

TEST_F(ObjectChunksTest, TheFirstChunkNamesTheOtherNodesThatReadItAndNotTheOneAsking) {
  auto from = Make("from"), to = Make("to");
  Put(*from, "x", Pattern(8192));
  for (const char* node : {"127.0.0.1:11", "127.0.0.1:12"}) {
    ObjectStore::Chunk chunk;
    ASSERT_TRUE(from->LendChunk("x", 0, 10, node, &chunk).ok());
    from->ReturnChunk(chunk);
  }
  ObjectStore::Chunk chunk;
  ASSERT_TRUE(from->LendChunk("x", 0, 4096, "127.0.0.1:12", &chunk).ok());
  EXPECT_EQ(chunk.holders, std::vector<std::string>{"127.0.0.1:11"});
  auto reply = ChunkReply(from.get(), std::move(chunk));
  ASSERT_TRUE(to->Create("x", 8192, {}, false).ok());
  std::vector<std::string> holders;
  ASSERT_TRUE(WriteChunkReply(&reply, to.get(), "x", 0, 4096, 8192, &holders).ok());
  EXPECT_EQ(holders, std::vector<std::string>{"127.0.0.1:11"});
  ASSERT_TRUE(from->LendChunk("x", 4096, 4096, "127.0.0.1:13", &chunk).ok());
  EXPECT_TRUE(chunk.holders.empty()) << "only the first chunk names them";
  from->ReturnChunk(chunk);
  EXPECT_EQ(from->Info().bytes_served(), 10 + 10 + 4096 + 4096);
}

TEST_F(ObjectChunksTest, APartOfASpilledObjectIsLentFromItsFile) {
  auto from = Make("from", /*spill=*/true);
  Put(*from, "small", "tiny bytes");  // a copy short enough to live inside its string
  Put(*from, "big", Pattern(1 << 20));  // spills "small"
  ASSERT_EQ(from->Info().num_spilled(), 1);
  auto reply = Lend(*from, "small", 2, 5);
  proto::ReadObjectChunkReply parsed;
  ASSERT_TRUE(grpc::SerializationTraits<proto::ReadObjectChunkReply>::Deserialize(&reply, &parsed).ok());
  EXPECT_EQ(parsed.data(), "ny by");
}

TEST_F(ObjectChunksTest, AMessageMadeByAGeneratedStubIsWrittenToo) {
  auto to = Make("to");
  ASSERT_TRUE(to->Create("x", 10, {}, false).ok());
  proto::ReadObjectChunkReply reply;  // data first, as protobuf orders fields
  reply.set_data("0123456789");
  reply.set_total_size(10);
  grpc::ByteBuffer buffer;
  bool own = false;
  ASSERT_TRUE(grpc::SerializationTraits<proto::ReadObjectChunkReply>::Serialize(reply, &buffer, &own).ok());
  ASSERT_TRUE(WriteChunkReply(&buffer, to.get(), "x", 0, 10, 10).ok());
  ASSERT_TRUE(to->Seal("x").ok());
  EXPECT_EQ(Bytes(*to, "x"), "0123456789");
}

TEST_F(ObjectChunksTest, AReplyOfTheWrongSizeOrCutShortOrForAnotherObjectIsRefused) {
  auto from = Make("from"), to = Make("to");
  Put(*from, "x", Pattern(8192));
  ASSERT_TRUE(to->Create("x", 8192, {}, false).ok());
  auto reply = Lend(*from, "x", 0, 4096);
  auto st = WriteChunkReply(&reply, to.get(), "x", 0, 4000, 8192);
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_NE(st.message().find("4096 bytes, not 4000"), std::string::npos) << st;
  reply = Lend(*from, "x", 0, 4096);
  st = WriteChunkReply(&reply, to.get(), "x", 0, 4096, 9000);
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  // Cut short: the framing and half the bytes.
  std::vector<grpc::Slice> slices;
  reply = Lend(*from, "x", 0, 4096);
  ASSERT_TRUE(reply.Dump(&slices).ok());
  grpc::Slice cut(slices[0].begin(), slices[0].size());
  grpc::Slice half(slices[1].begin(), 2048);
  grpc::Slice both[] = {cut, half};
  grpc::ByteBuffer short_reply(both, 2);
  st = WriteChunkReply(&short_reply, to.get(), "x", 0, 4096, 8192);
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  // Bytes for an object this store is not writing.
  reply = Lend(*from, "x", 0, 4096);
  st = WriteChunkReply(&reply, to.get(), "y", 0, 4096, 8192);
  EXPECT_TRUE(absl::IsNotFound(st)) << st;
  // Garbage.
  grpc::Slice junk(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11));
  grpc::ByteBuffer junk_reply(&junk, 1);
  EXPECT_FALSE(WriteChunkReply(&junk_reply, to.get(), "x", 0, 4096, 8192).ok());
}

TEST_F(ObjectChunksTest, AChunkWrittenInManyPartsLandsInOrder) {
  auto to = Make("to");
  const std::string bytes = Pattern(70000);
  ASSERT_TRUE(to->Create("x", 70000, {}, false).ok());
  std::vector<absl::string_view> parts;
  for (size_t at = 0; at < bytes.size(); at += 7) parts.emplace_back(bytes.data() + at, std::min<size_t>(7, bytes.size() - at));
  ASSERT_GT(parts.size(), 1024u) << "more parts than one system call takes";
  ASSERT_TRUE(to->Write("x", 0, parts).ok());
  EXPECT_TRUE(absl::IsOutOfRange(to->Write("x", 69999, std::vector<absl::string_view>{"ab"})));
  ASSERT_TRUE(to->Seal("x").ok());
  EXPECT_EQ(Bytes(*to, "x"), bytes);
}

}  // namespace
}  // namespace glint::raylet
