// Spark's aggregate functions as GroupedAggregators: per-group accumulators
// stored column-wise, updated by tight loops over group ids (the argument type
// is dispatched once, outside the loop, through templates). Each aggregator
// merges thread-local partials (Merge) and round-trips its accumulators through
// one Arrow array per group (SaveState/LoadState) for streaming checkpoints.
// Finalize does not consume the accumulators, so it may be called repeatedly
// (the window operator relies on that for running frames).
//
// Semantics follow Spark 4 (ANSI on by default): sum of integers overflows
// with an error ([ARITHMETIC_OVERFLOW]) or wraps when ANSI is off, sums of
// decimals widen by 10 digits, averages of decimals by 4 digits of scale,
// sample variance of one row is NULL, min/max order NaN above every value.
// approx_count_distinct is Spark's HyperLogLog++ (hyperloglog.cc) and
// percentile_approx Spark's Greenwald-Khanna summary (quantile_summary.cc).
#include <arrow/array/builder_binary.h>
#include <arrow/array/builder_nested.h>
#include <arrow/array/concatenate.h>
#include <arrow/builder.h>
#include <arrow/compute/api_scalar.h>
#include <arrow/compute/api_vector.h>
#include <arrow/compute/cast.h>
#include <arrow/compute/exec.h>
#include <arrow/compute/row/grouper.h>
#include <arrow/util/bitmap_ops.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <string_view>

#include "expr/aggregate_internal.h"
#include "expr/collation.h"
#include "expr/hyperloglog.h"
#include "expr/kernel_util.h"
#include "expr/quantile_summary.h"

namespace lakestream::expr {
namespace internal {

Result<ArrayPtr> ToArray(const arrow::Datum& d, int64_t length, arrow::MemoryPool* pool) {
  if (d.is_array()) return d.make_array();
  if (d.is_scalar()) return arrow::MakeArrayFromScalar(*d.scalar(), length, pool);
  if (d.is_chunked_array()) {
    const auto& chunks = d.chunked_array()->chunks();
    if (chunks.size() == 1) return chunks[0];
    if (chunks.empty()) return arrow::MakeArrayOfNull(d.type(), 0, pool);
    return arrow::Concatenate(chunks, pool);
  }
  return InternalError("aggregate argument is neither an array nor a scalar: {}", d.ToString());
}

namespace {
Result<std::shared_ptr<arrow::Buffer>> MakeValidity(const std::vector<uint8_t>* valid, int64_t n,
                                                    int64_t* null_count, arrow::MemoryPool* pool) {
  *null_count = 0;
  if (valid == nullptr) return nullptr;
  for (int64_t i = 0; i < n; ++i) *null_count += (*valid)[i] == 0;
  if (*null_count == 0) return nullptr;
  ARROW_ASSIGN_OR_RAISE(auto bitmap, arrow::AllocateEmptyBitmap(n, pool));
  uint8_t* bits = bitmap->mutable_data();
  for (int64_t i = 0; i < n; ++i) {
    if ((*valid)[i]) arrow::bit_util::SetBit(bits, i);
  }
  return std::shared_ptr<arrow::Buffer>(std::move(bitmap));
}
}  // namespace

template <typename T>
Result<ArrayPtr> MakeFixedArray(const types::TypePtr& type, const std::vector<T>& values,
                                const std::vector<uint8_t>* valid, arrow::MemoryPool* pool) {
  const int64_t n = static_cast<int64_t>(values.size());
  ARROW_ASSIGN_OR_RAISE(auto data, arrow::AllocateBuffer(n * sizeof(T), pool));
  if (n > 0) std::memcpy(data->mutable_data(), values.data(), n * sizeof(T));
  int64_t null_count = 0;
  ARROW_ASSIGN_OR_RAISE(auto bitmap, MakeValidity(valid, n, &null_count, pool));
  return arrow::MakeArray(arrow::ArrayData::Make(
      type, n, {std::move(bitmap), std::shared_ptr<arrow::Buffer>(std::move(data))}, null_count));
}

template Result<ArrayPtr> MakeFixedArray(const types::TypePtr&, const std::vector<int8_t>&,
                                         const std::vector<uint8_t>*, arrow::MemoryPool*);
template Result<ArrayPtr> MakeFixedArray(const types::TypePtr&, const std::vector<int16_t>&,
                                         const std::vector<uint8_t>*, arrow::MemoryPool*);
template Result<ArrayPtr> MakeFixedArray(const types::TypePtr&, const std::vector<int32_t>&,
                                         const std::vector<uint8_t>*, arrow::MemoryPool*);
template Result<ArrayPtr> MakeFixedArray(const types::TypePtr&, const std::vector<int64_t>&,
                                         const std::vector<uint8_t>*, arrow::MemoryPool*);
template Result<ArrayPtr> MakeFixedArray(const types::TypePtr&, const std::vector<uint32_t>&,
                                         const std::vector<uint8_t>*, arrow::MemoryPool*);
template Result<ArrayPtr> MakeFixedArray(const types::TypePtr&, const std::vector<float>&,
                                         const std::vector<uint8_t>*, arrow::MemoryPool*);
template Result<ArrayPtr> MakeFixedArray(const types::TypePtr&, const std::vector<double>&,
                                         const std::vector<uint8_t>*, arrow::MemoryPool*);
template Result<ArrayPtr> MakeFixedArray(const types::TypePtr&, const std::vector<__int128>&,
                                         const std::vector<uint8_t>*, arrow::MemoryPool*);

Result<ArrayPtr> MakeBoolArray(const std::vector<uint8_t>& values, const std::vector<uint8_t>* valid,
                               arrow::MemoryPool* pool) {
  const int64_t n = static_cast<int64_t>(values.size());
  ARROW_ASSIGN_OR_RAISE(auto data, arrow::AllocateEmptyBitmap(n, pool));
  for (int64_t i = 0; i < n; ++i) {
    if (values[i]) arrow::bit_util::SetBit(data->mutable_data(), i);
  }
  int64_t null_count = 0;
  ARROW_ASSIGN_OR_RAISE(auto bitmap, MakeValidity(valid, n, &null_count, pool));
  return arrow::MakeArray(arrow::ArrayData::Make(
      arrow::boolean(), n, {std::move(bitmap), std::shared_ptr<arrow::Buffer>(std::move(data))},
      null_count));
}

__int128 Pow10(int n) {
  __int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

}  // namespace internal

namespace {

using internal::ArrayPtr;
using internal::MakeBoolArray;
using internal::MakeFixedArray;
using internal::SparkLess;
using internal::ToArray;
using types::TypePtr;

arrow::MemoryPool* Pool() { return arrow::default_memory_pool(); }

bool IsIntegralType(const arrow::DataType& t) {
  switch (t.id()) {
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
      return true;
    default:
      return false;
  }
}

bool IsNumericType(const arrow::DataType& t) {
  return IsIntegralType(t) || t.id() == arrow::Type::FLOAT || t.id() == arrow::Type::DOUBLE ||
         t.id() == arrow::Type::DECIMAL128;
}

Result<ArrayPtr> CastArray(const ArrayPtr& a, const TypePtr& to) {
  if (a->type()->Equals(*to)) return a;
  auto options = arrow::compute::CastOptions::Safe();
  // Spark's BIGINT -> DOUBLE rounds to the nearest double; Arrow's safe cast
  // refuses integers past 2^53.
  options.allow_float_truncate = to->id() == arrow::Type::DOUBLE || to->id() == arrow::Type::FLOAT;
  return arrow::compute::Cast(*a, to, options);
}

Result<ArrayPtr> ArgAs(const arrow::Datum& d, int64_t length, const TypePtr& to) {
  ARROW_ASSIGN_OR_RAISE(auto a, ToArray(d, length, Pool()));
  return CastArray(a, to);
}

Result<ArrayPtr> MakeStruct(const std::vector<ArrayPtr>& children,
                            const std::vector<std::string>& names) {
  ARROW_ASSIGN_OR_RAISE(auto s, arrow::StructArray::Make(children, names));
  return std::static_pointer_cast<arrow::Array>(s);
}

Result<std::shared_ptr<arrow::StructArray>> StateStruct(const arrow::Array& state, int fields,
                                                        const char* what) {
  if (state.type_id() != arrow::Type::STRUCT || state.type()->num_fields() != fields) {
    return InternalError("{} state must be a struct of {} fields, got {}", what, fields,
                         state.type()->ToString());
  }
  auto s = std::static_pointer_cast<arrow::StructArray>(arrow::MakeArray(state.data()));
  return s;
}

// Returns field i of a struct state, flattened (offset applied).
ArrayPtr Field(const arrow::StructArray& s, int i) {
  return s.field(i);
}

// ---------------------------------------------------------------------------
// Value traits: how to read, store, compare and build values of one physical kind.

template <typename C>
struct PrimTraits {
  using T = C;
  using S = C;
  struct Reader {
    const arrow::Array& a;
    const C* v;
    explicit Reader(const arrow::Array& arr) : a(arr), v(arr.data()->GetValues<C>(1)) {}
    bool IsValid(int64_t i) const { return a.IsValid(i); }
    T Get(int64_t i) const { return v[i]; }
  };
  static T View(const S& s) { return s; }
  static void Store(S* s, T v) { *s = v; }
  static bool Less(T a, T b) { return SparkLess(a, b); }
  static Result<ArrayPtr> Build(const TypePtr& type, const std::vector<S>& vals,
                                const std::vector<uint8_t>& valid) {
    return MakeFixedArray(type, vals, &valid);
  }
  static int64_t Bytes(const std::vector<S>& vals) { return vals.capacity() * sizeof(S); }
};

struct BoolTraits {
  using T = bool;
  using S = uint8_t;
  struct Reader {
    const arrow::BooleanArray& a;
    explicit Reader(const arrow::Array& arr) : a(static_cast<const arrow::BooleanArray&>(arr)) {}
    bool IsValid(int64_t i) const { return a.IsValid(i); }
    T Get(int64_t i) const { return a.Value(i); }
  };
  static T View(const S& s) { return s != 0; }
  static void Store(S* s, T v) { *s = v; }
  static bool Less(T a, T b) { return a < b; }
  static Result<ArrayPtr> Build(const TypePtr&, const std::vector<S>& vals,
                                const std::vector<uint8_t>& valid) {
    return MakeBoolArray(vals, &valid);
  }
  static int64_t Bytes(const std::vector<S>& vals) { return vals.capacity(); }
};

struct DecimalTraits {
  using T = __int128;
  using S = __int128;
  struct Reader {
    const arrow::Array& a;
    const uint8_t* v;
    explicit Reader(const arrow::Array& arr)
        : a(arr), v(arr.data()->buffers[1]->data() + arr.offset() * 16) {}
    bool IsValid(int64_t i) const { return a.IsValid(i); }
    T Get(int64_t i) const { return internal::LoadDecimal(v + i * 16); }
  };
  static T View(const S& s) { return s; }
  static void Store(S* s, T v) { *s = v; }
  static bool Less(T a, T b) { return a < b; }
  static Result<ArrayPtr> Build(const TypePtr& type, const std::vector<S>& vals,
                                const std::vector<uint8_t>& valid) {
    return MakeFixedArray(type, vals, &valid);
  }
  static int64_t Bytes(const std::vector<S>& vals) { return vals.capacity() * 16; }
};

struct BinaryTraits {
  using T = std::string_view;
  using S = std::string;
  struct Reader {
    const arrow::BinaryArray& a;
    explicit Reader(const arrow::Array& arr) : a(static_cast<const arrow::BinaryArray&>(arr)) {}
    bool IsValid(int64_t i) const { return a.IsValid(i); }
    T Get(int64_t i) const { return a.GetView(i); }
  };
  static T View(const S& s) { return s; }
  static void Store(S* s, T v) { s->assign(v.data(), v.size()); }
  static bool Less(T a, T b) { return a < b; }
  static Result<ArrayPtr> Build(const TypePtr& type, const std::vector<S>& vals,
                                const std::vector<uint8_t>& valid) {
    std::unique_ptr<arrow::ArrayBuilder> builder;
    ARROW_RETURN_NOT_OK(arrow::MakeBuilder(Pool(), type, &builder));
    auto* b = static_cast<arrow::BinaryBuilder*>(builder.get());
    ARROW_RETURN_NOT_OK(b->Reserve(vals.size()));
    for (size_t i = 0; i < vals.size(); ++i) {
      if (valid[i]) {
        ARROW_RETURN_NOT_OK(b->Append(vals[i]));
      } else {
        ARROW_RETURN_NOT_OK(b->AppendNull());
      }
    }
    return b->Finish();
  }
  static int64_t Bytes(const std::vector<S>& vals) {
    int64_t n = vals.capacity() * sizeof(S);
    for (const auto& s : vals) n += s.capacity() > 15 ? s.capacity() : 0;
    return n;
  }
};

bool IsOrderable(const arrow::DataType& t) {
  switch (t.id()) {
    case arrow::Type::BOOL:
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
    case arrow::Type::DATE32:
    case arrow::Type::TIMESTAMP:
    case arrow::Type::DURATION:
    case arrow::Type::INTERVAL_MONTHS:
    case arrow::Type::DECIMAL128:
    case arrow::Type::STRING:
    case arrow::Type::BINARY:
      return true;
    default:
      return false;
  }
}

// Calls fn.template operator()<Traits>() for the physical kind of `t`.
template <typename Fn>
auto DispatchOrderable(const arrow::DataType& t, Fn&& fn) {
  switch (t.id()) {
    case arrow::Type::BOOL:
      return fn.template operator()<BoolTraits>();
    case arrow::Type::INT8:
      return fn.template operator()<PrimTraits<int8_t>>();
    case arrow::Type::INT16:
      return fn.template operator()<PrimTraits<int16_t>>();
    case arrow::Type::INT32:
    case arrow::Type::DATE32:
    case arrow::Type::INTERVAL_MONTHS:
      return fn.template operator()<PrimTraits<int32_t>>();
    case arrow::Type::FLOAT:
      return fn.template operator()<PrimTraits<float>>();
    case arrow::Type::DOUBLE:
      return fn.template operator()<PrimTraits<double>>();
    case arrow::Type::DECIMAL128:
      return fn.template operator()<DecimalTraits>();
    case arrow::Type::STRING:
    case arrow::Type::BINARY:
      return fn.template operator()<BinaryTraits>();
    default:  // INT64, TIMESTAMP, DURATION
      return fn.template operator()<PrimTraits<int64_t>>();
  }
}

// ---------------------------------------------------------------------------
// count, count_if

class CountAgg final : public GroupedAggregator {
 public:
  enum Mode { kStar, kNonNull, kIf };
  explicit CountAgg(Mode mode) : mode_(mode) {}
  Status Resize(int64_t n) override {
    counts_.resize(n, 0);
    return Status::OK();
  }
  Status Update(const std::vector<arrow::Datum>& args, const uint32_t* g,
                int64_t length) override {
    if (mode_ == kStar || args.empty()) {
      for (int64_t i = 0; i < length; ++i) ++counts_[g[i]];
      return Status::OK();
    }
    if (mode_ == kIf) {
      ARROW_ASSIGN_OR_RAISE(auto a, ToArray(args[0], length));
      if (a->type_id() != arrow::Type::BOOL) return InternalError("count_if expects BOOLEAN");
      BoolTraits::Reader r(*a);
      for (int64_t i = 0; i < length; ++i) counts_[g[i]] += r.IsValid(i) && r.Get(i);
      return Status::OK();
    }
    // count(a, b, ...): rows where every argument is non-NULL.
    std::vector<ArrayPtr> arrays;
    bool any_null = false;
    for (const auto& d : args) {
      if (d.is_scalar()) {
        if (!d.scalar()->is_valid) any_null = true;
        continue;
      }
      ARROW_ASSIGN_OR_RAISE(auto a, ToArray(d, length));
      if (a->null_count() > 0) arrays.push_back(std::move(a));
    }
    if (any_null) return Status::OK();
    if (arrays.empty()) {
      for (int64_t i = 0; i < length; ++i) ++counts_[g[i]];
      return Status::OK();
    }
    for (int64_t i = 0; i < length; ++i) {
      bool ok = true;
      for (const auto& a : arrays) ok &= a->IsValid(i);
      counts_[g[i]] += ok;
    }
    return Status::OK();
  }
  Status UpdateOneGroup(const std::vector<arrow::Datum>& args, const uint32_t* zeros,
                        int64_t length) override {
    if (mode_ == kStar || args.empty()) {
      counts_[0] += length;
      return Status::OK();
    }
    if (mode_ == kNonNull && args.size() == 1 && args[0].is_array()) {
      counts_[0] += length - args[0].null_count();
      return Status::OK();
    }
    return Update(args, zeros, length);
  }
  Status Merge(GroupedAggregator& other, const uint32_t* mapping) override {
    auto& o = static_cast<CountAgg&>(other);
    for (size_t i = 0; i < o.counts_.size(); ++i) counts_[mapping[i]] += o.counts_[i];
    return Status::OK();
  }
  Result<ArrayPtr> Finalize() override {
    return MakeFixedArray(arrow::int64(), counts_, nullptr);
  }
  Result<ArrayPtr> SaveState() override { return Finalize(); }
  Status LoadState(const arrow::Array& state) override {
    if (state.type_id() != arrow::Type::INT64) return InternalError("count state must be BIGINT");
    PrimTraits<int64_t>::Reader r(state);
    for (int64_t i = 0; i < state.length(); ++i) counts_.push_back(r.IsValid(i) ? r.Get(i) : 0);
    return Status::OK();
  }
  int64_t MemoryUsage() const override { return counts_.capacity() * 8; }

