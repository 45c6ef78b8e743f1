// ReferenceCounter: borrowing, freeing owned objects, references inside
// values, and borrowers that are gone.
#include "client/src/objects/reference_counter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/fake_owners.h"

namespace glint::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

constexpr char kSelf[] = "10.0.0.1:1000";
constexpr char kOther[] = "10.0.0.2:2000";

using testing::Addr;

class ReferenceCounterTest : public ::testing::Test {
 protected:
  ReferenceCounterTest()
      : refs_(Addr("10.0.0.1", 1000), &store_, &owners_,
              [this](const std::string& id, const proto::ObjectValue& v) {
                if (v.has_stored()) freed_stored_.push_back(id);
              }) {}

  // An object this process owns, with one ObjectRef copy here.
  void Own(const std::string& id, proto::ObjectValue v = {}) {
    store_.Put(id, std::move(v), /*owned=*/true);
    refs_.AddLocalRef(id, kSelf);
  }

  MemoryStore store_;
  testing::FakeOwners owners_;
  std::vector<std::string> freed_stored_;
  ReferenceCounter refs_;
};

TEST_F(ReferenceCounterTest, TheFirstCopyOfABorrowedReferenceRegistersAndTheLastLetsGo) {
  refs_.AddLocalRef("b", kOther);
  refs_.AddLocalRef("b", kOther);
  EXPECT_THAT(owners_.added, ElementsAre(Pair(kOther, "b")));
  refs_.RemoveLocalRef("b", kOther);
  EXPECT_THAT(owners_.removed, IsEmpty()) << "one copy is still here";
  refs_.RemoveLocalRef("b", kOther);
  EXPECT_THAT(owners_.removed, ElementsAre(Pair(kOther, "b")));
}

TEST_F(ReferenceCounterTest, AnOwnedObjectIsFreedOnceItsCopiesAndBorrowersAreGone) {
  Own("o");
  EXPECT_TRUE(refs_.OnBorrow("o", "borrower:1", /*add=*/true));
  refs_.RemoveLocalRef("o", kSelf);
  EXPECT_TRUE(store_.Contains("o")) << "a borrower still holds it";
  refs_.OnBorrow("o", "borrower:1", /*add=*/false);
  EXPECT_FALSE(store_.Contains("o"));
  EXPECT_FALSE(refs_.OnBorrow("o", "borrower:1", true)) << "an owner without the object says so";
}

TEST_F(ReferenceCounterTest, AnEscapedObjectIsKeptForGood) {
  Own("o");
  refs_.MarkEscaped("o", kSelf);
  refs_.RemoveLocalRef("o", kSelf);
  EXPECT_TRUE(store_.Contains("o"));
}

TEST_F(ReferenceCounterTest, AReferenceInsideAValueLivesAsLongAsTheValue) {
  Own("inner");
  proto::ObjectValue outer;
  outer.set_data("packed");
  auto* c = outer.add_contained();
  c->set_object_id("inner");
  *c->mutable_owner() = Addr("10.0.0.1", 1000);
  Own("outer", outer);
  refs_.RemoveLocalRef("inner", kSelf);
  EXPECT_TRUE(store_.Contains("inner")) << "the outer value holds it";
  refs_.RemoveLocalRef("outer", kSelf);
  EXPECT_FALSE(store_.Contains("outer"));
  EXPECT_FALSE(store_.Contains("inner"));
}

TEST_F(ReferenceCounterTest, AFreedStoredValueFreesItsCopyInTheNodeStore) {
  proto::ObjectValue v;
  v.mutable_stored()->set_node_id("n");
  Own("big", v);
  refs_.RemoveLocalRef("big", kSelf);
  EXPECT_THAT(freed_stored_, ElementsAre("big"));
}

TEST_F(ReferenceCounterTest, PastTheBoundOfBorrowersAnObjectIsKeptForGood) {
  Own("o");
  for (size_t i = 0; i <= ReferenceCounter::kMaxBorrowers; ++i) {
    EXPECT_TRUE(refs_.OnBorrow("o", "borrower:" + std::to_string(i), /*add=*/true));
  }
  refs_.RemoveLocalRef("o", kSelf);
  for (size_t i = 0; i <= ReferenceCounter::kMaxBorrowers; ++i) {
    refs_.OnBorrow("o", "borrower:" + std::to_string(i), /*add=*/false);
  }
  EXPECT_TRUE(store_.Contains("o")) << "the borrower it could not follow may still read it";
}

