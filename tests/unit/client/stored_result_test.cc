// Results and generator items packed straight into the node's store
// (client/src/execute/stored_result.h, item_stream.h): a value the store
// takes is packed into it once, byte for byte as it would be packed inline;
// smaller values, and calls with no StoredResult waiting, are packed into
// the reply; the references inside a value are collected once; a stored
// item is sent under the index it was stored for, or discarded with the
// references in it when it cannot be (the caller closed the stream
// meanwhile, or it is gone); an async method's result
// goes to the offer it was started with, never to a thread's.
#include "client/src/execute/stored_result.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/src/execute/item_stream.h"
#include "client/src/registry_lookup.h"
#include "common/ids.h"
#include "glint/async.h"
#include "glint/internal/registry.h"
#include "glint/object_ref.h"

namespace glint::internal {
namespace {

std::vector<uint8_t> Blob(int n) { return std::vector<uint8_t>(static_cast<size_t>(n), 7); }

struct WithRefs {
  std::vector<uint8_t> bytes;
  std::vector<ObjectRef<int>> refs;
  MSGPACK_DEFINE(bytes, refs);
};
WithRefs MakeWithRefs(int n) {
  return {std::vector<uint8_t>(static_cast<size_t>(n), 1),
          {ObjectRef<int>(RefData{"object-a", "owner"}), ObjectRef<int>(RefData{"object-b", "owner"})}};
}

// A store that takes values of `threshold` bytes or more into `arena`.
struct FakeStore {
  explicit FakeStore(size_t t) : threshold(t) {}
  size_t threshold;
  std::vector<char> arena;
  int offers = 0;
  StoredResult::Store Fn() {
    return [this](size_t size, const std::function<void(char*)>& write) -> std::optional<proto::ObjectValue> {
      ++offers;
      if (size < threshold) return std::nullopt;
      arena.assign(size, '\0');
      write(arena.data());
      proto::ObjectValue v;
      v.mutable_stored()->set_size(static_cast<int64_t>(size));
      return v;
    };
  }
};

class Coro {
 public:
  glint::Async<std::vector<uint8_t>> Big(int n) { co_return Blob(n); }
};

std::string Call(const std::string& name, int n) {
  static bool registered = RegisterAll("StoredResultTest::Blob, StoredResultTest::MakeWithRefs", &Blob, &MakeWithRefs);
  EXPECT_TRUE(registered);
  Args args;
  args.emplace_back(Pack(n));
  return (*FindFunction(name))(args);
}

TEST(StoredResultTest, AValueTheStoreTakesIsPackedIntoItOnceAsItWouldBeInline) {
  FakeStore store(1000);
  StoredResult waiting(store.Fn());
  StoredResult::OnThisThread here(&waiting);
  std::string inline_bytes = Call("StoredResultTest::Blob", 4000);
  EXPECT_EQ(inline_bytes, "") << "nothing packed into the reply";
  EXPECT_EQ(store.offers, 1);
  EXPECT_EQ(std::string(store.arena.begin(), store.arena.end()), Pack(Blob(4000)));

  proto::ObjectValue result;
  result.add_contained()->set_object_id("kept");
  ASSERT_TRUE(waiting.MoveInto(&result));
  EXPECT_EQ(result.stored().size(), static_cast<int64_t>(Pack(Blob(4000)).size()));
  ASSERT_EQ(result.contained_size(), 1) << "the references the result lists stay";
  EXPECT_EQ(result.contained(0).object_id(), "kept");
  EXPECT_FALSE(waiting.MoveInto(&result)) << "moved once";
}

TEST(StoredResultTest, SmallValuesAndCallsWithNothingWaitingArePackedIntoTheReply) {
  {
    FakeStore store(1000);
    StoredResult waiting(store.Fn());
    StoredResult::OnThisThread here(&waiting);
    EXPECT_EQ(Call("StoredResultTest::Blob", 10), Pack(Blob(10)));
    EXPECT_EQ(store.offers, 1) << "offered, and refused as too small";
    proto::ObjectValue result;
    EXPECT_FALSE(waiting.MoveInto(&result));
    // The call's one result went inline; a big one after it still may go.
    EXPECT_EQ(Call("StoredResultTest::Blob", 2000), "");
    EXPECT_TRUE(waiting.MoveInto(&result));
  }
  EXPECT_EQ(Call("StoredResultTest::Blob", 4000), Pack(Blob(4000))) << "no StoredResult on this thread";
  {
    FakeStore store(1000);
    StoredResult waiting(store.Fn());
    StoredResult::OnThisThread here(&waiting);
    EXPECT_EQ(Call("StoredResultTest::Blob", 3000), "");
    EXPECT_EQ(Call("StoredResultTest::Blob", 5000), Pack(Blob(5000))) << "a second result is not the call's";
    EXPECT_EQ(store.offers, 1);
    EXPECT_EQ(store.arena.size(), Pack(Blob(3000)).size()) << "the first one stays stored";
  }
}

TEST(StoredResultTest, TheReferencesInsideAStoredValueAreCollectedOnce) {
  FakeStore store(1000);
  StoredResult waiting(store.Fn());
  StoredResult::OnThisThread here(&waiting);
  EscapeCollector call;  // as the call's own, around the function
  EXPECT_EQ(Call("StoredResultTest::MakeWithRefs", 2000), "");
  ASSERT_EQ(call.refs.size(), 2u) << "not once more for the measuring";
  EXPECT_EQ(call.refs[0].id, "object-a");
  EXPECT_EQ(call.refs[1].id, "object-b");
  std::string bytes(store.arena.begin(), store.arena.end());
  EscapeCollector again;
  EXPECT_EQ(bytes, Pack(MakeWithRefs(2000)));
}

// Emits Blob(bytes) as DrainGenerator does, as if `held` were packed into
// it too: whether it was sent.
bool EmitBlob(ItemStream& items, int bytes, std::vector<RefData> held = {}) {
  auto blob = Blob(bytes);
  auto item = PackItem(blob, items);
  item.refs.insert(item.refs.end(), held.begin(), held.end());
  return items.Emit(std::move(item.data), std::move(item.refs));
}

TEST(StoredResultTest, AGeneratorsBigItemIsStoredUnderTheIndexItIsSentWith) {
  proto::TaskSpec spec;
  spec.set_task_id(RandomId());
  std::vector<proto::PushTaskReply> sent;
  std::vector<int64_t> stored_indexes;
  FakeStore store(1000);
  auto fake = store.Fn();
  ItemStream items(
      spec,
      [&](proto::PushTaskReply& r) {
        sent.push_back(r);
        return true;
      },
      [](const proto::TaskSpec&, const std::string&, proto::ObjectValue*) {},
      [&](int64_t index, size_t size, const std::function<void(char*)>& write) {
        stored_indexes.push_back(index);
        return fake(size, write);
      },
      [](const proto::TaskSpec&, const std::string& id, const proto::ObjectValue&, const std::vector<RefData>&,
         bool) { ADD_FAILURE() << "discarded " << id; });
  // A small item, then a big one, as DrainGenerator packs them.
  for (int n : {10, 3000}) ASSERT_TRUE(EmitBlob(items, n)) << n;
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].item_index(), 1);
  EXPECT_EQ(sent[0].result().data(), Pack(Blob(10)));
  EXPECT_EQ(sent[1].item_index(), 2);
  EXPECT_EQ(sent[1].result().data(), "");
  EXPECT_EQ(sent[1].result().stored().size(), static_cast<int64_t>(Pack(Blob(3000)).size()));
  EXPECT_EQ(stored_indexes, (std::vector<int64_t>{1, 2})) << "each offered as the index it is sent with";
  EXPECT_EQ(std::string(store.arena.begin(), store.arena.end()), Pack(Blob(3000)));
}