 private:
  Mode mode_;
  std::vector<int64_t> counts_;
};

// ---------------------------------------------------------------------------
// sum / avg

enum class OverflowMode { kError, kWrapOrNull, kNull };

Status LongOverflow() {
  return ExecutionError(
      "[ARITHMETIC_OVERFLOW] long overflow. Use 'try_sum' to tolerate overflow and return NULL "
      "instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error.");
}

std::string DecimalToString(__int128 v, int scale) {
  bool neg = v < 0;
  unsigned __int128 u = neg ? -static_cast<unsigned __int128>(v) : v;
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  } while (u != 0);
  while (static_cast<int>(digits.size()) <= scale) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  if (scale > 0) digits.insert(digits.end() - scale, '.');
  return neg ? "-" + digits : digits;
}

Status DecimalOverflow(__int128 v, int precision, int scale) {
  return ExecutionError(
      "[NUMERIC_VALUE_OUT_OF_RANGE] {} cannot be represented as Decimal({}, {}). If necessary set "
      "\"spark.sql.ansi.enabled\" to \"false\" to bypass this error, and return NULL instead.",
      DecimalToString(v, scale), precision, scale);
}

// sum of integral values as BIGINT.
class SumIntAgg final : public GroupedAggregator {
 public:
  explicit SumIntAgg(OverflowMode mode) : mode_(mode) {}
  Status Resize(int64_t n) override {
    sums_.resize(n, 0);
    has_.resize(n, 0);
    overflow_.resize(n, 0);
    return Status::OK();
  }
  Status Add(uint32_t g, int64_t v) {
    int64_t out;
    if (__builtin_add_overflow(sums_[g], v, &out)) {
      if (mode_ == OverflowMode::kError) return LongOverflow();
      if (mode_ == OverflowMode::kNull) overflow_[g] = 1;
    }
    sums_[g] = out;
    has_[g] = 1;
    return Status::OK();
  }
  Status Update(const std::vector<arrow::Datum>& args, const uint32_t* g,
                int64_t length) override {
    ARROW_ASSIGN_OR_RAISE(auto a, ArgAs(args[0], length, arrow::int64()));
    PrimTraits<int64_t>::Reader r(*a);
    if (a->null_count() == 0) {
      for (int64_t i = 0; i < length; ++i) ARROW_RETURN_NOT_OK(Add(g[i], r.Get(i)));
    } else {
      for (int64_t i = 0; i < length; ++i) {
        if (r.IsValid(i)) ARROW_RETURN_NOT_OK(Add(g[i], r.Get(i)));
      }
    }
    return Status::OK();
  }
  Status UpdateOneGroup(const std::vector<arrow::Datum>& args, const uint32_t* zeros,
                        int64_t length) override {
    ARROW_ASSIGN_OR_RAISE(auto a, ArgAs(args[0], length, arrow::int64()));
    if (a->null_count() == a->length()) return Status::OK();
    const int64_t* v = a->data()->GetValues<int64_t>(1);
    int64_t sum = sums_[0];
    bool overflow = false;
    auto add = [&](int64_t x) { overflow |= __builtin_add_overflow(sum, x, &sum); };
    if (a->null_count() == 0) {
      for (int64_t i = 0; i < length; ++i) add(v[i]);
    } else {
      for (int64_t i = 0; i < length; ++i) {
        if (a->IsValid(i)) add(v[i]);
      }
    }
    // Wrapped as Add() does; the error (ANSI) or NULL is decided the same way.
    if (overflow && mode_ == OverflowMode::kError) return LongOverflow();
    if (overflow && mode_ == OverflowMode::kNull) overflow_[0] = 1;
    sums_[0] = sum;
    has_[0] = 1;
    return Status::OK();
  }
  Status Merge(GroupedAggregator& other, const uint32_t* mapping) override {
    auto& o = static_cast<SumIntAgg&>(other);
    for (size_t i = 0; i < o.sums_.size(); ++i) {
      if (!o.has_[i]) continue;
      ARROW_RETURN_NOT_OK(Add(mapping[i], o.sums_[i]));
      overflow_[mapping[i]] |= o.overflow_[i];
    }
    return Status::OK();
  }
  Result<ArrayPtr> Finalize() override {
    std::vector<uint8_t> valid(has_.size());
    for (size_t i = 0; i < has_.size(); ++i) valid[i] = has_[i] && !overflow_[i];
    return MakeFixedArray(arrow::int64(), sums_, &valid);
  }
  Result<ArrayPtr> SaveState() override {
    ARROW_ASSIGN_OR_RAISE(auto sums, MakeFixedArray(arrow::int64(), sums_, &has_));
    ARROW_ASSIGN_OR_RAISE(auto ovf, MakeBoolArray(overflow_, nullptr));
    return MakeStruct({sums, ovf}, {"sum", "overflow"});
  }
  Status LoadState(const arrow::Array& state) override {
    ARROW_ASSIGN_OR_RAISE(auto s, StateStruct(state, 2, "sum"));
    auto sums = Field(*s, 0);
    auto ovf = Field(*s, 1);
    PrimTraits<int64_t>::Reader r(*sums);
    BoolTraits::Reader o(*ovf);
    for (int64_t i = 0; i < s->length(); ++i) {
      sums_.push_back(r.IsValid(i) ? r.Get(i) : 0);
      has_.push_back(r.IsValid(i));
      overflow_.push_back(o.Get(i));
    }
    return Status::OK();
  }
  int64_t MemoryUsage() const override { return sums_.capacity() * 10; }

 private:
  OverflowMode mode_;
  std::vector<int64_t> sums_;
  std::vector<uint8_t> has_, overflow_;
};

// sum (is_avg = false) or avg (true) over DOUBLE.
class SumDoubleAgg final : public GroupedAggregator {
 public:
  explicit SumDoubleAgg(bool is_avg) : is_avg_(is_avg) {}
  Status Resize(int64_t n) override {
    sums_.resize(n, 0.0);
    counts_.resize(n, 0);
    return Status::OK();
  }
  Status Update(const std::vector<arrow::Datum>& args, const uint32_t* g,
                int64_t length) override {
    ARROW_ASSIGN_OR_RAISE(auto a, ArgAs(args[0], length, arrow::float64()));
    PrimTraits<double>::Reader r(*a);
    if (a->null_count() == 0) {
      for (int64_t i = 0; i < length; ++i) {
        sums_[g[i]] += r.Get(i);
        ++counts_[g[i]];
      }
    } else {
      for (int64_t i = 0; i < length; ++i) {
        if (!r.IsValid(i)) continue;
        sums_[g[i]] += r.Get(i);
        ++counts_[g[i]];
      }
    }
    return Status::OK();
  }
  Status UpdateOneGroup(const std::vector<arrow::Datum>& args, const uint32_t* zeros,
                        int64_t length) override {
    ARROW_ASSIGN_OR_RAISE(auto a, ArgAs(args[0], length, arrow::float64()));
    const double* v = a->data()->GetValues<double>(1);
    // In row order, as Update() adds: the same rounding.
    double sum = sums_[0];
    int64_t n = 0;
    if (a->null_count() == 0) {
      for (int64_t i = 0; i < length; ++i) sum += v[i];
      n = length;
    } else {
      for (int64_t i = 0; i < length; ++i) {
        if (!a->IsValid(i)) continue;
        sum += v[i];
        ++n;
      }
    }
    sums_[0] = sum;
    counts_[0] += n;
    return Status::OK();
  }
  Status Merge(GroupedAggregator& other, const uint32_t* mapping) override {
    auto& o = static_cast<SumDoubleAgg&>(other);
    for (size_t i = 0; i < o.sums_.size(); ++i) {
      if (o.counts_[i] == 0) continue;
      sums_[mapping[i]] += o.sums_[i];
      counts_[mapping[i]] += o.counts_[i];
    }
    return Status::OK();
  }
  Result<ArrayPtr> Finalize() override {
    std::vector<uint8_t> valid(sums_.size());
    std::vector<double> out(sums_.size());
    for (size_t i = 0; i < sums_.size(); ++i) {
      valid[i] = counts_[i] > 0;
      out[i] = is_avg_ && counts_[i] > 0 ? sums_[i] / static_cast<double>(counts_[i]) : sums_[i];
    }
    return MakeFixedArray(arrow::float64(), out, &valid);
  }
  Result<ArrayPtr> SaveState() override {
    ARROW_ASSIGN_OR_RAISE(auto sums, MakeFixedArray(arrow::float64(), sums_, nullptr));
    ARROW_ASSIGN_OR_RAISE(auto counts, MakeFixedArray(arrow::int64(), counts_, nullptr));
    return MakeStruct({sums, counts}, {"sum", "count"});
  }
  Status LoadState(const arrow::Array& state) override {
    ARROW_ASSIGN_OR_RAISE(auto s, StateStruct(state, 2, "sum/avg"));
    PrimTraits<double>::Reader r(*Field(*s, 0));
    PrimTraits<int64_t>::Reader c(*Field(*s, 1));
    for (int64_t i = 0; i < s->length(); ++i) {
      sums_.push_back(r.Get(i));
      counts_.push_back(c.Get(i));
    }
    return Status::OK();
  }
  int64_t MemoryUsage() const override { return sums_.capacity() * 16; }

