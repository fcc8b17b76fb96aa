#include "exec/row_codec.h"

#include <arrow/visit_type_inline.h>

#include <cstring>

namespace lakestream::exec {

namespace {

Status Corrupt() {
  return ExecutionError("corrupt streaming state value (truncated or of another schema)");
}

void PutU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }

Status EncodeValue(const arrow::Array& a, int64_t i, std::string* out) {
  if (a.IsNull(i)) {
    out->push_back(0);
    return Status::OK();
  }
  out->push_back(1);
  const auto& t = *a.type();
  switch (t.id()) {
    case arrow::Type::NA:
      return Status::OK();
    case arrow::Type::BOOL:
      out->push_back(static_cast<const arrow::BooleanArray&>(a).Value(i) ? 1 : 0);
      return Status::OK();
    case arrow::Type::STRING:
    case arrow::Type::BINARY: {
      auto v = static_cast<const arrow::BinaryArray&>(a).GetView(i);
      PutU32(out, static_cast<uint32_t>(v.size()));
      out->append(v.data(), v.size());
      return Status::OK();
    }
    case arrow::Type::LARGE_STRING:
    case arrow::Type::LARGE_BINARY: {
      auto v = static_cast<const arrow::LargeBinaryArray&>(a).GetView(i);
      PutU32(out, static_cast<uint32_t>(v.size()));
      out->append(v.data(), v.size());
      return Status::OK();
    }
    case arrow::Type::STRUCT: {
      const auto& s = static_cast<const arrow::StructArray&>(a);
      for (int f = 0; f < s.num_fields(); ++f)
        ARROW_RETURN_NOT_OK(EncodeValue(*s.field(f), i, out));
      return Status::OK();
    }
    case arrow::Type::LIST:
    case arrow::Type::MAP: {
      const auto& l = static_cast<const arrow::ListArray&>(a);
      auto start = l.value_offset(i), n = l.value_length(i);
      PutU32(out, static_cast<uint32_t>(n));
      for (int64_t k = 0; k < n; ++k) ARROW_RETURN_NOT_OK(EncodeValue(*l.values(), start + k, out));
      return Status::OK();
    }
    case arrow::Type::LARGE_LIST: {
      const auto& l = static_cast<const arrow::LargeListArray&>(a);
      auto start = l.value_offset(i), n = l.value_length(i);
      PutU32(out, static_cast<uint32_t>(n));
      for (int64_t k = 0; k < n; ++k) ARROW_RETURN_NOT_OK(EncodeValue(*l.values(), start + k, out));
      return Status::OK();
    }
    default:
      break;
  }
  if (arrow::is_fixed_width(t.id()) && t.id() != arrow::Type::DICTIONARY) {
    int width = t.byte_width();
    if (width <= 0)
      return Unsupported("streaming state cannot hold values of type {}", t.ToString());
    const auto* data = a.data()->GetValues<uint8_t>(1, 0);
    out->append(reinterpret_cast<const char*>(data + (a.offset() + i) * width), width);
    return Status::OK();
  }
  return Unsupported("streaming state cannot hold values of type {}", t.ToString());
}

Status DecodeValue(std::string_view* in, arrow::ArrayBuilder* b) {
  if (in->empty()) return Corrupt();
  char valid = (*in)[0];
  in->remove_prefix(1);
  if (!valid) return b->AppendNull();
  // type() returns a fresh shared_ptr for nested builders: keep it alive.
  const std::shared_ptr<arrow::DataType> type = b->type();
  const auto& t = *type;
  auto take = [&](size_t n) -> Result<std::string_view> {
    if (in->size() < n) return Corrupt();
    auto v = in->substr(0, n);
    in->remove_prefix(n);
    return v;
  };
  auto u32 = [&]() -> Result<uint32_t> {
    ARROW_ASSIGN_OR_RAISE(auto v, take(4));
    uint32_t x;
    std::memcpy(&x, v.data(), 4);
    return x;
  };
  switch (t.id()) {
    case arrow::Type::NA:
      return b->AppendNull();
    case arrow::Type::BOOL: {
      ARROW_ASSIGN_OR_RAISE(auto v, take(1));
      return static_cast<arrow::BooleanBuilder*>(b)->Append(v[0] != 0);
    }
    case arrow::Type::STRING:
    case arrow::Type::BINARY: {
      ARROW_ASSIGN_OR_RAISE(auto n, u32());
      ARROW_ASSIGN_OR_RAISE(auto v, take(n));
      return static_cast<arrow::BinaryBuilder*>(b)->Append(v);
    }
    case arrow::Type::LARGE_STRING:
    case arrow::Type::LARGE_BINARY: {
      ARROW_ASSIGN_OR_RAISE(auto n, u32());
      ARROW_ASSIGN_OR_RAISE(auto v, take(n));
      return static_cast<arrow::LargeBinaryBuilder*>(b)->Append(v);
    }
    case arrow::Type::STRUCT: {
      auto* sb = static_cast<arrow::StructBuilder*>(b);
      ARROW_RETURN_NOT_OK(sb->Append());
      for (int f = 0; f < sb->num_fields(); ++f)
        ARROW_RETURN_NOT_OK(DecodeValue(in, sb->field_builder(f)));
      return Status::OK();
    }
    case arrow::Type::LIST: {
      auto* lb = static_cast<arrow::ListBuilder*>(b);
      ARROW_ASSIGN_OR_RAISE(auto n, u32());
      ARROW_RETURN_NOT_OK(lb->Append());
      for (uint32_t k = 0; k < n; ++k) ARROW_RETURN_NOT_OK(DecodeValue(in, lb->value_builder()));
      return Status::OK();
    }
    case arrow::Type::LARGE_LIST: {
      auto* lb = static_cast<arrow::LargeListBuilder*>(b);
      ARROW_ASSIGN_OR_RAISE(auto n, u32());
      ARROW_RETURN_NOT_OK(lb->Append());
      for (uint32_t k = 0; k < n; ++k) ARROW_RETURN_NOT_OK(DecodeValue(in, lb->value_builder()));
      return Status::OK();
    }
    case arrow::Type::MAP: {
      // A map's entries are encoded as structs (key, value), as its child array.
      auto* mb = static_cast<arrow::MapBuilder*>(b);
      ARROW_ASSIGN_OR_RAISE(auto n, u32());
      ARROW_RETURN_NOT_OK(mb->Append());
      for (uint32_t k = 0; k < n; ++k) {
        ARROW_ASSIGN_OR_RAISE(auto valid_entry, take(1));
        if (!valid_entry[0]) return Corrupt();
        ARROW_RETURN_NOT_OK(DecodeValue(in, mb->key_builder()));
        ARROW_RETURN_NOT_OK(DecodeValue(in, mb->item_builder()));
      }
      return Status::OK();
    }
    default:
      break;
  }
  int width = t.byte_width();
  if (!arrow::is_fixed_width(t.id()) || width <= 0) {
    return Unsupported("streaming state cannot hold values of type {}", t.ToString());
  }
  ARROW_ASSIGN_OR_RAISE(auto v, take(static_cast<size_t>(width)));
  // Fixed-width builders all accept raw little-endian bytes through the
  // same buffer layout; append via the typed builder to keep validity right.
  switch (t.id()) {
#define LS_FIXED(TYPE, BUILDER, CTYPE)                 \
  case arrow::Type::TYPE: {                            \
    CTYPE x;                                           \
    std::memcpy(&x, v.data(), sizeof(x));              \
    return static_cast<arrow::BUILDER*>(b)->Append(x); \
  }
    LS_FIXED(INT8, Int8Builder, int8_t)
    LS_FIXED(INT16, Int16Builder, int16_t)
    LS_FIXED(INT32, Int32Builder, int32_t)
    LS_FIXED(INT64, Int64Builder, int64_t)
    LS_FIXED(UINT8, UInt8Builder, uint8_t)
    LS_FIXED(UINT16, UInt16Builder, uint16_t)
    LS_FIXED(UINT32, UInt32Builder, uint32_t)
    LS_FIXED(UINT64, UInt64Builder, uint64_t)
    LS_FIXED(FLOAT, FloatBuilder, float)
    LS_FIXED(DOUBLE, DoubleBuilder, double)
    LS_FIXED(DATE32, Date32Builder, int32_t)
    LS_FIXED(DATE64, Date64Builder, int64_t)
    LS_FIXED(TIMESTAMP, TimestampBuilder, int64_t)
    LS_FIXED(DURATION, DurationBuilder, int64_t)
    LS_FIXED(TIME32, Time32Builder, int32_t)
    LS_FIXED(TIME64, Time64Builder, int64_t)
    LS_FIXED(INTERVAL_MONTHS, MonthIntervalBuilder, int32_t)
#undef LS_FIXED
    case arrow::Type::DECIMAL128:
      return static_cast<arrow::Decimal128Builder*>(b)->Append(
          arrow::Decimal128(reinterpret_cast<const uint8_t*>(v.data())));
    case arrow::Type::FIXED_SIZE_BINARY:
      return static_cast<arrow::FixedSizeBinaryBuilder*>(b)->Append(v.data());
    case arrow::Type::INTERVAL_MONTH_DAY_NANO: {
      arrow::MonthDayNanoIntervalType::MonthDayNanos x;
      std::memcpy(&x, v.data(), sizeof(x));
      return static_cast<arrow::MonthDayNanoIntervalBuilder*>(b)->Append(x);
    }
    default:
      return Unsupported("streaming state cannot hold values of type {}", t.ToString());
  }
}

}  // namespace

void AppendOrderedInt64(std::string* out, int64_t v) {
  uint64_t u = static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((u >> (i * 8)) & 0xff));
}

int64_t ReadOrderedInt64(std::string_view bytes) {
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<uint8_t>(bytes[i]);
  return static_cast<int64_t>(u ^ (uint64_t{1} << 63));
}

Status EncodeRow(const std::vector<const arrow::Array*>& arrays, int64_t row, std::string* out) {
  for (const auto* a : arrays) ARROW_RETURN_NOT_OK(EncodeValue(*a, row, out));
  return Status::OK();
}

Status DecodeRow(std::string_view* in, const std::vector<arrow::ArrayBuilder*>& builders) {
  for (auto* b : builders) ARROW_RETURN_NOT_OK(DecodeValue(in, b));
  return Status::OK();
}

}  // namespace lakestream::exec