TEST(StoredResultTest, AnItemThatNeverReachesTheCallerIsDiscardedWithItsReferences) {
  proto::TaskSpec spec;
  spec.set_task_id(RandomId());
  FakeStore store(1000);
  auto fake = store.Fn();
  bool send_ok = true, close_while_storing = false;
  int sent = 0;
  struct Discarded {
    std::string id;
    bool stored;
    std::vector<std::string> held;
    bool handed_over;
  };
  std::vector<Discarded> discarded;
  ItemStream* current = nullptr;
  auto make = [&] {
    auto items = std::make_unique<ItemStream>(
        spec,
        [&](proto::PushTaskReply&) {
          sent += send_ok ? 1 : 0;
          return send_ok;
        },
        [](const proto::TaskSpec&, const std::string&, proto::ObjectValue*) {},
        [&](int64_t, size_t size, const std::function<void(char*)>& write) {
          auto v = fake(size, write);
          if (close_while_storing) current->OnAck(0, /*close=*/true);  // the caller dropped the generator
          return v;
        },
        [&](const proto::TaskSpec& s, const std::string& id, const proto::ObjectValue& v,
            const std::vector<RefData>& held, bool handed_over) {
          EXPECT_EQ(&s, &spec);
          Discarded d{id, v.has_stored(), {}, handed_over};
          for (auto& r : held) d.held.push_back(r.id);
          discarded.push_back(std::move(d));
        });
    current = items.get();
    return items;
  };
  const std::string first = GeneratorItemId(spec.task_id(), 1), second = GeneratorItemId(spec.task_id(), 2);
  const std::vector<RefData> refs{{"r1", "owner:1"}, {"r2", "owner:2"}};
  const std::vector<std::string> ref_ids{"r1", "r2"};

  // The caller's close comes while the second item is being stored.
  auto items = make();
  ASSERT_TRUE(EmitBlob(*items, 3000));
  close_while_storing = true;
  EXPECT_FALSE(EmitBlob(*items, 3000, refs));
  EXPECT_EQ(sent, 1);
  ASSERT_EQ(discarded.size(), 1u);
  EXPECT_EQ(discarded[0].id, second);
  EXPECT_TRUE(discarded[0].stored) << "stored for the caller, never sent";
  EXPECT_EQ(discarded[0].held, ref_ids) << "the holds on its references go";
  EXPECT_FALSE(discarded[0].handed_over);
  EXPECT_EQ(items->emitted(), 1);
  // Closed from now on: a small item with references is discarded too.
  close_while_storing = false;
  EXPECT_FALSE(EmitBlob(*items, 10, refs));
  ASSERT_EQ(discarded.size(), 2u);
  EXPECT_FALSE(discarded[1].stored);
  EXPECT_EQ(discarded[1].held, ref_ids);
  EXPECT_FALSE(EmitBlob(*items, 10));
  items.reset();
  EXPECT_EQ(discarded.size(), 2u) << "each once; an item with nothing to undo is not discarded";

  // The caller's stream is gone when the first item is sent: it was handed over.
  discarded.clear();
  send_ok = false;
  items = make();
  EXPECT_FALSE(EmitBlob(*items, 3000, refs));
  ASSERT_EQ(discarded.size(), 1u);
  EXPECT_EQ(discarded[0].id, first);
  EXPECT_TRUE(discarded[0].stored);
  EXPECT_EQ(discarded[0].held, ref_ids);
  EXPECT_TRUE(discarded[0].handed_over);
  EXPECT_FALSE(EmitBlob(*items, 10)) << "closed from now on";
  EXPECT_EQ(discarded.size(), 1u);

  // Stored, then the producer ends without emitting it (packing threw, say).
  discarded.clear();
  send_ok = true;
  items = make();
  auto blob = Blob(3000);
  PackItem(blob, *items);
  items.reset();
  ASSERT_EQ(discarded.size(), 1u);
  EXPECT_EQ(discarded[0].id, first);
  EXPECT_TRUE(discarded[0].stored);
}