 private:
  bool is_avg_;
  std::vector<double> sums_;
  std::vector<int64_t> counts_;
};

// sum or avg of DECIMAL(p, s) into `result_type`.
class SumDecimalAgg final : public GroupedAggregator {
 public:
  SumDecimalAgg(bool is_avg, int in_scale, std::shared_ptr<arrow::Decimal128Type> result,
                OverflowMode mode)
      : is_avg_(is_avg), in_scale_(in_scale), result_(std::move(result)), mode_(mode) {}
  Status Resize(int64_t n) override {
    sums_.resize(n, 0);
    counts_.resize(n, 0);
    overflow_.resize(n, 0);
    return Status::OK();
  }
  void Add(uint32_t g, __int128 v) {
    __int128 out;
    if (__builtin_add_overflow(sums_[g], v, &out)) overflow_[g] = 1;
    sums_[g] = out;
  }
  Status Update(const std::vector<arrow::Datum>& args, const uint32_t* g,
                int64_t length) override {
    ARROW_ASSIGN_OR_RAISE(auto a, ToArray(args[0], length));
    if (a->type_id() != arrow::Type::DECIMAL128) return InternalError("decimal sum of non-decimal");
    DecimalTraits::Reader r(*a);
    for (int64_t i = 0; i < length; ++i) {
      if (!r.IsValid(i)) continue;
      Add(g[i], r.Get(i));
      ++counts_[g[i]];
    }
    return Status::OK();
  }
  Status Merge(GroupedAggregator& other, const uint32_t* mapping) override {
    auto& o = static_cast<SumDecimalAgg&>(other);
    for (size_t i = 0; i < o.sums_.size(); ++i) {
      if (o.counts_[i] == 0) continue;
      Add(mapping[i], o.sums_[i]);
      counts_[mapping[i]] += o.counts_[i];
      overflow_[mapping[i]] |= o.overflow_[i];
    }
    return Status::OK();
  }
  Result<ArrayPtr> Finalize() override {
    const int p = result_->precision();
    const int s = result_->scale();
    const __int128 bound = internal::Pow10(p);
    const __int128 up = internal::Pow10(s - in_scale_);
    std::vector<__int128> out(sums_.size());
    std::vector<uint8_t> valid(sums_.size());
    for (size_t i = 0; i < sums_.size(); ++i) {
      if (counts_[i] == 0) continue;
      bool bad = overflow_[i];
      __int128 v = sums_[i];
      if (!bad && is_avg_) {
        // sum / count rounded HALF_UP at the result scale, without overflowing:
        // q * 10^k + round(r * 10^k / count).
        __int128 c = counts_[i];
        __int128 q = v / c, r = v % c;
        __int128 scaled_q;
        if (__builtin_mul_overflow(q, up, &scaled_q)) {
          bad = true;
        } else {
          __int128 rr = r * up;
          __int128 frac = rr / c, rem = rr % c;
          if (rem != 0 && 2 * (rem < 0 ? -rem : rem) >= c) frac += rem < 0 ? -1 : 1;
          v = scaled_q + frac;
        }
      }
      if (!bad && (v >= bound || v <= -bound)) bad = true;
      if (bad) {
        if (mode_ == OverflowMode::kError) return DecimalOverflow(v, p, s);
        continue;
      }
      out[i] = v;
      valid[i] = 1;
    }
    return MakeFixedArray(result_, out, &valid);
  }
  Result<ArrayPtr> SaveState() override {
    ARROW_ASSIGN_OR_RAISE(auto sums, MakeFixedArray(arrow::decimal128(38, in_scale_), sums_, nullptr));
    ARROW_ASSIGN_OR_RAISE(auto counts, MakeFixedArray(arrow::int64(), counts_, nullptr));
    ARROW_ASSIGN_OR_RAISE(auto ovf, MakeBoolArray(overflow_, nullptr));
    return MakeStruct({sums, counts, ovf}, {"sum", "count", "overflow"});
  }
  Status LoadState(const arrow::Array& state) override {
    ARROW_ASSIGN_OR_RAISE(auto s, StateStruct(state, 3, "decimal sum/avg"));
    DecimalTraits::Reader r(*Field(*s, 0));
    PrimTraits<int64_t>::Reader c(*Field(*s, 1));
    BoolTraits::Reader o(*Field(*s, 2));
    for (int64_t i = 0; i < s->length(); ++i) {
      sums_.push_back(r.Get(i));
      counts_.push_back(c.Get(i));
      overflow_.push_back(o.Get(i));
    }
    return Status::OK();
  }
  int64_t MemoryUsage() const override { return sums_.capacity() * 25; }

 private:
  bool is_avg_;
  int in_scale_;
  std::shared_ptr<arrow::Decimal128Type> result_;
  OverflowMode mode_;
  std::vector<__int128> sums_;
  std::vector<int64_t> counts_;
  std::vector<uint8_t> overflow_;
};

// ---------------------------------------------------------------------------
// min / max

template <typename Tr, bool kMax>
class MinMaxAgg final : public GroupedAggregator {
 public:
  explicit MinMaxAgg(TypePtr type) : type_(std::move(type)) {}
  Status Resize(int64_t n) override {
    vals_.resize(n);
    has_.resize(n, 0);
    return Status::OK();
  }
  bool Better(typename Tr::T v, const typename Tr::S& cur) const {
    return kMax ? Tr::Less(Tr::View(cur), v) : Tr::Less(v, Tr::View(cur));
  }
  void Offer(uint32_t g, typename Tr::T v) {
    if (!has_[g] || Better(v, vals_[g])) {
      Tr::Store(&vals_[g], v);
      has_[g] = 1;
    }
  }
  Status Update(const std::vector<arrow::Datum>& args, const uint32_t* g,
                int64_t length) override {
    ARROW_ASSIGN_OR_RAISE(auto a, ToArray(args[0], length));
    typename Tr::Reader r(*a);
    if (a->null_count() == 0) {
      for (int64_t i = 0; i < length; ++i) Offer(g[i], r.Get(i));
    } else {
      for (int64_t i = 0; i < length; ++i) {
        if (r.IsValid(i)) Offer(g[i], r.Get(i));
      }
    }
    return Status::OK();
  }
  Status Merge(GroupedAggregator& other, const uint32_t* mapping) override {
    auto& o = static_cast<MinMaxAgg&>(other);
    for (size_t i = 0; i < o.vals_.size(); ++i) {
      if (o.has_[i]) Offer(mapping[i], Tr::View(o.vals_[i]));
    }
    return Status::OK();
  }
  Result<ArrayPtr> Finalize() override { return Tr::Build(type_, vals_, has_); }
  Result<ArrayPtr> SaveState() override { return Finalize(); }
  Status LoadState(const arrow::Array& state) override {
    typename Tr::Reader r(state);
    for (int64_t i = 0; i < state.length(); ++i) {
      vals_.emplace_back();
      has_.push_back(r.IsValid(i));
      if (r.IsValid(i)) Tr::Store(&vals_.back(), r.Get(i));
    }
    return Status::OK();
  }
  int64_t MemoryUsage() const override { return Tr::Bytes(vals_) + has_.capacity(); }

 private:
  TypePtr type_;
  std::vector<typename Tr::S> vals_;
  std::vector<uint8_t> has_;
};

// bool_and / bool_or: min / max over BOOLEAN.
// (Served by MinMaxAgg<BoolTraits, ...>.)

// ---------------------------------------------------------------------------
// stddev / variance (Spark's CentralMomentAgg update and merge formulas, so
// results match Spark to the last bit for the same input order).

class MomentAgg final : public GroupedAggregator {
 public:
  enum Kind { kVarSamp, kVarPop, kStddevSamp, kStddevPop };
  explicit MomentAgg(Kind kind) : kind_(kind) {}
  Status Resize(int64_t n) override {
    n_.resize(n, 0.0);
    avg_.resize(n, 0.0);
    m2_.resize(n, 0.0);
    return Status::OK();
  }
  void Add(uint32_t g, double x) {
    double new_n = n_[g] + 1.0;
    double delta = x - avg_[g];
    double delta_n = delta / new_n;
    avg_[g] += delta_n;
    m2_[g] += delta * (delta - delta_n);
    n_[g] = new_n;
  }
  Status Update(const std::vector<arrow::Datum>& args, const uint32_t* g,
                int64_t length) override {
    ARROW_ASSIGN_OR_RAISE(auto a, ArgAs(args[0], length, arrow::float64()));
    PrimTraits<double>::Reader r(*a);
    for (int64_t i = 0; i < length; ++i) {
      if (r.IsValid(i)) Add(g[i], r.Get(i));
    }
    return Status::OK();
  }
  void MergeOne(uint32_t g, double n2, double avg2, double m2_2) {
    if (n2 == 0) return;
    double n1 = n_[g];
    double new_n = n1 + n2;
    double delta = avg2 - avg_[g];
    double delta_n = new_n == 0.0 ? 0.0 : delta / new_n;
    avg_[g] += delta_n * n2;
    m2_[g] += m2_2 + delta * delta_n * n1 * n2;
    n_[g] = new_n;
  }
  Status Merge(GroupedAggregator& other, const uint32_t* mapping) override {
    auto& o = static_cast<MomentAgg&>(other);
    for (size_t i = 0; i < o.n_.size(); ++i) MergeOne(mapping[i], o.n_[i], o.avg_[i], o.m2_[i]);
    return Status::OK();
  }
  Result<ArrayPtr> Finalize() override {
    std::vector<double> out(n_.size());
    std::vector<uint8_t> valid(n_.size());
    const bool samp = kind_ == kVarSamp || kind_ == kStddevSamp;
    for (size_t i = 0; i < n_.size(); ++i) {
      double n = n_[i];
      // Spark 4 (spark.sql.legacy.statisticalAggregate=false): NULL for n == 0,
      // and for n == 1 in the sample variants.
      if (n == 0 || (samp && n == 1)) continue;
      double v = m2_[i] / (samp ? n - 1 : n);
      if (kind_ == kStddevSamp || kind_ == kStddevPop) v = std::sqrt(v);
      out[i] = v;
      valid[i] = 1;
    }
    return MakeFixedArray(arrow::float64(), out, &valid);
  }
  Result<ArrayPtr> SaveState() override {
    ARROW_ASSIGN_OR_RAISE(auto n, MakeFixedArray(arrow::float64(), n_, nullptr));
    ARROW_ASSIGN_OR_RAISE(auto avg, MakeFixedArray(arrow::float64(), avg_, nullptr));
    ARROW_ASSIGN_OR_RAISE(auto m2, MakeFixedArray(arrow::float64(), m2_, nullptr));
    return MakeStruct({n, avg, m2}, {"n", "avg", "m2"});
  }
  Status LoadState(const arrow::Array& state) override {
    ARROW_ASSIGN_OR_RAISE(auto s, StateStruct(state, 3, "variance"));
    PrimTraits<double>::Reader n(*Field(*s, 0)), avg(*Field(*s, 1)), m2(*Field(*s, 2));
    for (int64_t i = 0; i < s->length(); ++i) {
      n_.push_back(n.Get(i));
      avg_.push_back(avg.Get(i));
      m2_.push_back(m2.Get(i));
    }
    return Status::OK();
  }
  int64_t MemoryUsage() const override { return n_.capacity() * 24; }

 private:
  Kind kind_;
  std::vector<double> n_, avg_, m2_;
};

// ---------------------------------------------------------------------------
// Values of any type referenced per group: (chunk, row) into retained input
// arrays, compacted when the retained rows outgrow the groups. Serves
// first/last/any_value and the value side of max_by/min_by.

class RowRefStore {
 public:
  explicit RowRefStore(TypePtr type) : type_(std::move(type)) {}
  static constexpr int64_t kUnset = -1;
  static int64_t Pack(int64_t chunk, int64_t row) { return (chunk << 40) | row; }

  void Resize(int64_t n) { refs_.resize(n, kUnset); }
  int64_t num_groups() const { return static_cast<int64_t>(refs_.size()); }
  bool IsSet(uint32_t g) const { return refs_[g] != kUnset; }
  int64_t ref(uint32_t g) const { return refs_[g]; }
  void Set(uint32_t g, int64_t packed) { refs_[g] = packed; }
  int64_t AddChunk(ArrayPtr a) {
    retained_rows_ += a->length();
    chunks_.push_back(std::move(a));
    return static_cast<int64_t>(chunks_.size()) - 1;
  }
  void DropLastChunk() {
    retained_rows_ -= chunks_.back()->length();
    chunks_.pop_back();
  }
  int64_t next_chunk() const { return static_cast<int64_t>(chunks_.size()); }

  /// The referenced value of every group (NULL where unset), in group order.
  Result<ArrayPtr> Gather() const {
    const int64_t n = num_groups();
    if (chunks_.empty()) return arrow::MakeArrayOfNull(type_, n, Pool());
    std::vector<int64_t> starts(chunks_.size());
    int64_t total = 0;
    for (size_t c = 0; c < chunks_.size(); ++c) {
      starts[c] = total;
      total += chunks_[c]->length();
    }
    std::vector<int64_t> idx(n);
    std::vector<uint8_t> valid(n);
    for (int64_t g = 0; g < n; ++g) {
      if (refs_[g] == kUnset) continue;
      idx[g] = starts[refs_[g] >> 40] + (refs_[g] & ((int64_t{1} << 40) - 1));
      valid[g] = 1;
    }
    ARROW_ASSIGN_OR_RAISE(auto indices, MakeFixedArray(arrow::int64(), idx, &valid));
    auto chunked = std::make_shared<arrow::ChunkedArray>(chunks_, type_);
    ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(chunked, indices));
    return ToArray(taken, n);
  }
  /// Replaces the retained chunks by one array holding exactly the referenced rows.
  Status Compact() {
    ARROW_ASSIGN_OR_RAISE(auto values, Gather());
    chunks_ = {values};
    retained_rows_ = values->length();
    for (int64_t g = 0; g < num_groups(); ++g) {
      if (refs_[g] != kUnset) refs_[g] = Pack(0, g);
    }
    return Status::OK();
  }
  Status MaybeCompact() {
    if (retained_rows_ > 2 * num_groups() + 65536 || chunks_.size() > 4096) return Compact();
    return Status::OK();
  }
  int64_t MemoryUsage() const {
    int64_t n = refs_.capacity() * 8;
    for (const auto& c : chunks_) {
      for (const auto& b : c->data()->buffers) n += b ? b->size() : 0;
    }
    return n;
  }

