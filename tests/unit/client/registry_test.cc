// The registry behind GLINT_REMOTE: parameters taken by lvalue reference,
// and names given to two different things.
#include "glint/internal/registry.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "client/src/registry_lookup.h"
#include "glint/errors.h"

namespace glint::internal {
namespace {

size_t AppendX(std::string& s) {
  s += "x";
  return s.size();
}

// Takes one by reference and one by value, and returns what it made of both.
std::string Join(std::vector<std::string>& parts, std::string sep) {
  parts.push_back("end");
  std::string out;
  for (auto& p : parts) out += p + sep;
  return out;
}

Generator<int> CountUp(int& from) {
  for (int i = 0; i < 3; ++i) co_yield from++;
}

class Box {
 public:
  static Box* Create(std::string& label) { return new Box(label + "!"); }
  std::string Label(std::string& suffix) { return label_ + suffix; }

 private:
  explicit Box(std::string label) : label_(std::move(label)) {}
  std::string label_;
};

// A call's arguments, each packed already.
Args ArgsOf(std::initializer_list<std::string> packed) {
  Args out;
  for (auto& p : packed) out.emplace_back(p);
  return out;
}

int One() { return 1; }
int Two() { return 2; }

struct CollectItems : ItemSink {
  std::vector<int> items;
  bool Emit(std::string data, std::vector<RefData>) override {
    items.push_back(Unpack<int>(data));
    return true;
  }
  bool EmitAsync(std::string, std::vector<RefData>, std::function<void(bool)>) override { return false; }
};

TEST(RegistryTest, LvalueReferenceParametersBindToTheUnpackedArgument) {
  RegisterAll("RegistryTest::AppendX, RegistryTest::Join, RegistryTest::CountUp", &AppendX, &Join, &CountUp);
  RegisterAll("RegistryTest::Box::Create, &RegistryTest::Box::Label", &Box::Create, &Box::Label);

  auto* append = FindFunction("RegistryTest::AppendX");
  ASSERT_NE(append, nullptr);
  EXPECT_EQ(Unpack<size_t>((*append)(ArgsOf({Pack(std::string("ab"))}))), 3u);

  auto* join = FindFunction("RegistryTest::Join");
  ASSERT_NE(join, nullptr);
  EXPECT_EQ(Unpack<std::string>((*join)(ArgsOf({Pack(std::vector<std::string>{"a", "b"}), Pack(std::string(","))}))),
            "a,b,end,");
  EXPECT_THROW((*join)(ArgsOf({Pack(std::string("one argument"))})), glint::Error) << "the arity is still checked";

  auto* count = FindGenerator("RegistryTest::CountUp");
  ASSERT_NE(count, nullptr);
  CollectItems sink;
  (*count)(nullptr, ArgsOf({Pack(5)}), sink);
  EXPECT_EQ(sink.items, (std::vector<int>{5, 6, 7})) << "the generator reads the argument it was given";

  auto* create = FindFactory("RegistryTest::Box::Create");
  auto* label = FindMethod("RegistryTest::Box::Label");
  ASSERT_NE(create, nullptr);
  ASSERT_NE(label, nullptr);
  void* box = (*create)(ArgsOf({Pack(std::string("box"))}));
  EXPECT_EQ(Unpack<std::string>((*label)(box, ArgsOf({Pack(std::string("?"))}))), "box!?");
  delete static_cast<Box*>(box);
}

TEST(RegistryTest, ANameGivenToTwoFunctionsIsAnErrorAtStartUp) {
  EXPECT_TRUE(CheckRegistry().ok()) << CheckRegistry();
  RegisterAll("RegistryTest::Same", &One);
  RegisterAll("RegistryTest::Same", &One);  // the same function again: harmless
  EXPECT_TRUE(CheckRegistry().ok()) << CheckRegistry();
  RegisterAll("RegistryTest::Same", &Two);
  auto s = CheckRegistry();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("RegistryTest::Same"), std::string::npos) << s;
  // The first registration stays.
  EXPECT_EQ(Unpack<int>((*FindFunction("RegistryTest::Same"))(Args{})), 1);
  EXPECT_EQ(NameOfFunction(reinterpret_cast<const void*>(&One)), "RegistryTest::Same");
  EXPECT_THROW(NameOfFunction(reinterpret_cast<const void*>(&Two)), FunctionNotFoundError);
}

}  // namespace
}  // namespace glint::internal
