#include "fuzz/request_maker.h"

#include <google/protobuf/message.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

namespace glint::fuzz {

namespace pb = google::protobuf;

namespace {
constexpr int kMaxDepth = 4;
constexpr size_t kIdLengths[] = {0, 1, 4, 8, 16, 20, 24, 28, 32};
}  // namespace

std::string RequestMaker::Make(const pb::Descriptor* type) {
  std::string out;
  int kind = static_cast<int>(Below(100));
  if (kind < 5) {
    out = RandomBytes();  // noise
  } else {
    std::unique_ptr<pb::Message> m(pb::MessageFactory::generated_factory()->GetPrototype(type)->New());
    Fill(m.get(), 0);
    m->SerializeToString(&out);
    if (kind < 20) out = Corrupt(std::move(out));
  }
  last_ = out;
  return out;
}

void RequestMaker::Fill(pb::Message* m, int depth) {
  const pb::Descriptor* d = m->GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (!Chance(depth == 0 ? 70 : 45)) continue;
    if (f->is_repeated()) {
      size_t n = Chance(90) ? Below(4) : Below(64);
      for (size_t k = 0; k < n; ++k) FillField(m, f, depth);
    } else {
      FillField(m, f, depth);
    }
  }
}

void RequestMaker::FillField(pb::Message* m, const pb::FieldDescriptor* f, int depth) {
  const pb::Reflection* r = m->GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32: {
      auto v = static_cast<int32_t>(RandomInt());
      rep ? r->AddInt32(m, f, v) : r->SetInt32(m, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_INT64: {
      int64_t v = RandomInt();
      rep ? r->AddInt64(m, f, v) : r->SetInt64(m, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_UINT32: {
      auto v = static_cast<uint32_t>(RandomInt());
      rep ? r->AddUInt32(m, f, v) : r->SetUInt32(m, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_UINT64: {
      auto v = static_cast<uint64_t>(RandomInt());
      rep ? r->AddUInt64(m, f, v) : r->SetUInt64(m, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_DOUBLE: {
      double v = RandomDouble();
      rep ? r->AddDouble(m, f, v) : r->SetDouble(m, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_FLOAT: {
      auto v = static_cast<float>(RandomDouble());
      rep ? r->AddFloat(m, f, v) : r->SetFloat(m, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_BOOL: {
      bool v = Chance(50);
      rep ? r->AddBool(m, f, v) : r->SetBool(m, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      const pb::EnumDescriptor* e = f->enum_type();
      // A known value mostly; proto3 enums are open, so also any number.
      int v = Chance(85) ? e->value(static_cast<int>(Below(e->value_count())))->number()
                         : static_cast<int>(RandomInt());
      rep ? r->AddEnumValue(m, f, v) : r->SetEnumValue(m, f, v);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      std::string v = RandomBytes(f->type() == pb::FieldDescriptor::TYPE_STRING && Chance(95));
      rep ? r->AddString(m, f, std::move(v)) : r->SetString(m, f, std::move(v));
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE: {
      if (depth >= kMaxDepth) break;
      pb::Message* sub = rep ? r->AddMessage(m, f) : r->MutableMessage(m, f);
      Fill(sub, depth + 1);
      break;
    }
  }
}

std::string RequestMaker::RandomBytes(bool text) {
  int kind = static_cast<int>(Below(100));
  if (kind < 30 && !known_.empty()) {
    const std::string& k = known_[Below(known_.size())];
    bool printable = std::all_of(k.begin(), k.end(), [](char c) { return c >= 32 && c < 127; });
    if (!text || printable) return k;
  }
  size_t n;
  if (kind < 70) {
    n = kIdLengths[Below(std::size(kIdLengths))];
  } else if (kind < 95) {
    n = Below(300);
  } else {
    n = Below(256 << 10);
  }
  std::string s(n, '\0');
  bool printable = text || Chance(50);
  for (auto& c : s) c = static_cast<char>(printable ? 32 + Below(95) : Below(256));
  return s;
}

std::string RequestMaker::Corrupt(std::string b) {
  switch (Below(5)) {
    case 0:  // flip bytes
      for (size_t i = 0, n = 1 + Below(8); i < n && !b.empty(); ++i) b[Below(b.size())] ^= static_cast<char>(1 + Below(255));
      return b;
    case 1:  // cut
      return b.substr(0, Below(b.size() + 1));
    case 2:  // splice with the previous request
      return b.substr(0, Below(b.size() + 1)) + last_.substr(Below(last_.size() + 1));
    case 3:  // a huge length prefix or varint in the middle
      b.insert(Below(b.size() + 1), std::string("\x0a\xff\xff\xff\xff\x0f", 6));
      return b;
    default:  // repeat a piece
      if (b.empty()) return b;
      {
        size_t at = Below(b.size());
        std::string piece = b.substr(at, 1 + Below(16));
        for (size_t i = 0, n = Below(64); i < n; ++i) b.insert(at, piece);
      }
      return b;
  }
}

int64_t RequestMaker::RandomInt() {
  static constexpr int64_t kEdges[] = {0, 1, -1, 2, 100, 65535, 65536, 99999, std::numeric_limits<int32_t>::max(),
                                       std::numeric_limits<int32_t>::min(), std::numeric_limits<int64_t>::max(),
                                       std::numeric_limits<int64_t>::min()};
  if (Chance(50)) return kEdges[Below(std::size(kEdges))];
  if (Chance(50)) return static_cast<int64_t>(Below(1000));
  return static_cast<int64_t>(rng_());
}

double RequestMaker::RandomDouble() {
  static const double kEdges[] = {0.0, 1.0, -1.0, 0.5, 1e9, 1e18, -1e300, std::numeric_limits<double>::infinity(),
                                  -std::numeric_limits<double>::infinity(), std::nan(""),
                                  std::numeric_limits<double>::denorm_min()};
  if (Chance(60)) return kEdges[Below(std::size(kEdges))];
  return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
}

}  // namespace glint::fuzz