 private:
  TypePtr type_;
  std::vector<ArrayPtr> chunks_;
  std::vector<int64_t> refs_;
  int64_t retained_rows_ = 0;
};

// first / last / any_value, optionally ignoring NULLs.
class FirstLastAgg final : public GroupedAggregator {
 public:
  FirstLastAgg(TypePtr type, bool last, bool ignore_nulls)
      : store_(std::move(type)), last_(last), ignore_nulls_(ignore_nulls) {}
  Status Resize(int64_t n) override {
    store_.Resize(n);
    return Status::OK();
  }
  Status Update(const std::vector<arrow::Datum>& args, const uint32_t* g,
                int64_t length) override {
    ARROW_ASSIGN_OR_RAISE(auto a, ToArray(args[0], length));
    const bool skip_nulls = ignore_nulls_ && a->null_count() > 0;
    const int64_t chunk = store_.next_chunk();
    bool used = false;
    for (int64_t i = 0; i < length; ++i) {
      if (skip_nulls && a->IsNull(i)) continue;
      if (!last_ && store_.IsSet(g[i])) continue;
      store_.Set(g[i], RowRefStore::Pack(chunk, i));
      used = true;
    }
    if (used) {
      store_.AddChunk(std::move(a));
      return store_.MaybeCompact();
    }
    return Status::OK();
  }
  Status Merge(GroupedAggregator& other, const uint32_t* mapping) override {
    auto& o = static_cast<FirstLastAgg&>(other);
    ARROW_ASSIGN_OR_RAISE(auto values, o.store_.Gather());
    const int64_t chunk = store_.AddChunk(values);
    for (int64_t i = 0; i < o.store_.num_groups(); ++i) {
      if (!o.store_.IsSet(i)) continue;
      if (!last_ && store_.IsSet(mapping[i])) continue;
      store_.Set(mapping[i], RowRefStore::Pack(chunk, i));
    }
    return store_.MaybeCompact();
  }
  Result<ArrayPtr> Finalize() override { return store_.Gather(); }
  Result<ArrayPtr> SaveState() override {
    ARROW_ASSIGN_OR_RAISE(auto values, store_.Gather());
    std::vector<uint8_t> set(store_.num_groups());
    for (int64_t i = 0; i < store_.num_groups(); ++i) set[i] = store_.IsSet(i);
    ARROW_ASSIGN_OR_RAISE(auto flags, MakeBoolArray(set, nullptr));
    return MakeStruct({values, flags}, {"value", "set"});
  }
  Status LoadState(const arrow::Array& state) override {
    ARROW_ASSIGN_OR_RAISE(auto s, StateStruct(state, 2, "first/last"));
    const int64_t base = store_.num_groups();
    store_.Resize(base + s->length());
    const int64_t chunk = store_.AddChunk(Field(*s, 0));
    BoolTraits::Reader set(*Field(*s, 1));
    for (int64_t i = 0; i < s->length(); ++i) {
      if (set.Get(i)) store_.Set(base + i, RowRefStore::Pack(chunk, i));
    }
    return Status::OK();
  }
  int64_t MemoryUsage() const override { return store_.MemoryUsage(); }

 private:
  RowRefStore store_;
  bool last_;
  bool ignore_nulls_;
};

// max_by(x, ord) / min_by(x, ord): x of the row with the greatest (least)
// non-NULL ord; the last such row on ties, as Spark's MaxMinBy (it keeps the
// old row only when its ord is strictly better than the new one's).
template <typename Tr, bool kMax>
class ExtremumByAgg final : public GroupedAggregator {
 public:
  ExtremumByAgg(TypePtr value_type, TypePtr ord_type)
      : store_(std::move(value_type)), ord_type_(std::move(ord_type)) {}
  Status Resize(int64_t n) override {
    store_.Resize(n);
    ords_.resize(n);
    has_.resize(n, 0);
    return Status::OK();
  }
  bool Better(typename Tr::T v, uint32_t g) const {
    if (!has_[g]) return true;
    return kMax ? !Tr::Less(v, Tr::View(ords_[g])) : !Tr::Less(Tr::View(ords_[g]), v);
  }
  Status Update(const std::vector<arrow::Datum>& args, const uint32_t* g,
                int64_t length) override {
    ARROW_ASSIGN_OR_RAISE(auto x, ToArray(args[0], length));
    ARROW_ASSIGN_OR_RAISE(auto ord, ToArray(args[1], length));
    typename Tr::Reader r(*ord);
    const int64_t chunk = store_.next_chunk();
    bool used = false;
    for (int64_t i = 0; i < length; ++i) {
      if (!r.IsValid(i)) continue;
      auto v = r.Get(i);
      if (!Better(v, g[i])) continue;
      Tr::Store(&ords_[g[i]], v);
      has_[g[i]] = 1;
      store_.Set(g[i], RowRefStore::Pack(chunk, i));
      used = true;
    }
    if (used) {
      store_.AddChunk(std::move(x));
      return store_.MaybeCompact();
    }
    return Status::OK();
  }
  Status Merge(GroupedAggregator& other, const uint32_t* mapping) override {
    auto& o = static_cast<ExtremumByAgg&>(other);
    ARROW_ASSIGN_OR_RAISE(auto values, o.store_.Gather());
    const int64_t chunk = store_.AddChunk(values);
    for (size_t i = 0; i < o.has_.size(); ++i) {
      if (!o.has_[i]) continue;
      auto v = Tr::View(o.ords_[i]);
      const uint32_t g = mapping[i];
      if (!Better(v, g)) continue;
      Tr::Store(&ords_[g], v);
      has_[g] = 1;
      store_.Set(g, RowRefStore::Pack(chunk, i));
    }
    return store_.MaybeCompact();
  }
  Result<ArrayPtr> Finalize() override { return store_.Gather(); }
  Result<ArrayPtr> SaveState() override {
    ARROW_ASSIGN_OR_RAISE(auto values, store_.Gather());
    ARROW_ASSIGN_OR_RAISE(auto ords, Tr::Build(ord_type_, ords_, has_));
    return MakeStruct({values, ords}, {"value", "ord"});
  }
  Status LoadState(const arrow::Array& state) override {
    ARROW_ASSIGN_OR_RAISE(auto s, StateStruct(state, 2, "max_by/min_by"));
    const int64_t base = store_.num_groups();
    ARROW_RETURN_NOT_OK(Resize(base + s->length()));
    const int64_t chunk = store_.AddChunk(Field(*s, 0));
    auto ords = Field(*s, 1);
    typename Tr::Reader r(*ords);
    for (int64_t i = 0; i < s->length(); ++i) {
      if (!r.IsValid(i)) continue;
      Tr::Store(&ords_[base + i], r.Get(i));
      has_[base + i] = 1;
      store_.Set(base + i, RowRefStore::Pack(chunk, i));
    }
    return Status::OK();
  }
  int64_t MemoryUsage() const override { return store_.MemoryUsage() + Tr::Bytes(ords_); }

 private:
  RowRefStore store_;
  TypePtr ord_type_;
  std::vector<typename Tr::S> ords_;
  std::vector<uint8_t> has_;
};

// ---------------------------------------------------------------------------
// collect_list / collect_set: the non-NULL input rows with their group ids;
// Finalize groups them (a counting sort by group id keeps input order).

class CollectAgg final : public GroupedAggregator {
 public:
  CollectAgg(TypePtr type, bool distinct) : type_(std::move(type)), distinct_(distinct) {}
  Status Resize(int64_t n) override {
    num_groups_ = n;
    return Status::OK();
  }
  Status Update(const std::vector<arrow::Datum>& args, const uint32_t* g,
                int64_t length) override {
    ARROW_ASSIGN_OR_RAISE(auto a, ToArray(args[0], length));
    if (length == 0) return Status::OK();
    chunks_.push_back(a);
    gids_.emplace_back(g, g + length);
    bytes_ += length * 4;
    for (const auto& b : a->data()->buffers) bytes_ += b ? b->size() : 0;
    return Status::OK();
  }
  Status Merge(GroupedAggregator& other, const uint32_t* mapping) override {
    auto& o = static_cast<CollectAgg&>(other);
    for (size_t c = 0; c < o.chunks_.size(); ++c) {
      std::vector<uint32_t> ids(o.gids_[c].size());
      for (size_t i = 0; i < ids.size(); ++i) ids[i] = mapping[o.gids_[c][i]];
      chunks_.push_back(o.chunks_[c]);
      gids_.push_back(std::move(ids));
    }
    bytes_ += o.bytes_;
    return Status::OK();
  }
  Result<ArrayPtr> Finalize() override {
    // Global row indices of the kept (non-NULL, and for sets first-seen) rows.
    std::vector<uint32_t> kept_gid;
    std::vector<int64_t> kept_row;
    std::unique_ptr<arrow::compute::Grouper> seen;
    if (distinct_) {
      ARROW_ASSIGN_OR_RAISE(seen, arrow::compute::Grouper::Make({arrow::uint32(), type_}));
    }
    int64_t base = 0;
    for (size_t c = 0; c < chunks_.size(); ++c) {
      const auto& a = chunks_[c];
      const auto& g = gids_[c];
      if (distinct_) {
        auto gid_arr = std::make_shared<arrow::UInt32Array>(
            g.size(), arrow::Buffer::Wrap(g.data(), g.size()));
        arrow::compute::ExecBatch batch({gid_arr, a}, a->length());
        uint32_t before = seen->num_groups();
        ARROW_ASSIGN_OR_RAISE(auto ids_datum, seen->Consume(arrow::compute::ExecSpan(batch)));
        auto ids = ids_datum.array_as<arrow::UInt32Array>();
        for (int64_t i = 0; i < a->length(); ++i) {
          if (a->IsNull(i) || ids->Value(i) < before) continue;
          before = std::max(before, ids->Value(i) + 1);
          kept_gid.push_back(g[i]);
          kept_row.push_back(base + i);
        }
      } else {
        for (int64_t i = 0; i < a->length(); ++i) {
          if (a->IsNull(i)) continue;
          kept_gid.push_back(g[i]);
          kept_row.push_back(base + i);
        }
      }
      base += a->length();
    }
    std::vector<int32_t> offsets(num_groups_ + 1, 0);
    for (uint32_t g : kept_gid) ++offsets[g + 1];
    for (int64_t g = 0; g < num_groups_; ++g) offsets[g + 1] += offsets[g];
    std::vector<int64_t> order(kept_gid.size());
    std::vector<int32_t> pos(offsets.begin(), offsets.end() - 1);
    for (size_t i = 0; i < kept_gid.size(); ++i) order[pos[kept_gid[i]]++] = kept_row[i];
    ArrayPtr values;
    if (chunks_.empty()) {
      ARROW_ASSIGN_OR_RAISE(values, arrow::MakeArrayOfNull(type_, 0, Pool()));
    } else {
      ARROW_ASSIGN_OR_RAISE(auto indices, MakeFixedArray(arrow::int64(), order, nullptr));
      auto chunked = std::make_shared<arrow::ChunkedArray>(chunks_, type_);
      ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(chunked, indices));
      ARROW_ASSIGN_OR_RAISE(values, ToArray(taken, order.size()));
    }
    ARROW_ASSIGN_OR_RAISE(auto offsets_arr, MakeFixedArray(arrow::int32(), offsets, nullptr));
    ARROW_ASSIGN_OR_RAISE(auto list, arrow::ListArray::FromArrays(*offsets_arr, *values, Pool()));
    return std::static_pointer_cast<arrow::Array>(list);
  }
  Result<ArrayPtr> SaveState() override { return Finalize(); }
  Status LoadState(const arrow::Array& state) override {
    if (state.type_id() != arrow::Type::LIST) return InternalError("collect state must be a list");
    const auto& list = static_cast<const arrow::ListArray&>(state);
    std::vector<uint32_t> ids;
    for (int64_t i = 0; i < list.length(); ++i) {
      for (int32_t j = list.value_offset(i); j < list.value_offset(i + 1); ++j) {
        ids.push_back(static_cast<uint32_t>(num_groups_ + i));
      }
    }
    auto values = list.values()->Slice(list.value_offset(0),
                                       list.value_offset(list.length()) - list.value_offset(0));
    num_groups_ += list.length();
    if (!ids.empty()) {
      chunks_.push_back(values);
      gids_.push_back(std::move(ids));
    }
    return Status::OK();
  }
  int64_t MemoryUsage() const override { return bytes_; }

 private:
  TypePtr type_;
  bool distinct_;
  int64_t num_groups_ = 0;
  std::vector<ArrayPtr> chunks_;
  std::vector<std::vector<uint32_t>> gids_;
  int64_t bytes_ = 0;
};

// ---------------------------------------------------------------------------
// percentile (exact, interpolated), percentile_approx / approx_percentile
// (Spark's GK summary, quantile_summary.h: an input value within the
// summary's rank error, which is what Spark answers), median.

