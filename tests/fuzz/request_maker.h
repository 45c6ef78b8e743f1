// Inputs for fuzzing Glint's services: requests of a method's own message
// type filled at random through protobuf reflection (ids of the lengths
// Glint uses, values a handler takes for real, extremes, NaN), sometimes
// corrupted as bytes (flipped, cut, spliced) or plain noise, so both the
// parsing and the handlers behind it are driven. Deterministic per seed.
#pragma once
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace glint::fuzz {

class RequestMaker {
 public:
  explicit RequestMaker(uint64_t seed) : rng_(seed) {}
  // Strings taken as they are now and then: real ids and addresses of the
  // cluster under test, so handlers go past their "unknown" answers.
  void AddKnown(std::string value) { known_.push_back(std::move(value)); }
  // The bytes of one request for a method taking `type`.
  std::string Make(const google::protobuf::Descriptor* type);

 private:
  void Fill(google::protobuf::Message* m, int depth);
  void FillField(google::protobuf::Message* m, const google::protobuf::FieldDescriptor* f, int depth);
  // Bytes for a field; `text`: valid UTF-8 mostly (a proto3 string field
  // that is not fails to parse, which only the parser would then see).
  std::string RandomBytes(bool text = false);
  std::string Corrupt(std::string bytes);
  int64_t RandomInt();
  double RandomDouble();
  bool Chance(int percent) { return std::uniform_int_distribution<int>(0, 99)(rng_) < percent; }
  size_t Below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  std::mt19937_64 rng_;
  std::vector<std::string> known_;
  std::string last_;  // the previous request, for splicing
};

}  // namespace glint::fuzz