TEST_F(ReferenceCounterTest, ABorrowerRefusingConnectionsTwiceHasLetGo) {
  Own("o");
  refs_.OnBorrow("o", "borrower:1", true);
  refs_.RemoveLocalRef("o", kSelf);
  owners_.gone.insert("borrower:1");
  refs_.CheckBorrowers();
  EXPECT_TRUE(store_.Contains("o")) << "one refusal may be a restart in progress";
  refs_.CheckBorrowers();
  EXPECT_FALSE(store_.Contains("o"));
}

TEST_F(ReferenceCounterTest, ABorrowerThatAnswersAgainIsNoLongerSuspect) {
  Own("o");
  refs_.OnBorrow("o", "borrower:1", true);
  refs_.RemoveLocalRef("o", kSelf);
  owners_.gone.insert("borrower:1");
  refs_.CheckBorrowers();
  owners_.gone.clear();
  refs_.CheckBorrowers();
  owners_.gone.insert("borrower:1");
  refs_.CheckBorrowers();
  EXPECT_TRUE(store_.Contains("o")) << "refusals must come twice in a row";
}

TEST_F(ReferenceCounterTest, AResultHandsItsOwnedReferencesToTheCallerAndKeepsBorrowedOnes) {
  Own("mine");
  proto::ObjectValue result;
  auto* a = result.add_contained();
  a->set_object_id("mine");
  *a->mutable_owner() = Addr("10.0.0.1", 1000);
  auto* b = result.add_contained();
  b->set_object_id("theirs");
  *b->mutable_owner() = Addr("10.0.0.2", 2000);
  // The executor took a hold on each while the result was made.
  refs_.AddLocalRef("mine", kSelf, false);
  refs_.AddLocalRef("theirs", kOther, false);
  refs_.HandOverContained("caller:9", &result);
  ASSERT_EQ(result.contained_size(), 1) << "only what this process owns is listed for the caller";
  EXPECT_EQ(result.contained(0).object_id(), "mine");
  refs_.RemoveLocalRef("mine", kSelf);
  EXPECT_TRUE(store_.Contains("mine")) << "the caller borrows it now";
  refs_.OnBorrow("mine", "caller:9", false);
  EXPECT_FALSE(store_.Contains("mine"));
  EXPECT_THAT(owners_.removed, IsEmpty()) << "the borrowed one is kept here for good";
}

TEST_F(ReferenceCounterTest, AResultThatNeverReachedTheCallerGivesBackWhatItsReferencesHeld) {
  const std::vector<RefData> held{{"mine", kSelf}, {"theirs", kOther}, {"mine", kSelf}};
  auto result = [] {
    proto::ObjectValue v;
    for (auto [id, host, port] : {std::tuple{"mine", "10.0.0.1", 1000}, {"theirs", "10.0.0.2", 2000},
                                  {"mine", "10.0.0.1", 1000}}) {
      auto* c = v.add_contained();
      c->set_object_id(id);
      *c->mutable_owner() = Addr(host, port);
    }
    return v;
  };
  auto hold = [&] {
    for (auto& r : held) refs_.AddLocalRef(r.id, r.owner, false);  // as the executor does while packing
  };
  refs_.AddLocalRef("theirs", kOther);  // this process's own copy of the borrowed one

  // Handed over, then the caller's stream was gone.
  Own("mine");
  hold();
  auto v = result();
  refs_.HandOverContained("caller:9", &v);
  refs_.TakeBackContained("caller:9", held, /*handed_over=*/true);
  refs_.RemoveLocalRef("mine", kSelf);
  EXPECT_FALSE(store_.Contains("mine")) << "the caller no longer borrows it";
  refs_.RemoveLocalRef("theirs", kOther);
  EXPECT_THAT(owners_.removed, ElementsAre(Pair(kOther, "theirs"))) << "the borrowed one is not kept for good";

  // Never handed over (the close came first): the holds go.
  owners_.removed.clear();
  refs_.AddLocalRef("theirs", kOther);
  Own("mine");
  hold();
  refs_.TakeBackContained("caller:9", held, /*handed_over=*/false);
  refs_.RemoveLocalRef("mine", kSelf);
  EXPECT_FALSE(store_.Contains("mine"));
  refs_.RemoveLocalRef("theirs", kOther);
  EXPECT_THAT(owners_.removed, ElementsAre(Pair(kOther, "theirs")));
}

}  // namespace
}  // namespace glint::internal