class PercentileAgg final : public GroupedAggregator {
 public:
  PercentileAgg(TypePtr value_type, std::vector<double> percentages, bool array_result,
                bool approx, double relative_error)
      : value_type_(std::move(value_type)),
        percentages_(std::move(percentages)),
        array_result_(array_result),
        approx_(approx),
        relative_error_(relative_error) {}
  Status Resize(int64_t n) override {
    num_groups_ = n;
    return Status::OK();
  }
  Status Update(const std::vector<arrow::Datum>& args, const uint32_t* g,
                int64_t length) override {
    ARROW_ASSIGN_OR_RAISE(auto a, ToArray(args[0], length));
    if (a->type_id() == arrow::Type::DECIMAL128 || a->type_id() == arrow::Type::DATE32 ||
        a->type_id() == arrow::Type::TIMESTAMP || a->type_id() == arrow::Type::DURATION ||
        a->type_id() == arrow::Type::INTERVAL_MONTHS) {
      ARROW_ASSIGN_OR_RAISE(a, ToDoubleViaStorage(a));
    }
    ARROW_ASSIGN_OR_RAISE(a, CastArray(a, arrow::float64()));
    PrimTraits<double>::Reader r(*a);
    for (int64_t i = 0; i < length; ++i) {
      if (!r.IsValid(i)) continue;
      values_.push_back(r.Get(i));
      gids_.push_back(g[i]);
    }
    return Status::OK();
  }
  Status Merge(GroupedAggregator& other, const uint32_t* mapping) override {
    auto& o = static_cast<PercentileAgg&>(other);
    for (size_t i = 0; i < o.values_.size(); ++i) {
      values_.push_back(o.values_[i]);
      gids_.push_back(mapping[o.gids_[i]]);
    }
    return Status::OK();
  }
  // Values grouped and sorted (or, with sort = false, in arrival order): offsets into `sorted`.
  void Group(std::vector<int64_t>* offsets, std::vector<double>* sorted, bool sort = true) const {
    offsets->assign(num_groups_ + 1, 0);
    for (uint32_t g : gids_) ++(*offsets)[g + 1];
    for (int64_t g = 0; g < num_groups_; ++g) (*offsets)[g + 1] += (*offsets)[g];
    sorted->resize(values_.size());
    std::vector<int64_t> pos(offsets->begin(), offsets->end() - 1);
    for (size_t i = 0; i < values_.size(); ++i) (*sorted)[pos[gids_[i]]++] = values_[i];
    for (int64_t g = 0; sort && g < num_groups_; ++g) {
      std::sort(sorted->begin() + (*offsets)[g], sorted->begin() + (*offsets)[g + 1],
                [](double a, double b) { return SparkLess(a, b); });
    }
  }
  // percentile: linear interpolation between the closest ranks (Spark's Percentile).
  double Pick(const double* v, int64_t n, double p) const {
    double pos = p * static_cast<double>(n - 1);
    double lower = std::floor(pos), higher = std::ceil(pos);
    double lv = v[static_cast<int64_t>(lower)], hv = v[static_cast<int64_t>(higher)];
    if (lower == higher) return lv;
    return (higher - pos) * lv + (pos - lower) * hv;
  }
  Result<ArrayPtr> Finalize() override {
    std::vector<int64_t> offsets;
    std::vector<double> sorted;
    // percentile_approx: Spark's digest fed in arrival order (the order of
    // its head buffer chunks); percentile: the sorted values.
    Group(&offsets, &sorted, /*sort=*/!approx_);
    const size_t k = percentages_.size();
    std::vector<double> out(num_groups_ * k);
    std::vector<uint8_t> valid(num_groups_ * k, 0), group_valid(num_groups_, 0);
    for (int64_t g = 0; g < num_groups_; ++g) {
      int64_t n = offsets[g + 1] - offsets[g];
      if (n == 0) continue;
      group_valid[g] = 1;
      if (approx_) {
        internal::QuantileSummary digest(relative_error_);
        for (int64_t i = offsets[g]; i < offsets[g + 1]; ++i) digest.Insert(sorted[i]);
        std::vector<double> qs = digest.Query(percentages_);
        for (size_t j = 0; j < k; ++j) {
          out[g * k + j] = qs[j];
          valid[g * k + j] = 1;
        }
        continue;
      }
      for (size_t j = 0; j < k; ++j) {
        out[g * k + j] = Pick(sorted.data() + offsets[g], n, percentages_[j]);
        valid[g * k + j] = 1;
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto flat, MakeFixedArray(arrow::float64(), out, &valid));
    if (approx_) {
      ARROW_ASSIGN_OR_RAISE(flat, FromDouble(flat, value_type_));
    }
    if (!array_result_) return flat;
    std::vector<int32_t> list_offsets(num_groups_ + 1);
    for (int64_t g = 0; g <= num_groups_; ++g) list_offsets[g] = static_cast<int32_t>(g * k);
    // ListArray::FromArrays takes nulls from the offsets' validity (the last one stays valid).
    std::vector<uint8_t> offs_valid(group_valid);
    offs_valid.push_back(1);
    ARROW_ASSIGN_OR_RAISE(auto offs, MakeFixedArray(arrow::int32(), list_offsets, &offs_valid));
    ARROW_ASSIGN_OR_RAISE(auto list, arrow::ListArray::FromArrays(*offs, *flat, Pool()));
    return std::static_pointer_cast<arrow::Array>(list);
  }
  Result<ArrayPtr> SaveState() override {
    std::vector<int64_t> offsets;
    std::vector<double> sorted;
    Group(&offsets, &sorted);
    std::vector<int32_t> offs32(offsets.begin(), offsets.end());
    ARROW_ASSIGN_OR_RAISE(auto offs, MakeFixedArray(arrow::int32(), offs32, nullptr));
    ARROW_ASSIGN_OR_RAISE(auto vals, MakeFixedArray(arrow::float64(), sorted, nullptr));
    ARROW_ASSIGN_OR_RAISE(auto list, arrow::ListArray::FromArrays(*offs, *vals, Pool()));
    return std::static_pointer_cast<arrow::Array>(list);
  }
  Status LoadState(const arrow::Array& state) override {
    if (state.type_id() != arrow::Type::LIST) return InternalError("percentile state must be a list");
    const auto& list = static_cast<const arrow::ListArray&>(state);
    PrimTraits<double>::Reader r(*list.values());
    for (int64_t i = 0; i < list.length(); ++i) {
      for (int32_t j = list.value_offset(i); j < list.value_offset(i + 1); ++j) {
        values_.push_back(r.Get(j));
        gids_.push_back(static_cast<uint32_t>(num_groups_ + i));
      }
    }
    num_groups_ += list.length();
    return Status::OK();
  }
  int64_t MemoryUsage() const override { return values_.capacity() * 12; }

 private:
  // Decimals, dates and timestamps travel as doubles of their unscaled
  // storage value (Spark's summary holds doubles too).
  static Result<ArrayPtr> ToDoubleViaStorage(const ArrayPtr& a) {
    if (a->type_id() == arrow::Type::DECIMAL128) return CastArray(a, arrow::float64());
    TypePtr storage = a->type_id() == arrow::Type::DATE32 ||
                              a->type_id() == arrow::Type::INTERVAL_MONTHS
                          ? arrow::int32()
                          : arrow::int64();
    auto data = a->data()->Copy();
    data->type = storage;
    return CastArray(arrow::MakeArray(data), arrow::float64());
  }
  static Result<ArrayPtr> FromDouble(const ArrayPtr& d, const TypePtr& to) {
    switch (to->id()) {
      case arrow::Type::DOUBLE:
        return d;
      case arrow::Type::DECIMAL128:
      case arrow::Type::FLOAT:
        return arrow::compute::Cast(*d, to, arrow::compute::CastOptions::Unsafe());
      case arrow::Type::DATE32:
      case arrow::Type::INTERVAL_MONTHS:
      case arrow::Type::TIMESTAMP:
      case arrow::Type::DURATION: {
        TypePtr storage = to->id() == arrow::Type::DATE32 || to->id() == arrow::Type::INTERVAL_MONTHS
                              ? arrow::int32()
                              : arrow::int64();
        ARROW_ASSIGN_OR_RAISE(auto s, arrow::compute::Cast(*d, storage,
                                                           arrow::compute::CastOptions::Unsafe()));
        auto data = s->data()->Copy();
        data->type = to;
        return arrow::MakeArray(data);
      }
      case arrow::Type::INT8:
      case arrow::Type::INT16:
      case arrow::Type::INT32:
      case arrow::Type::INT64: {
        // Scala's Double.toInt/toLong: NaN -> 0, saturating at the type's bounds
        // (the rounded 2^63 of a BIGINT extreme gives Long.MaxValue back).
        ARROW_ASSIGN_OR_RAISE(auto s, SaturateToInt64(*d));
        return arrow::compute::Cast(*s, to, arrow::compute::CastOptions::Unsafe());
      }
      default:
        return arrow::compute::Cast(*d, to, arrow::compute::CastOptions::Unsafe());
    }
  }
  static Result<ArrayPtr> SaturateToInt64(const arrow::Array& d) {
    const auto& dd = static_cast<const arrow::DoubleArray&>(d);
    std::vector<int64_t> out(dd.length());
    std::vector<uint8_t> valid(dd.length());
    for (int64_t i = 0; i < dd.length(); ++i) {
      valid[i] = dd.IsValid(i);
      const double v = dd.Value(i);
      out[i] = std::isnan(v)                 ? 0
               : v >= 9223372036854775807.0  ? std::numeric_limits<int64_t>::max()
               : v <= -9223372036854775808.0 ? std::numeric_limits<int64_t>::min()
                                             : static_cast<int64_t>(v);
    }
    return MakeFixedArray(arrow::int64(), out, &valid);
  }

  TypePtr value_type_;
  std::vector<double> percentages_;
  bool array_result_;
  bool approx_;
  double relative_error_;
  int64_t num_groups_ = 0;
  std::vector<double> values_;
  std::vector<uint32_t> gids_;
};

// ---------------------------------------------------------------------------
// DISTINCT: a Grouper over (group id, args...) remembers the rows seen per
// group; only first occurrences reach the inner aggregator.

class DistinctAgg final : public GroupedAggregator {
 public:
  DistinctAgg(std::unique_ptr<GroupedAggregator> inner, std::vector<TypePtr> arg_types)
      : inner_(std::move(inner)), arg_types_(std::move(arg_types)) {}
  Status Resize(int64_t n) override {
    if (seen_ == nullptr) {
      std::vector<arrow::TypeHolder> keys{arrow::uint32()};
      for (const auto& t : arg_types_) {
        // A collated STRING is deduplicated on its collation keys.
        auto c =
            t->id() == arrow::Type::STRING ? types::CollationOf(*t) : types::Collation::kUtf8Binary;
        collations_.push_back(c);
        if (c == types::Collation::kUtf8Binary) {
          keys.emplace_back(t);
        } else {
          keys.emplace_back(c == types::Collation::kUtf8Lcase ? arrow::utf8() : arrow::binary());
          collated_ = true;
        }
      }
      ARROW_ASSIGN_OR_RAISE(seen_, arrow::compute::Grouper::Make(keys));
    }
    num_groups_ = n;
    return inner_->Resize(n);
  }
  // Feeds the rows of `batch` (gid column first) that are new to the inner aggregator.
  // `keyed`: the batch already holds collation keys (uniques of another
  // DistinctAgg); the inner aggregator then sees keys, which only counts
  // (count(DISTINCT)) do not mind.
  Status Feed(const arrow::compute::ExecBatch& batch, bool keyed = false) {
    const uint32_t before = seen_->num_groups();
    arrow::compute::ExecBatch keys = batch;
    if (collated_ && !keyed) {
      for (size_t c = 1; c < keys.values.size() && c - 1 < collations_.size(); ++c) {
        if (collations_[c - 1] == types::Collation::kUtf8Binary) continue;
        ARROW_ASSIGN_OR_RAISE(keys.values[c],
                              CollationKeys(keys.values[c], collations_[c - 1], Pool()));
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto ids_datum, seen_->Consume(arrow::compute::ExecSpan(keys)));
    auto ids = ids_datum.array_as<arrow::UInt32Array>();
    std::vector<int64_t> rows;
    // The first row of every id new in this batch. The Grouper need not number
    // new keys in row order (its fast path hashes in mini-batches), so mark
    // them instead of assuming increasing ids.
    std::vector<uint8_t> taken(seen_->num_groups() - before, 0);
    for (int64_t i = 0; i < batch.length; ++i) {
      uint32_t id = ids->Value(i);
      if (id >= before && !taken[id - before]) {
        taken[id - before] = 1;
        rows.push_back(i);
      }
    }
    if (rows.empty()) return Status::OK();
    ARROW_ASSIGN_OR_RAISE(auto indices, MakeFixedArray(arrow::int64(), rows, nullptr));
    std::vector<arrow::Datum> args;
    std::vector<uint32_t> gids(rows.size());
    auto gid_col = batch.values[0].array_as<arrow::UInt32Array>();
    for (size_t i = 0; i < rows.size(); ++i) gids[i] = gid_col->Value(rows[i]);
    for (size_t c = 1; c < batch.values.size(); ++c) {
      ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(batch.values[c], indices));
      args.push_back(std::move(taken));
    }
    return inner_->Update(args, gids.data(), static_cast<int64_t>(rows.size()));
  }
  Status Update(const std::vector<arrow::Datum>& args, const uint32_t* g,
                int64_t length) override {
    if (args.size() == 1 && args[0].is_array() && args[0].type()->id() == arrow::Type::DICTIONARY) {
      return UpdateDictionary(*args[0].make_array(), g, length);
    }
    std::vector<arrow::Datum> cols;
    cols.push_back(std::make_shared<arrow::UInt32Array>(
        length, arrow::Buffer::Wrap(g, length)));
    for (size_t i = 0; i < args.size(); ++i) {
      ARROW_ASSIGN_OR_RAISE(auto a, ToArray(args[i], length));
      if (i < arg_types_.size()) {
        ARROW_ASSIGN_OR_RAISE(a, CastArray(a, arg_types_[i]));
      }
      cols.push_back(a);
    }
    return Feed(arrow::compute::ExecBatch(std::move(cols), length));
  }
  // A dictionary-encoded argument (a scan's low-cardinality strings): the
  // (group, index) pairs are deduplicated first, on integers, and only the
  // values of the first row of each pair are decoded and fed.
  // Without GROUP BY (every row in group 0), over a dictionary-encoded
  // argument: see UpdateDictionary.
  Status UpdateOneGroup(const std::vector<arrow::Datum>& args, const uint32_t* zeros,
                        int64_t length) override {
    if (args.size() == 1 && args[0].is_array() &&
        args[0].type()->id() == arrow::Type::DICTIONARY) {
      return UpdateDictionary(*args[0].make_array(), zeros, length, /*one_group=*/true);
    }
    return Update(args, zeros, length);
  }
  Status UpdateDictionary(const arrow::Array& arg, const uint32_t* g, int64_t length,
                          bool one_group = false) {
    const auto& dict = static_cast<const arrow::DictionaryArray&>(arg);
    std::vector<int64_t> rows;
    if (one_group && dict.indices()->type_id() == arrow::Type::INT32) {
      // One group: the first row of each dictionary entry (and of NULL) is
      // found by marking entries, without hashing, and the scan stops once
      // every entry has been seen (a few rows for a country column).
      const auto& idx = static_cast<const arrow::Int32Array&>(*dict.indices());
      const int64_t entries = dict.dictionary()->length();
      std::vector<uint8_t> seen(static_cast<size_t>(entries) + 1, 0);  // the last one: NULL
      int64_t left = entries + (idx.null_count() > 0 ? 1 : 0);
      for (int64_t i = 0; i < length && left > 0; ++i) {
        const int64_t k = idx.IsNull(i) ? entries : idx.Value(i);
        if (k < 0 || k > entries) {
          return InternalError("count(DISTINCT): dictionary index {} out of range [0, {})", k,
                               entries);
        }
        if (!seen[static_cast<size_t>(k)]) {
          seen[static_cast<size_t>(k)] = 1;
          rows.push_back(i);
          --left;
        }
      }
    } else {
      if (pairs_ == nullptr) {
        ARROW_ASSIGN_OR_RAISE(
            pairs_, arrow::compute::Grouper::Make({arrow::uint32(), dict.indices()->type()}));
      }
      // Pairs of one batch only: indices mean nothing across dictionaries.
      ARROW_RETURN_NOT_OK(pairs_->Reset());
      arrow::Datum gids(
          std::make_shared<arrow::UInt32Array>(length, arrow::Buffer::Wrap(g, length)));
      arrow::compute::ExecBatch keys({gids, arrow::Datum(dict.indices())}, length);
      ARROW_ASSIGN_OR_RAISE(auto ids_datum, pairs_->Consume(arrow::compute::ExecSpan(keys)));
      auto ids = ids_datum.array_as<arrow::UInt32Array>();
      std::vector<uint8_t> taken(pairs_->num_groups(), 0);
      for (int64_t i = 0; i < length; ++i) {
        uint32_t id = ids->Value(i);
        if (!taken[id]) {
          taken[id] = 1;
          rows.push_back(i);
        }
      }
    }
    if (rows.empty()) return Status::OK();
    ARROW_ASSIGN_OR_RAISE(auto indices, MakeFixedArray(arrow::int64(), rows, nullptr));
    ARROW_ASSIGN_OR_RAISE(auto firsts, arrow::compute::Take(arg, indices));
    ARROW_ASSIGN_OR_RAISE(auto values, CastArray(firsts.make_array(), arg_types_[0]));
    std::vector<uint32_t> gids_of(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) gids_of[i] = g[rows[i]];
    std::vector<arrow::Datum> cols;
    cols.push_back(std::make_shared<arrow::UInt32Array>(
        static_cast<int64_t>(rows.size()),
        arrow::Buffer::Wrap(gids_of.data(), static_cast<int64_t>(gids_of.size()))));
    cols.push_back(values);
    return Feed(arrow::compute::ExecBatch(std::move(cols), static_cast<int64_t>(rows.size())));
  }
  Status Merge(GroupedAggregator& other, const uint32_t* mapping) override {
    auto& o = static_cast<DistinctAgg&>(other);
    if (o.seen_ == nullptr) return Status::OK();  // the other side saw no group
    ARROW_ASSIGN_OR_RAISE(auto uniques, o.seen_->GetUniques());
    if (uniques.length == 0) return Status::OK();
    auto old = uniques.values[0].array_as<arrow::UInt32Array>();
    std::vector<uint32_t> mapped(uniques.length);
    for (int64_t i = 0; i < uniques.length; ++i) mapped[i] = mapping[old->Value(i)];
    ARROW_ASSIGN_OR_RAISE(uniques.values[0], MakeFixedArray(arrow::uint32(), mapped, nullptr));
    return Feed(uniques, /*keyed=*/true);
  }
  Result<ArrayPtr> Finalize() override { return inner_->Finalize(); }
  Result<ArrayPtr> SaveState() override {
    // list<struct<args...>> per group, from the uniques grouped by group id.
    if (seen_ == nullptr) ARROW_RETURN_NOT_OK(Resize(num_groups_));  // no group yet: an empty state
    ARROW_ASSIGN_OR_RAISE(auto uniques, seen_->GetUniques());
    std::vector<int32_t> offsets(num_groups_ + 1, 0);
    auto gid = uniques.values[0].array_as<arrow::UInt32Array>();
    for (int64_t i = 0; i < uniques.length; ++i) ++offsets[gid->Value(i) + 1];
    for (int64_t g = 0; g < num_groups_; ++g) offsets[g + 1] += offsets[g];
    std::vector<int64_t> order(uniques.length);
    std::vector<int32_t> pos(offsets.begin(), offsets.end() - 1);
    for (int64_t i = 0; i < uniques.length; ++i) order[pos[gid->Value(i)]++] = i;
    ARROW_ASSIGN_OR_RAISE(auto indices, MakeFixedArray(arrow::int64(), order, nullptr));
    std::vector<ArrayPtr> fields;
    std::vector<std::string> names;
    for (size_t c = 1; c < uniques.values.size(); ++c) {
      ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(uniques.values[c], indices));
      fields.push_back(taken.make_array());
      names.push_back("a" + std::to_string(c - 1));
    }
    ARROW_ASSIGN_OR_RAISE(auto values, MakeStruct(fields, names));
    ARROW_ASSIGN_OR_RAISE(auto offs, MakeFixedArray(arrow::int32(), offsets, nullptr));
    ARROW_ASSIGN_OR_RAISE(auto list, arrow::ListArray::FromArrays(*offs, *values, Pool()));
    return std::static_pointer_cast<arrow::Array>(list);
  }
  Status LoadState(const arrow::Array& state) override {
    if (state.type_id() != arrow::Type::LIST) return InternalError("distinct state must be a list");
    const auto& list = static_cast<const arrow::ListArray&>(state);
    const int64_t base = num_groups_;
    ARROW_RETURN_NOT_OK(Resize(base + list.length()));
    std::vector<uint32_t> gids;
    for (int64_t i = 0; i < list.length(); ++i) {
      for (int32_t j = list.value_offset(i); j < list.value_offset(i + 1); ++j) {
        gids.push_back(static_cast<uint32_t>(base + i));
      }
    }
    if (gids.empty()) return Status::OK();
    auto values = std::static_pointer_cast<arrow::StructArray>(list.values()->Slice(
        list.value_offset(0), list.value_offset(list.length()) - list.value_offset(0)));
    std::vector<arrow::Datum> cols;
    ARROW_ASSIGN_OR_RAISE(auto gid_arr, MakeFixedArray(arrow::uint32(), gids, nullptr));
    cols.push_back(gid_arr);
    for (int c = 0; c < values->num_fields(); ++c) {
      ARROW_ASSIGN_OR_RAISE(auto f, values->GetFlattenedField(c));
      cols.push_back(f);
    }
    return Feed(arrow::compute::ExecBatch(std::move(cols), static_cast<int64_t>(gids.size())),
                /*keyed=*/true);
  }
  int64_t MemoryUsage() const override {
    // The Grouper does not report its size; estimate it from its keys.
    int64_t width = 16;
    for (const auto& t : arg_types_) width += std::max(8, t->byte_width());
    const int64_t uniques = seen_ ? seen_->num_groups() : 0;
    return inner_->MemoryUsage() + uniques * width * 2;
  }

