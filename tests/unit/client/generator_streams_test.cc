// GeneratorStreams on its own: items filed by index whatever their order,
// the end known from the count, errors as a last item, duplicates of a
// retry dropped (and the new worker told how far the consumer got),
// cancel, and dropping freeing what was not taken.
#include "client/src/submit/generator_streams.h"

#include <gtest/gtest.h>

#include "client/src/errors.h"
#include "common/ids.h"
#include "glint/errors.h"
#include "testing/fake_transport.h"

namespace glint::internal {
namespace {

const std::string kTask = std::string(16, 't');

class GeneratorStreamsTest : public ::testing::Test {
 protected:
  void Start(int backpressure) {
    store_.Expect(ReturnObjectId(kTask, 0), /*owned=*/true);
    streams_.Start(kTask, backpressure);
  }
  void Item(int64_t index, const std::string& data) {
    proto::PushTaskReply r;
    r.set_item_index(index);
    r.mutable_result()->set_data(data);
    streams_.OnItem(kTask, r, sink_);
  }
  void End(int64_t items, proto::ErrorType error = proto::ERROR_NONE) {
    proto::ObjectValue v = error == proto::ERROR_NONE ? proto::ObjectValue() : ErrorValue(error, "it broke");
    v.set_generator_items(items);
    store_.Put(ReturnObjectId(kTask, 0), v, /*owned=*/true);
  }
  // The next item's data ("" at the end); "timeout" when none came.
  std::string Next(absl::Duration wait = absl::Seconds(5)) {
    auto next = streams_.Next(kTask, absl::Now() + wait);
    if (absl::IsDeadlineExceeded(next.status())) return "timeout";
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok() || !*next) return "";
    auto v = store_.TryGet((*next)->id);
    EXPECT_TRUE(v) << "an item handed out is in the store";
    return v ? (v->has_error() ? "error:" + v->error().message() : v->data()) : "missing";
  }

  MemoryStore store_;
  GeneratorStreams streams_{&store_, "127.0.0.1:1/me"};
  std::shared_ptr<testing::FakeSink> sink_ = std::make_shared<testing::FakeSink>(proto::Address(), nullptr);
};

TEST_F(GeneratorStreamsTest, ItemsOutOfOrderComeOutInOrderAndTheCountEndsTheStream) {
  Start(0);
  Item(2, "b");
  EXPECT_EQ(Next(absl::Milliseconds(20)), "timeout") << "item 1 is not here yet";
  End(3);  // the final reply overtook items 1 and 3
  EXPECT_FALSE(streams_.IsReady(kTask));
  Item(1, "a");
  Item(3, "c");
  EXPECT_EQ(Next(), "a");
  EXPECT_EQ(Next(), "b");
  EXPECT_EQ(Next(), "c");
  EXPECT_EQ(Next(), "");
  EXPECT_TRUE(sink_->acks.empty()) << "no backpressure: no acks";
}

TEST_F(GeneratorStreamsTest, AnErrorEndIsOneMoreItemThenTheEnd) {
  Start(0);
  Item(1, "a");
  End(1, proto::TASK_ERROR);
  EXPECT_EQ(Next(), "a");
  EXPECT_EQ(Next(), "error:it broke");
  EXPECT_EQ(Next(), "");
}

TEST_F(GeneratorStreamsTest, ARetrysDuplicatesAreDroppedAndItsWorkerHearsHowFarTheConsumerGot) {
  Start(2);
  Item(1, "a");
  Item(2, "b");
  EXPECT_EQ(Next(), "a");
  ASSERT_EQ(sink_->acks.size(), 1u);
  EXPECT_EQ(sink_->acks[0].consumed(), 1);
  // The worker died; the retry streams from the first item again.
  Item(1, "a again");
  ASSERT_EQ(sink_->acks.size(), 2u);
  EXPECT_EQ(sink_->acks[1].consumed(), 1);
  Item(2, "b again");
  Item(3, "c");
  End(3);
  EXPECT_EQ(Next(), "b");
  EXPECT_EQ(Next(), "c");
  EXPECT_EQ(Next(), "");
}

TEST_F(GeneratorStreamsTest, ACancelledStreamSaysSoAtOnce) {
  Start(0);
  Item(1, "a");
  streams_.Cancelled(kTask);
  auto next = streams_.Next(kTask, absl::Now() + absl::Seconds(5));
  ASSERT_FALSE(next.ok());
  EXPECT_THROW(ThrowIfError(next.status()), glint::TaskCancelledError);
}

TEST_F(GeneratorStreamsTest, DroppingFreesWhatWasNotTakenAndClosesTheProducer) {
  Start(0);
  Item(1, "a");
  Item(2, "b");
  Item(4, "d");
  EXPECT_EQ(Next(), "a");
  auto taken = GeneratorItemId(kTask, 1);
  streams_.Drop(kTask);
  EXPECT_TRUE(store_.Contains(taken)) << "a taken item belongs to its ObjectRef now";
  EXPECT_FALSE(store_.Contains(GeneratorItemId(kTask, 2)));
  EXPECT_FALSE(store_.Contains(GeneratorItemId(kTask, 4)));
  ASSERT_EQ(sink_->acks.size(), 1u);
  EXPECT_TRUE(sink_->acks[0].close());
  Item(3, "c");  // still in flight when dropped
  EXPECT_FALSE(store_.Contains(GeneratorItemId(kTask, 3)));
}

}  // namespace
}  // namespace glint::internal