TEST(StoredResultTest, AnAsyncMethodsResultGoesToTheOfferItStartedWithNotTheThreads) {
  static bool registered = RegisterAll("StoredResultTest::Coro::Big", &Coro::Big);
  ASSERT_TRUE(registered);
  FakeStore store(1000), threads(1000);
  StoredResult mine(store.Fn()), another_calls(threads.Fn());
  StoredResult::OnThisThread here(&another_calls);  // as on a loop where a sync call's waits
  Coro coro;
  // Runs Big(n) to its end (it never suspends): the bytes it finished with.
  auto run = [&](int n) {
    Args args;
    args.emplace_back(Pack(n));
    std::optional<std::string> got;
    (*FindAsyncMethod("StoredResultTest::Coro::Big"))(
        &coro, args, [&](size_t size, const std::function<void(char*)>& write) { return mine.Take(size, write); },
        [&](std::string data, std::exception_ptr e, std::vector<RefData>) {
          EXPECT_FALSE(e);
          got = std::move(data);
        });
    EXPECT_TRUE(got) << "finished";
    return got.value_or("unfinished");
  };
  EXPECT_EQ(run(10), Pack(Blob(10))) << "small: inline";
  EXPECT_EQ(run(4000), "") << "big: into the store";
  EXPECT_EQ(std::string(store.arena.begin(), store.arena.end()), Pack(Blob(4000)));
  EXPECT_EQ(threads.offers, 0) << "the thread's StoredResult is another call's";
  proto::ObjectValue result;
  ASSERT_TRUE(mine.MoveInto(&result));
  EXPECT_EQ(result.stored().size(), static_cast<int64_t>(Pack(Blob(4000)).size()));
}

}  // namespace
}  // namespace glint::internal