 private:
  std::unique_ptr<GroupedAggregator> inner_;
  std::vector<TypePtr> arg_types_;
  std::unique_ptr<arrow::compute::Grouper> seen_;
  std::unique_ptr<arrow::compute::Grouper> pairs_;  // (group, dictionary index), per batch
  int64_t num_groups_ = 0;
  std::vector<types::Collation> collations_;  // per argument
  bool collated_ = false;                     // some argument has a non-binary collation
};

// ---------------------------------------------------------------------------
// Resolution

using Maker = std::function<std::unique_ptr<GroupedAggregator>()>;

std::string TypeList(const std::vector<TypePtr>& ts) {
  std::string s;
  for (size_t i = 0; i < ts.size(); ++i) {
    if (i) s += ", ";
    s += ts[i] ? types::ToDDL(*ts[i]) : "NULL";
  }
  return s;
}

Status ArgCount(const std::string& name, const AggregateSite& site, size_t lo, size_t hi,
                const char* expected) {
  if (site.arg_types.size() < lo || site.arg_types.size() > hi) {
    return UserError(
        "[WRONG_NUM_ARGS] function {} expects {} but got {} argument(s) ({})", name, expected,
        site.arg_types.size(), TypeList(site.arg_types));
  }
  return Status::OK();
}

bool Ansi(const AggregateSite& site) { return site.config == nullptr || site.config->ansi; }

bool IsNullType(const TypePtr& t) { return t == nullptr || t->id() == arrow::Type::NA; }

// Wraps `make` with DISTINCT deduplication when the call site asks for it.
ResolvedAggregate Finish(TypePtr result, std::vector<TypePtr> arg_types, Maker make,
                         const AggregateSite& site, bool distinct_matters = true) {
  ResolvedAggregate r;
  r.result_type = std::move(result);
  r.arg_types = arg_types;
  if (site.distinct && distinct_matters) {
    std::vector<TypePtr> key_types;
    for (size_t i = 0; i < site.arg_types.size(); ++i) {
      key_types.push_back(i < arg_types.size() && arg_types[i] ? arg_types[i] : site.arg_types[i]);
    }
    r.make = [make, key_types]() -> std::unique_ptr<GroupedAggregator> {
      return std::make_unique<DistinctAgg>(make(), key_types);
    };
  } else {
    r.make = std::move(make);
  }
  return r;
}

Result<ResolvedAggregate> ResolveCount(const AggregateSite& site) {
  if (site.arg_types.empty()) {
    if (site.distinct) return UserError("count(DISTINCT) needs at least one argument");
    return Finish(arrow::int64(), {}, [] { return std::make_unique<CountAgg>(CountAgg::kStar); },
                  site);
  }
  std::vector<TypePtr> casts(site.arg_types.size());
  return Finish(arrow::int64(), casts,
                [] { return std::make_unique<CountAgg>(CountAgg::kNonNull); }, site);
}

Result<ResolvedAggregate> ResolveSumAvg(const std::string& name, const AggregateSite& site,
                                        bool avg, OverflowMode mode) {
  ARROW_RETURN_NOT_OK(ArgCount(name, site, 1, 1, "1 argument"));
  TypePtr t = site.arg_types[0];
  if (IsNullType(t)) {
    return Finish(arrow::float64(), {arrow::float64()},
                  [avg] { return std::make_unique<SumDoubleAgg>(avg); }, site);
  }
  if (t->id() == arrow::Type::DECIMAL128) {
    const auto& d = static_cast<const arrow::Decimal128Type&>(*t);
    int p = d.precision(), s = d.scale();
    auto result = std::static_pointer_cast<arrow::Decimal128Type>(
        avg ? arrow::decimal128(std::min(38, p + 4), std::min(38, s + 4))
            : arrow::decimal128(std::min(38, p + 10), s));
    return Finish(result, {nullptr},
                  [avg, s, result, mode] {
                    return std::make_unique<SumDecimalAgg>(avg, s, result, mode);
                  },
                  site);
  }
  if (IsIntegralType(*t) && !avg) {
    return Finish(arrow::int64(), {nullptr}, [mode] { return std::make_unique<SumIntAgg>(mode); },
                  site);
  }
  if (IsNumericType(*t)) {
    return Finish(arrow::float64(), {nullptr},
                  [avg] { return std::make_unique<SumDoubleAgg>(avg); }, site);
  }
  if (t->id() == arrow::Type::STRING) {
    // Spark implicitly casts strings to DOUBLE (in both modes; under ANSI a
    // malformed string then fails the cast with CAST_INVALID_INPUT, as Spark 4.0.1).
    return Finish(arrow::float64(), {arrow::float64()},
                  [avg] { return std::make_unique<SumDoubleAgg>(avg); }, site);
  }
  return UserError(
      "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\": the first parameter "
      "requires a numeric type, however it has the type \"{}\".",
      name, types::ToDDL(*t));
}

Result<ResolvedAggregate> ResolveMinMax(const std::string& name, const AggregateSite& site,
                                        bool max) {
  ARROW_RETURN_NOT_OK(ArgCount(name, site, 1, 1, "1 argument"));
  TypePtr t = site.arg_types[0];
  if (IsNullType(t)) {
    // min(NULL): NULL of the NULL type.
    return Finish(arrow::null(), {nullptr},
                  [] { return std::make_unique<FirstLastAgg>(arrow::null(), false, true); }, site,
                  false);
  }
  if (!IsOrderable(*t)) {
    return UserError(
        "[DATATYPE_MISMATCH.INVALID_ORDERING_TYPE] Cannot resolve \"{}\": {} does not support "
        "ordering on type \"{}\".",
        name, name, types::ToDDL(*t));
  }
  if (t->id() == arrow::Type::STRING && types::CollationOf(*t) != types::Collation::kUtf8Binary) {
    return ResolveCollatedMinMax(site, max);
  }
  Maker make = DispatchOrderable(*t, [&]<typename Tr>() -> Maker {
    if (max) return [t] { return std::make_unique<MinMaxAgg<Tr, true>>(t); };
    return [t] { return std::make_unique<MinMaxAgg<Tr, false>>(t); };
  });
  return Finish(t, {nullptr}, make, site, false);
}

Result<ResolvedAggregate> ResolveBool(const std::string& name, const AggregateSite& site,
                                      bool is_or) {
  ARROW_RETURN_NOT_OK(ArgCount(name, site, 1, 1, "1 argument"));
  if (!IsNullType(site.arg_types[0]) && site.arg_types[0]->id() != arrow::Type::BOOL) {
    return UserError(
        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\": the first parameter "
        "requires the \"BOOLEAN\" type, however it has the type \"{}\".",
        name, types::ToDDL(*site.arg_types[0]));
  }
  Maker make;
  if (is_or) {
    make = [] { return std::make_unique<MinMaxAgg<BoolTraits, true>>(arrow::boolean()); };
  } else {
    make = [] { return std::make_unique<MinMaxAgg<BoolTraits, false>>(arrow::boolean()); };
  }
  return Finish(arrow::boolean(), {arrow::boolean()}, make, site, false);
}

Result<ResolvedAggregate> ResolveMoment(const std::string& name, const AggregateSite& site,
                                        MomentAgg::Kind kind) {
  ARROW_RETURN_NOT_OK(ArgCount(name, site, 1, 1, "1 argument"));
  const TypePtr& t = site.arg_types[0];
  if (!IsNullType(t) && !IsNumericType(*t) && !(t->id() == arrow::Type::STRING && !Ansi(site))) {
    return UserError(
        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\": the first parameter "
        "requires the \"DOUBLE\" type, however it has the type \"{}\".",
        name, types::ToDDL(*t));
  }
  return Finish(arrow::float64(), {arrow::float64()},
                [kind] { return std::make_unique<MomentAgg>(kind); }, site);
}

// The ignoreNulls flag: a second literal BOOLEAN argument.
Result<bool> IgnoreNullsArg(const std::string& name, const AggregateSite& site) {
  if (site.arg_types.size() < 2) return false;
  const auto& lit = site.literal_args.size() > 1 ? site.literal_args[1] : nullptr;
  if (lit == nullptr || lit->type->id() != arrow::Type::BOOL || !lit->is_valid) {
    return UserError(
        "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] function {} expects its second argument "
        "(ignoreNulls) to be a BOOLEAN literal",
        name);
  }
  return static_cast<const arrow::BooleanScalar&>(*lit).value;
}

Result<ResolvedAggregate> ResolveFirstLast(const std::string& name, const AggregateSite& site,
                                           bool last) {
  ARROW_RETURN_NOT_OK(ArgCount(name, site, 1, 2, "1 or 2 arguments"));
  ARROW_ASSIGN_OR_RAISE(bool ignore, IgnoreNullsArg(name, site));
  TypePtr t = IsNullType(site.arg_types[0]) ? arrow::null() : site.arg_types[0];
  std::vector<TypePtr> casts(site.arg_types.size());
  return Finish(t, casts,
                [t, last, ignore] { return std::make_unique<FirstLastAgg>(t, last, ignore); },
                site, false);
}

Result<ResolvedAggregate> ResolveExtremumBy(const std::string& name, const AggregateSite& site,
                                            bool max) {
  ARROW_RETURN_NOT_OK(ArgCount(name, site, 2, 2, "2 arguments"));
  TypePtr x = IsNullType(site.arg_types[0]) ? arrow::null() : site.arg_types[0];
  TypePtr ord = site.arg_types[1];
  if (IsNullType(ord) || !IsOrderable(*ord)) {
    return UserError(
        "[DATATYPE_MISMATCH.INVALID_ORDERING_TYPE] Cannot resolve \"{}\": {} does not support "
        "ordering on type \"{}\".",
        name, name, IsNullType(ord) ? "VOID" : types::ToDDL(*ord));
  }
  Maker make = DispatchOrderable(*ord, [&]<typename Tr>() -> Maker {
    if (max) return [x, ord] { return std::make_unique<ExtremumByAgg<Tr, true>>(x, ord); };
    return [x, ord] { return std::make_unique<ExtremumByAgg<Tr, false>>(x, ord); };
  });
  return Finish(x, {nullptr, nullptr}, make, site, false);
}

Result<ResolvedAggregate> ResolveCollect(const std::string& name, const AggregateSite& site,
                                         bool set) {
  ARROW_RETURN_NOT_OK(ArgCount(name, site, 1, 1, "1 argument"));
  TypePtr t = IsNullType(site.arg_types[0]) ? arrow::null() : site.arg_types[0];
  if (set && !IsOrderable(*t) && t->id() != arrow::Type::NA) {
    return UserError(
        "[DATATYPE_MISMATCH.UNSUPPORTED_INPUT_TYPE] collect_set does not support the type "
        "\"{}\" here",
        types::ToDDL(*t));
  }
  return Finish(arrow::list(t), {nullptr},
                [t, set] { return std::make_unique<CollectAgg>(t, set); }, site, !set);
}

Result<double> ToDouble(const arrow::Scalar& s) {
  // Scalar::CastTo has no decimal -> double path; the compute cast does.
  ARROW_ASSIGN_OR_RAISE(auto datum, arrow::compute::Cast(arrow::Datum(s.GetSharedPtr()), arrow::float64()));
  auto d = datum.scalar();
  return static_cast<const arrow::DoubleScalar&>(*d).value;
}

// The percentage argument: a literal number or array of numbers in [0, 1].
Status Percentages(const std::string& name, const AggregateSite& site, std::vector<double>* out,
                   bool* is_array) {
  const auto& lit = site.literal_args.size() > 1 ? site.literal_args[1] : nullptr;
  if (lit == nullptr || !lit->is_valid) {
    return UserError(
        "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] function {} expects the percentage to be a "
        "non-NULL literal",
        name);
  }
  out->clear();
  if (lit->type->id() == arrow::Type::LIST) {
    *is_array = true;
    const auto& values = *static_cast<const arrow::ListScalar&>(*lit).value;
    for (int64_t i = 0; i < values.length(); ++i) {
      ARROW_ASSIGN_OR_RAISE(auto s, values.GetScalar(i));
      if (!s->is_valid) return UserError("function {}: percentages must not be NULL", name);
      ARROW_ASSIGN_OR_RAISE(double v, ToDouble(*s));
      out->push_back(v);
    }
  } else {
    *is_array = false;
    ARROW_ASSIGN_OR_RAISE(double v, ToDouble(*lit));
    out->push_back(v);
  }
  for (double v : *out) {
    if (!(v >= 0.0 && v <= 1.0)) {
      return UserError(
          "[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] Cannot resolve \"{}\": the percentage must be "
          "between 0.0 and 1.0, but got {}",
          name, v);
    }
  }
  return Status::OK();
}

Result<ResolvedAggregate> ResolvePercentile(const std::string& name, const AggregateSite& site,
                                            bool approx, bool median) {
  std::vector<double> ps{0.5};
  bool is_array = false;
  if (median) {
    ARROW_RETURN_NOT_OK(ArgCount(name, site, 1, 1, "1 argument"));
  } else {
    ARROW_RETURN_NOT_OK(ArgCount(name, site, 2, 3, "2 or 3 arguments"));
    ARROW_RETURN_NOT_OK(Percentages(name, site, &ps, &is_array));
  }
  TypePtr t = site.arg_types[0];
  if (IsNullType(t)) t = arrow::float64();
  const bool ok = IsNumericType(*t) || t->id() == arrow::Type::DATE32 ||
                  t->id() == arrow::Type::TIMESTAMP || t->id() == arrow::Type::DURATION ||
                  t->id() == arrow::Type::INTERVAL_MONTHS;
  if (!ok) {
    return UserError(
        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\": the first parameter "
        "requires a numeric, date, timestamp or interval type, however it has the type \"{}\".",
        name, types::ToDDL(*t));
  }
  double relative_error = 1.0 / 10000;
  if (approx && site.arg_types.size() == 3) {
    const auto& acc = site.literal_args.size() > 2 ? site.literal_args[2] : nullptr;
    if (acc == nullptr || !acc->is_valid) {
      return UserError("function {} expects the accuracy to be an integer literal", name);
    }
    ARROW_ASSIGN_OR_RAISE(double a, ToDouble(*acc));
    if (a <= 0) {
      return UserError(
          "[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] Cannot resolve \"{}\": the accuracy must be "
          "positive, but got {}",
          name, a);
    }
    relative_error = 1.0 / a;
  }
  if (!approx && site.arg_types.size() == 3) {
    return Unsupported("percentile with a frequency argument");
  }
  // percentile / median of a numeric input answer DOUBLE (Spark casts to double).
  TypePtr elem = approx ? t : arrow::float64();
  TypePtr result = is_array ? arrow::list(elem) : elem;
  std::vector<TypePtr> casts(site.arg_types.size());
  return Finish(result, casts,
                [t, ps, is_array, approx, relative_error] {
                  return std::make_unique<PercentileAgg>(t, ps, is_array, approx, relative_error);
                },
                site);
}

Result<ResolvedAggregate> ResolveCountIf(const AggregateSite& site) {
  ARROW_RETURN_NOT_OK(ArgCount("count_if", site, 1, 1, "1 argument"));
  if (!IsNullType(site.arg_types[0]) && site.arg_types[0]->id() != arrow::Type::BOOL) {
    return UserError(
        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"count_if\": the first "
        "parameter requires the \"BOOLEAN\" type, however it has the type \"{}\".",
        types::ToDDL(*site.arg_types[0]));
  }
  return Finish(arrow::int64(), {arrow::boolean()},
                [] { return std::make_unique<CountAgg>(CountAgg::kIf); }, site, false);
}

Result<ResolvedAggregate> ResolveApproxCountDistinct(const AggregateSite& site) {
  ARROW_RETURN_NOT_OK(ArgCount("approx_count_distinct", site, 1, 2, "1 or 2 arguments"));
  double relative_sd = 0.05;
  if (site.arg_types.size() == 2) {
    const auto& rsd = site.literal_args.size() > 1 ? site.literal_args[1] : nullptr;
    if (rsd == nullptr || !rsd->is_valid) {
      return UserError(
          "approx_count_distinct expects the relative standard deviation (its second argument) "
          "to be a numeric literal");
    }
    ARROW_ASSIGN_OR_RAISE(relative_sd, ToDouble(*rsd));
  }
  ARROW_ASSIGN_OR_RAISE(int precision, internal::HyperLogLogPrecision(relative_sd));
  // HyperLogLog++ as Spark's (hyperloglog.h); DISTINCT changes nothing.
  return Finish(
      arrow::int64(), std::vector<TypePtr>(site.arg_types.size()),
      [precision] { return internal::MakeHyperLogLogPlusPlus(precision); }, site, false);
}

// ---------------------------------------------------------------------------
// skewness / kurtosis / corr / covar_pop / covar_samp. Each group buffers its
// (x[, y]) values and Finalize replays Spark's CentralMomentAgg /
// PearsonCorrelation / Covariance update formulas in input order, so results
// match Spark bit for bit on the same order. Merge appends the other buffer.

class StatsAgg final : public GroupedAggregator {
 public:
  enum Kind { kSkewness, kKurtosis, kCorr, kCovarPop, kCovarSamp };
  StatsAgg(Kind kind, bool ansi) : kind_(kind), ansi_(ansi) {}
  bool Pair() const { return kind_ != kSkewness && kind_ != kKurtosis; }
  Status Resize(int64_t n) override {
    vals_.resize(n);
    return Status::OK();
  }
  Status Update(const std::vector<arrow::Datum>& args, const uint32_t* g,
                int64_t length) override {
    ARROW_ASSIGN_OR_RAISE(auto a, ArgAs(args[0], length, arrow::float64()));
    PrimTraits<double>::Reader x(*a);
    if (!Pair()) {
      for (int64_t i = 0; i < length; ++i) {
        if (x.IsValid(i)) vals_[g[i]].push_back(x.Get(i));
      }
      return Status::OK();
    }
    ARROW_ASSIGN_OR_RAISE(auto b, ArgAs(args[1], length, arrow::float64()));
    PrimTraits<double>::Reader y(*b);
    for (int64_t i = 0; i < length; ++i) {
      if (x.IsValid(i) && y.IsValid(i)) {
        vals_[g[i]].push_back(x.Get(i));
        vals_[g[i]].push_back(y.Get(i));
      }
    }
    return Status::OK();
  }
  Status Merge(GroupedAggregator& other, const uint32_t* mapping) override {
    auto& o = static_cast<StatsAgg&>(other);
    for (size_t i = 0; i < o.vals_.size(); ++i) {
      auto& dst = vals_[mapping[i]];
      dst.insert(dst.end(), o.vals_[i].begin(), o.vals_[i].end());
    }
    return Status::OK();
  }
  // Returns false for NULL.
  bool Moment(const std::vector<double>& v, double* out) const {
    double n = 0, avg = 0, m2 = 0, m3 = 0, m4 = 0;
    for (double x : v) {
      double new_n = n + 1.0;
      double delta = x - avg;
      double delta_n = delta / new_n;
      double new_m2 = m2 + delta * (delta - delta_n);
      double delta2 = delta * delta;
      double delta_n2 = delta_n * delta_n;
      double new_m3 = m3 - 3.0 * delta_n * new_m2 + delta * (delta2 - delta_n2);
      double new_m4 = m4 - 4.0 * delta_n * new_m3 - 6.0 * delta_n2 * new_m2 +
                      delta * (delta * delta2 - delta_n * delta_n2);
      n = new_n;
      avg += delta_n;
      m2 = new_m2;
      m3 = new_m3;
      m4 = new_m4;
    }
    // Spark 4 (legacy.statisticalAggregate=false): NULL on n == 0 or m2 == 0.
    if (n == 0 || m2 == 0.0) return false;
    if (kind_ == kSkewness) {
      *out = std::sqrt(n) * m3 / std::sqrt(m2 * m2 * m2);
    } else {
      *out = n * m4 / (m2 * m2) - 3.0;
    }
    return true;
  }
  Result<bool> Covariance(const std::vector<double>& v, double* out) const {
    double n = 0, xavg = 0, yavg = 0, ck = 0, xmk = 0, ymk = 0;
    for (size_t k = 0; k + 1 < v.size(); k += 2) {
      double x = v[k], y = v[k + 1];
      double new_n = n + 1.0;
      double dx = x - xavg;
      double dx_n = dx / new_n;
      double dy = y - yavg;
      double dy_n = dy / new_n;
      double new_xavg = xavg + dx_n;
      double new_yavg = yavg + dy_n;
      ck += dx * (y - new_yavg);
      xmk += dx * (x - new_xavg);
      ymk += dy * (y - new_yavg);
      xavg = new_xavg;
      yavg = new_yavg;
      n = new_n;
    }
    if (n == 0) return false;
    switch (kind_) {
      case kCorr:
        if (n == 1) return false;
        // Spark divides with its ANSI Divide: a zero variance is an error there.
        if (xmk * ymk == 0.0) {
          if (ansi_) return DivideByZero();
          return false;
        }
        *out = ck / std::sqrt(xmk * ymk);
        return true;
      case kCovarPop:
        *out = ck / n;
        return true;
      default:
        if (n == 1) return false;
        *out = ck / (n - 1.0);
        return true;
    }
  }
  Result<ArrayPtr> Finalize() override {
    std::vector<double> out(vals_.size());
    std::vector<uint8_t> valid(vals_.size());
    for (size_t i = 0; i < vals_.size(); ++i) {
      if (Pair()) {
        ARROW_ASSIGN_OR_RAISE(bool ok, Covariance(vals_[i], &out[i]));
        valid[i] = ok;
      } else {
        valid[i] = Moment(vals_[i], &out[i]);
      }
    }
    return MakeFixedArray(arrow::float64(), out, &valid);
  }
  Result<ArrayPtr> SaveState() override {
    arrow::ListBuilder lb(Pool(), std::make_shared<arrow::DoubleBuilder>(Pool()));
    auto* vb = static_cast<arrow::DoubleBuilder*>(lb.value_builder());
    for (const auto& v : vals_) {
      ARROW_RETURN_NOT_OK(lb.Append());
      ARROW_RETURN_NOT_OK(vb->AppendValues(v));
    }
    std::shared_ptr<arrow::Array> out;
    ARROW_RETURN_NOT_OK(lb.Finish(&out));
    return out;
  }
  Status LoadState(const arrow::Array& state) override {
    if (state.type_id() != arrow::Type::LIST) {
      return InternalError("statistics state must be a list of doubles, got {}",
                           state.type()->ToString());
    }
    const auto& l = static_cast<const arrow::ListArray&>(state);
    const auto* v = l.values()->data()->GetValues<double>(1);
    for (int64_t i = 0; i < l.length(); ++i) {
      vals_.emplace_back(v + l.value_offset(i), v + l.value_offset(i + 1));
    }
    return Status::OK();
  }
  int64_t MemoryUsage() const override {
    int64_t b = 0;
    for (const auto& v : vals_) b += 24 + v.capacity() * 8;
    return b;
  }

 private:
  Kind kind_;
  bool ansi_;
  std::vector<std::vector<double>> vals_;
};

Result<ResolvedAggregate> ResolveStats(const std::string& name, const AggregateSite& site,
                                       StatsAgg::Kind kind) {
  size_t arity = (kind == StatsAgg::kSkewness || kind == StatsAgg::kKurtosis) ? 1 : 2;
  ARROW_RETURN_NOT_OK(
      ArgCount(name, site, arity, arity, arity == 1 ? "1 argument" : "2 arguments"));
  for (size_t k = 0; k < arity; ++k) {
    const TypePtr& t = site.arg_types[k];
    if (!IsNullType(t) && !IsNumericType(*t) &&
        !(t->id() == arrow::Type::STRING && !Ansi(site))) {
      return UserError(
          "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\": parameter {} "
          "requires the \"DOUBLE\" type, however it has the type \"{}\".",
          name, k + 1, types::ToDDL(*t));
    }
  }
  return Finish(arrow::float64(), std::vector<TypePtr>(arity, arrow::float64()),
                [kind, ansi = Ansi(site)] { return std::make_unique<StatsAgg>(kind, ansi); },
                site);
}

// ---------------------------------------------------------------------------
// mode(x): the most frequent non-NULL value per group (the smaller of
// equally frequent values). Values are keyed by their text with the type, so
// any atomic type works; the state is each group's values as a list (a value
// repeated `count` times), which LoadState replays.

class ModeAgg final : public GroupedAggregator {
 public:
  explicit ModeAgg(TypePtr type) : type_(std::move(type)) {}
  Status Resize(int64_t n) override {
    groups_.resize(n);
    return Status::OK();
  }
  Status AddArray(const arrow::Array& a, const uint32_t* g) {
    for (int64_t i = 0; i < a.length(); ++i) {
      if (a.IsNull(i)) continue;
      ARROW_ASSIGN_OR_RAISE(auto s, a.GetScalar(i));
      AddValue(g ? g[i] : 0, std::move(s), 1);
    }
    return Status::OK();
  }
  void AddValue(uint32_t g, std::shared_ptr<arrow::Scalar> s, int64_t count) {
    auto& grp = groups_[g];
    std::string key = s->ToString();
    auto it = grp.index.find(key);
    if (it == grp.index.end()) {
      grp.index.emplace(std::move(key), grp.values.size());
      grp.values.push_back({std::move(s), count});
    } else {
      grp.values[it->second].count += count;
    }
  }
  Status Update(const std::vector<arrow::Datum>& args, const uint32_t* g,
                int64_t length) override {
    ARROW_ASSIGN_OR_RAISE(auto a, ArgAs(args[0], length, type_));
    return AddArray(*a, g);
  }
  Status Merge(GroupedAggregator& other, const uint32_t* mapping) override {
    auto& o = static_cast<ModeAgg&>(other);
    for (size_t i = 0; i < o.groups_.size(); ++i) {
      for (const auto& v : o.groups_[i].values) AddValue(mapping[i], v.value, v.count);
    }
    return Status::OK();
  }
  Result<ArrayPtr> Finalize() override {
    std::unique_ptr<arrow::ArrayBuilder> b;
    ARROW_RETURN_NOT_OK(arrow::MakeBuilder(Pool(), type_, &b));
    for (const auto& grp : groups_) {
      const Entry* best = nullptr;
      for (const auto& v : grp.values) {
        if (!best || v.count > best->count || (v.count == best->count && Before(v, *best))) {
          best = &v;
        }
      }
      if (best) {
        ARROW_RETURN_NOT_OK(b->AppendScalar(*best->value));
      } else {
        ARROW_RETURN_NOT_OK(b->AppendNull());
      }
    }
    std::shared_ptr<arrow::Array> out;
    ARROW_RETURN_NOT_OK(b->Finish(&out));
    return out;
  }
  Result<ArrayPtr> SaveState() override {
    std::unique_ptr<arrow::ArrayBuilder> vb;
    ARROW_RETURN_NOT_OK(arrow::MakeBuilder(Pool(), type_, &vb));
    std::shared_ptr<arrow::ArrayBuilder> shared(std::move(vb));
    arrow::ListBuilder lb(Pool(), shared);
    for (const auto& grp : groups_) {
      ARROW_RETURN_NOT_OK(lb.Append());
      for (const auto& v : grp.values) {
        for (int64_t k = 0; k < v.count; ++k) ARROW_RETURN_NOT_OK(shared->AppendScalar(*v.value));
      }
    }
    std::shared_ptr<arrow::Array> out;
    ARROW_RETURN_NOT_OK(lb.Finish(&out));
    return out;
  }
  Status LoadState(const arrow::Array& state) override {
    if (state.type_id() != arrow::Type::LIST) {
      return InternalError("mode state must be a list, got {}", state.type()->ToString());
    }
    const auto& l = static_cast<const arrow::ListArray&>(state);
    for (int64_t i = 0; i < l.length(); ++i) {
      uint32_t g = static_cast<uint32_t>(groups_.size());
      groups_.emplace_back();
      for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
        ARROW_ASSIGN_OR_RAISE(auto s, l.values()->GetScalar(j));
        AddValue(g, std::move(s), 1);
      }
    }
    return Status::OK();
  }
  int64_t MemoryUsage() const override {
    int64_t b = 0;
    for (const auto& grp : groups_) b += 64 + static_cast<int64_t>(grp.values.size()) * 96;
    return b;
  }

 private:
  struct Entry {
    std::shared_ptr<arrow::Scalar> value;
    int64_t count;
  };
  struct Group {
    std::vector<Entry> values;
    std::unordered_map<std::string, size_t> index;
  };
  // Equally frequent values: the smaller wins (what Spark 4.0.1 returns for
  // mode over (3, 1, 3, 1)), numbers by value, others by their text.
  static bool Before(const Entry& a, const Entry& b) {
    if (types::IsNumeric(*a.value->type)) {
      auto x = a.value->CastTo(arrow::float64());
      auto y = b.value->CastTo(arrow::float64());
      if (x.ok() && y.ok()) {
        return std::static_pointer_cast<arrow::DoubleScalar>(*x)->value <
               std::static_pointer_cast<arrow::DoubleScalar>(*y)->value;
      }
    }
    return a.value->ToString() < b.value->ToString();
  }
  TypePtr type_;
  std::vector<Group> groups_;
};

Result<ResolvedAggregate> ResolveMode(const AggregateSite& site) {
  ARROW_RETURN_NOT_OK(ArgCount("mode", site, 1, 2, "1 or 2 arguments"));
  TypePtr t = site.arg_types[0];
  if (IsNullType(t)) t = arrow::null();
  return Finish(t, {t}, [t] { return std::make_unique<ModeAgg>(t); }, site, false);
}

}  // namespace

void RegisterAggregateFunctions(FunctionRegistry* r) {
  auto add = [r](std::string name, std::function<Result<ResolvedAggregate>(const AggregateSite&)> f) {
    r->AddAggregate(AggregateFunction{std::move(name), std::move(f)});
  };
  add("count", ResolveCount);
  add("count_if", ResolveCountIf);
  add("sum", [](const AggregateSite& s) {
    return ResolveSumAvg("sum", s, false,
                         Ansi(s) ? OverflowMode::kError : OverflowMode::kWrapOrNull);
  });
  add("try_sum", [](const AggregateSite& s) {
    return ResolveSumAvg("try_sum", s, false, OverflowMode::kNull);
  });
  add("avg", [](const AggregateSite& s) {
    return ResolveSumAvg("avg", s, true, Ansi(s) ? OverflowMode::kError : OverflowMode::kWrapOrNull);
  });
  add("try_avg", [](const AggregateSite& s) {
    return ResolveSumAvg("try_avg", s, true, OverflowMode::kNull);
  });
  add("min", [](const AggregateSite& s) { return ResolveMinMax("min", s, false); });
  add("max", [](const AggregateSite& s) { return ResolveMinMax("max", s, true); });
  add("bool_and", [](const AggregateSite& s) { return ResolveBool("bool_and", s, false); });
  add("bool_or", [](const AggregateSite& s) { return ResolveBool("bool_or", s, true); });
  add("stddev_samp",
      [](const AggregateSite& s) { return ResolveMoment("stddev_samp", s, MomentAgg::kStddevSamp); });
  add("stddev_pop",
      [](const AggregateSite& s) { return ResolveMoment("stddev_pop", s, MomentAgg::kStddevPop); });
  add("var_samp",
      [](const AggregateSite& s) { return ResolveMoment("var_samp", s, MomentAgg::kVarSamp); });
  add("var_pop",
      [](const AggregateSite& s) { return ResolveMoment("var_pop", s, MomentAgg::kVarPop); });
  add("first", [](const AggregateSite& s) { return ResolveFirstLast("first", s, false); });
  add("last", [](const AggregateSite& s) { return ResolveFirstLast("last", s, true); });
  add("max_by", [](const AggregateSite& s) { return ResolveExtremumBy("max_by", s, true); });
  add("min_by", [](const AggregateSite& s) { return ResolveExtremumBy("min_by", s, false); });
  add("collect_list", [](const AggregateSite& s) { return ResolveCollect("collect_list", s, false); });
  add("collect_set", [](const AggregateSite& s) { return ResolveCollect("collect_set", s, true); });
  add("approx_count_distinct", ResolveApproxCountDistinct);
  add("percentile_approx", [](const AggregateSite& s) {
    return ResolvePercentile("percentile_approx", s, true, false);
  });
  add("percentile",
      [](const AggregateSite& s) { return ResolvePercentile("percentile", s, false, false); });
  add("median", [](const AggregateSite& s) { return ResolvePercentile("median", s, false, true); });

  add("mode", ResolveMode);
  add("skewness",
      [](const AggregateSite& s) { return ResolveStats("skewness", s, StatsAgg::kSkewness); });
  add("kurtosis",
      [](const AggregateSite& s) { return ResolveStats("kurtosis", s, StatsAgg::kKurtosis); });
  add("corr", [](const AggregateSite& s) { return ResolveStats("corr", s, StatsAgg::kCorr); });
  add("covar_pop",
      [](const AggregateSite& s) { return ResolveStats("covar_pop", s, StatsAgg::kCovarPop); });
  add("covar_samp",
      [](const AggregateSite& s) { return ResolveStats("covar_samp", s, StatsAgg::kCovarSamp); });
  r->AddAlias("mean", "avg");
  r->AddAlias("every", "bool_and");
  r->AddAlias("some", "bool_or");
  r->AddAlias("any", "bool_or");
  r->AddAlias("stddev", "stddev_samp");
  r->AddAlias("std", "stddev_samp");
  r->AddAlias("variance", "var_samp");
  r->AddAlias("first_value", "first");
  r->AddAlias("last_value", "last");
  r->AddAlias("any_value", "first");
  r->AddAlias("array_agg", "collect_list");
  r->AddAlias("approx_percentile", "percentile_approx");
}

}  // namespace lakestream::expr
