#include "stream/stream_join.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "exec/row_codec.h"
#include "expr/evaluator.h"
#include "types/types.h"

namespace lakestream::stream {

namespace {

using expr::Expr;
using expr::ExprKind;
using expr::ExprPtr;

constexpr char kSide[2] = {'L', 'R'};

void SplitAnd(const ExprPtr& e, std::vector<ExprPtr>* out) {
  if (!e) return;
  if (e->kind == ExprKind::kAnd) {
    for (const auto& a : e->args) SplitAnd(a, out);
    return;
  }
  out->push_back(e);
}

std::vector<int> ColumnsOf(const Expr& e) {
  std::vector<int> cols;
  expr::CollectColumns(e, &cols);
  return cols;
}

bool AllIn(const std::vector<int>& cols, int lo, int hi) {
  return !cols.empty() &&
         std::all_of(cols.begin(), cols.end(), [&](int c) { return c >= lo && c < hi; });
}

// A constant interval (µs) from a literal: INTERVAL DAY TO SECOND (duration)
// or a calendar interval without months.
std::optional<int64_t> IntervalMicros(const Expr& e) {
  if (e.kind != ExprKind::kLiteral || !e.value || !e.value->is_valid) return std::nullopt;
  switch (e.value->type->id()) {
    case arrow::Type::DURATION:
      return static_cast<const arrow::DurationScalar&>(*e.value).value;
    case arrow::Type::INTERVAL_MONTH_DAY_NANO: {
      auto v = static_cast<const arrow::MonthDayNanoIntervalScalar&>(*e.value).value;
      if (v.months != 0) return std::nullopt;  // a month has no fixed length
      return int64_t{v.days} * 86400000000LL + v.nanoseconds / 1000;
    }
    default:
      return std::nullopt;
  }
}

// `e` as `column + offset` (µs) where column is a TIMESTAMP column.
struct TimeTerm {
  int column = -1;
  int64_t offset = 0;
};

// A window struct<start, end> stands for its end.
bool IsWindowStruct(const arrow::DataType& t) {
  if (t.id() != arrow::Type::STRUCT) return false;
  auto end = static_cast<const arrow::StructType&>(t).GetFieldByName("end");
  return end && end->type()->id() == arrow::Type::TIMESTAMP;
}

std::optional<TimeTerm> AsTimeTerm(const Expr& e) {
  if (e.kind == ExprKind::kColumn && e.type &&
      (e.type->id() == arrow::Type::TIMESTAMP || IsWindowStruct(*e.type))) {
    return TimeTerm{e.column_index, 0};
  }
  if (e.kind == ExprKind::kCall && (e.name == "add" || e.name == "subtract")) {
    if (e.args.size() != 2) return std::nullopt;
    auto base = AsTimeTerm(*e.args[0]);
    auto delta = IntervalMicros(*e.args[1]);
    if (!base || !delta) {
      if (e.name == "add") {  // INTERVAL + ts
        base = AsTimeTerm(*e.args[1]);
        delta = IntervalMicros(*e.args[0]);
      }
      if (!base || !delta) return std::nullopt;
    }
    base->offset += e.name == "subtract" ? -*delta : *delta;
    return base;
  }
  return std::nullopt;
}

void AppendBigEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}

Result<std::shared_ptr<arrow::Array>> EvalArray(const ExprPtr& e, const exec::BatchPtr& b,
                                                const expr::EvalContext& ctx) {
  return expr::EvaluateToArray(*e, *b, ctx);
}

// Keys of every row (empty optional: a NULL in the key, never matches).
Result<std::vector<std::optional<std::string>>> EncodeKeys(
    const std::vector<ExprPtr>& keys, const std::vector<std::shared_ptr<arrow::DataType>>& types,
    const exec::BatchPtr& b, const expr::EvalContext& ctx) {
  arrow::ArrayVector arrays;
  for (size_t i = 0; i < keys.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto a, EvalArray(keys[i], b, ctx));
    if (!a->type()->Equals(*types[i])) {
      ARROW_ASSIGN_OR_RAISE(auto cast, arrow::compute::Cast(a, types[i]));
      a = cast.make_array();
    }
    arrays.push_back(std::move(a));
  }
  std::vector<const arrow::Array*> raw;
  for (auto& a : arrays) raw.push_back(a.get());
  std::vector<std::optional<std::string>> out(b->num_rows());
  for (int64_t r = 0; r < b->num_rows(); ++r) {
    bool null = false;
    for (auto* a : raw) null |= a->IsNull(r);
    if (null) continue;
    std::string k;
    ARROW_RETURN_NOT_OK(exec::EncodeRow(raw, r, &k));
    out[r] = std::move(k);
  }
  return out;
}

// A time column's values: a TIMESTAMP column, or a window struct's end.
Result<std::shared_ptr<arrow::TimestampArray>> TimeValues(const exec::BatchPtr& b, int column) {
  std::shared_ptr<arrow::Array> a = b->column(column);
  if (IsWindowStruct(*a->type())) {
    ARROW_ASSIGN_OR_RAISE(
        a, static_cast<const arrow::StructArray&>(*a).GetFlattenedField(
               static_cast<const arrow::StructType&>(*a->type()).GetFieldIndex("end")));
  }
  if (a->type_id() != arrow::Type::TIMESTAMP) {
    return InternalError("stream-stream join: the time column is {}, not a TIMESTAMP",
                         a->type()->ToString());
  }
  return std::static_pointer_cast<arrow::TimestampArray>(a);
}

// The event time each row expires at (see StreamJoinOptions::expiry_column).
Result<std::vector<int64_t>> Expiries(int column, int64_t offset, const exec::BatchPtr& b) {
  std::vector<int64_t> out(b->num_rows(), INT64_MAX);
  if (column < 0) return out;
  ARROW_ASSIGN_OR_RAISE(auto values, TimeValues(b, column));
  const auto& ts = *values;
  // A row without an event time cannot satisfy the time condition: it
  // expires at once.
  for (int64_t r = 0; r < ts.length(); ++r)
    out[r] = ts.IsNull(r) ? INT64_MIN : ts.Value(r) + offset;
  return out;
}

}  // namespace

// ------------------------------------------------------------------ analysis

Result<StreamJoinOptions> StreamJoin::Analyze(const plan::LogicalNode& join,
                                              const EventTimeColumns& left_times,
                                              const EventTimeColumns& right_times) {
  StreamJoinOptions o;
  o.type = join.join_type;
  o.left_schema = join.children[0]->schema;
  o.right_schema = join.children[1]->schema;
  o.output_schema = join.schema;
  o.condition = join.predicate;
  const int nl = o.left_schema->num_fields();
  const int nr = o.right_schema->num_fields();
  switch (o.type) {
    case sql::JoinType::kInner:
    case sql::JoinType::kCross:
    case sql::JoinType::kLeft:
    case sql::JoinType::kRight:
    case sql::JoinType::kFull:
    case sql::JoinType::kLeftSemi:
      break;
    default:
      return Unsupported(
          "[STREAMING_JOIN] this join type between two streams is not supported (Spark supports "
          "inner, left/right/full outer and left semi)");
  }
  // The event time of a column of left ++ right (nullopt: none).
  auto event_time = [&](int column) -> std::optional<EventTimeColumn> {
    const auto& times = column < nl ? left_times : right_times;
    const size_t i = static_cast<size_t>(column < nl ? column : column - nl);
    return i < times.size() ? times[i] : std::nullopt;
  };
  for (int side = 0; side < 2; ++side) {
    const int base = side == 0 ? 0 : nl;
    const int count = side == 0 ? nl : nr;
    for (int c = 0; c < count && o.event_time[side] < 0; ++c) {
      if (auto t = event_time(base + c)) {
        o.event_time[side] = c;
        o.event_time_lag[side] = t->lag_us;
      }
    }
  }

  // Right-side expressions are rebound to the right schema alone.
  std::vector<int> to_right(nl + nr);
  for (int i = 0; i < nl + nr; ++i) to_right[i] = i - nl;

  // Per side the tightest bound: the row expires at `column + offset`.
  std::optional<TimeTerm> expiry[2];
  auto offer = [&](int side, TimeTerm t) {
    // Any violated bound rules a match out: the earliest expiry wins (only
    // comparable on the same column; otherwise the first bound is kept).
    if (!expiry[side] || (t.column == expiry[side]->column && t.offset < expiry[side]->offset))
      expiry[side] = t;
  };
  std::vector<ExprPtr> conjuncts;
  SplitAnd(join.predicate, &conjuncts);
  for (const auto& c : conjuncts) {
    if (c->kind != ExprKind::kCall || c->args.size() != 2) continue;
    const auto& a = c->args[0];
    const auto& b = c->args[1];
    auto ca = ColumnsOf(*a), cb = ColumnsOf(*b);
    bool a_left = AllIn(ca, 0, nl), a_right = AllIn(ca, nl, nl + nr);
    bool b_left = AllIn(cb, 0, nl), b_right = AllIn(cb, nl, nl + nr);
    if (c->name == "equal" && ((a_left && b_right) || (a_right && b_left))) {
      const auto& l = a_left ? a : b;
      const auto& r = a_left ? b : a;
      o.left_keys.push_back(l);
      o.right_keys.push_back(expr::RemapColumns(r, to_right));
    }
    // Time bounds: `x op y` with x and y event times of different sides,
    // normalized to `tL + dL op tR + dR`.
    auto ta = AsTimeTerm(*a), tb = AsTimeTerm(*b);
    if (!ta || !tb) continue;
    bool ta_left = ta->column < nl, tb_left = tb->column < nl;
    if (ta_left == tb_left) continue;
    TimeTerm l = ta_left ? *ta : *tb, r = ta_left ? *tb : *ta;
    std::string op = c->name;
    if (!ta_left) {  // mirror: a is the right side
      if (op == "less")
        op = "greater";
      else if (op == "less_equal")
        op = "greater_equal";
      else if (op == "greater")
        op = "less";
      else if (op == "greater_equal")
        op = "less_equal";
    }
    // tL + dL <= tR + dR: a right row needs a left partner at or before
    // tR + dR - dL; future left rows are after the watermark, so the right
    // row expires at tR + (dR - dL); the left row is bounded by the mirror.
    bool left_upper = op == "less" || op == "less_equal" || op == "equal";
    bool left_lower = op == "greater" || op == "greater_equal" || op == "equal";
    // The other side's column must be its event time for the bound to hold
    // for future rows (those come after the watermark only in event time).
    // Future rows of a side derived from an upstream stage arrive up to its
    // lag behind the watermark, which delays the other side's expiry as much.
    if (auto t = event_time(l.column); left_upper && t) {
      offer(1, TimeTerm{r.column - nl, r.offset - l.offset + t->lag_us});
    }
    if (auto t = event_time(r.column); left_lower && t) {
      offer(0, TimeTerm{l.column, l.offset - r.offset + t->lag_us});
    }
  }
  for (int side = 0; side < 2; ++side) {
    if (!expiry[side]) continue;
    o.expiry_column[side] = expiry[side]->column;
    o.expiry_offset[side] = expiry[side]->offset;
  }
  // Spark's rule: outer rows can only be emitted once they can no longer
  // match, which needs a watermark and a time bound on the preserved side.
  bool need_left = o.type == sql::JoinType::kLeft || o.type == sql::JoinType::kFull;
  bool need_right = o.type == sql::JoinType::kRight || o.type == sql::JoinType::kFull;
  if ((need_left && o.expiry_column[0] < 0) || (need_right && o.expiry_column[1] < 0)) {
    return UserError(
        "[STREAMING_JOIN] a stream-stream {} join needs a watermark on both inputs and a time "
        "bound in the join condition (e.g. ON a.id = b.id AND b.ts BETWEEN a.ts AND a.ts + "
        "INTERVAL 10 MINUTES), so that unmatched rows can be emitted once no row can match "
        "them any more",
        o.type == sql::JoinType::kFull   ? "full outer"
        : o.type == sql::JoinType::kLeft ? "left outer"
                                         : "right outer");
  }
  return o;
}

// ---------------------------------------------------------------- execution
//
// State layout (one store, keys ordered bytewise):
//   <side> 'k' <join key> <seq>  ->  <matched:1> <expires:8 LE> <row>
//   <side> 't' <expires:8 ordered> <seq>  ->  the 'k' key (eviction index)
//   <side> '#'  ->  number of buffered rows (int64 LE)
// <side> is 'L' or 'R'; <seq> = batch id and row number (big-endian), unique
// and the same when a batch is replayed; rows with a NULL join key (which
// never match) use the key byte 0xff, which no encoded key starts with.

namespace {

uint64_t KeyHash(std::string_view encoded_key) {
  return std::hash<std::string_view>{}(encoded_key);
}

const Status kStopScan = Status::Cancelled("stop scan");
constexpr size_t kSeqBytes = 12;  // batch id (8) + row number (4) ending a row key

// The encoded join key inside a row key <side> 'k' <key> <seq>.
std::string_view RowKeyJoinKey(std::string_view row_key) {
  return row_key.substr(2, row_key.size() - 2 - kSeqBytes);
}

}  // namespace

std::string_view StreamJoin::StateRoute(std::string_view key) {
  return key.size() >= 2 + kSeqBytes && key[1] == 'k' ? RowKeyJoinKey(key) : key;
}

namespace {

// The number of buffered rows of a side, under <side> '#'.
std::string CountKey(char side) { return std::string{side, '#'}; }

Result<std::vector<std::unique_ptr<arrow::ArrayBuilder>>> BuildersFor(const arrow::Schema& schema) {
  std::vector<std::unique_ptr<arrow::ArrayBuilder>> out;
  for (const auto& f : schema.fields()) {
    ARROW_ASSIGN_OR_RAISE(auto b, arrow::MakeBuilder(f->type()));
    out.push_back(std::move(b));
  }
  return out;
}

Result<exec::BatchPtr> FinishBatch(const std::shared_ptr<arrow::Schema>& schema,
                                   std::vector<std::unique_ptr<arrow::ArrayBuilder>>& builders,
                                   int64_t rows) {
  arrow::ArrayVector cols;
  for (auto& b : builders) {
    ARROW_ASSIGN_OR_RAISE(auto a, b->Finish());
    cols.push_back(std::move(a));
  }
  return arrow::RecordBatch::Make(schema, rows, cols);
}

}  // namespace

Result<std::unique_ptr<StreamJoin>> StreamJoin::Make(StreamJoinOptions options) {
  std::unique_ptr<StreamJoin> j(new StreamJoin(std::move(options)));
  for (const auto& k : j->o_.left_keys) j->key_types_.push_back(k->type);
  return j;
}

std::string StreamJoin::StateLayout() const {
  arrow::FieldVector keys;
  for (size_t i = 0; i < o_.left_keys.size(); ++i)
    keys.push_back(arrow::field(fmt::format("key{}", i), key_types_[i]));
  const char* type = o_.type == sql::JoinType::kLeft       ? "LeftOuter"
                     : o_.type == sql::JoinType::kRight    ? "RightOuter"
                     : o_.type == sql::JoinType::kFull     ? "FullOuter"
                     : o_.type == sql::JoinType::kLeftSemi ? "LeftSemi"
                                                           : "Inner";
  return fmt::format(
      R"({{"operatorName":"symmetricHashJoin","joinType":"{}","key":"{}","left":"{}","right":"{}"}})",
      type, types::ToDDL(*arrow::schema(keys)), types::ToDDL(*o_.left_schema),
      types::ToDDL(*o_.right_schema));
}

Result<exec::BatchPtr> StreamJoin::Pairs(const exec::BatchPtr& left, const std::vector<int64_t>& li,
                                         const exec::BatchPtr& right,
                                         const std::vector<int64_t>& ri) const {
  const int64_t n = static_cast<int64_t>(std::max(li.size(), ri.size()));
  arrow::ArrayVector cols;
  auto take = [&](const exec::BatchPtr& b, const std::vector<int64_t>& idx,
                  const arrow::Schema& schema) -> Status {
    if (!b || idx.empty()) {
      for (const auto& f : schema.fields()) {
        ARROW_ASSIGN_OR_RAISE(auto nulls, arrow::MakeArrayOfNull(f->type(), n));
        cols.push_back(std::move(nulls));
      }
      return Status::OK();
    }
    arrow::Int64Builder ib;
    ARROW_RETURN_NOT_OK(ib.Reserve(n));
    for (int64_t v : idx) {
      if (v < 0) {
        ib.UnsafeAppendNull();
      } else {
        ib.UnsafeAppend(v);
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto indices, ib.Finish());
    for (const auto& c : b->columns()) {
      ARROW_ASSIGN_OR_RAISE(auto t, arrow::compute::Take(c, indices));
      cols.push_back(t.make_array());
    }
    return Status::OK();
  };
  ARROW_RETURN_NOT_OK(take(left, li, *o_.left_schema));
  ARROW_RETURN_NOT_OK(take(right, ri, *o_.right_schema));
  arrow::FieldVector fields = o_.left_schema->fields();
  for (const auto& f : o_.right_schema->fields()) fields.push_back(f);
  return arrow::RecordBatch::Make(arrow::schema(fields), n, cols);
}

namespace {

// The positions of `entries` in byte order of their keys. Keys of one kind
// share a 2-byte tag and mostly differ in the 8 bytes after it (the join key
// or the expiry time), so those are compared as one integer first, and the
// strings only on a tie. Were the tags to differ, the order would still be
// total, only not bytewise; it only steers the store's hinted inserts, the
// store keeps its own order.
std::vector<uint32_t> KeyOrder(const std::vector<std::pair<std::string, std::string>>& entries) {
  struct Item {
    uint64_t head;
    uint32_t index;
  };
  std::vector<Item> items(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& k = entries[i].first;
    uint64_t head = 0;
    for (size_t j = 2; j < 10; ++j) {
      head = (head << 8) | (j < k.size() ? static_cast<uint8_t>(k[j]) : 0);
    }
    items[i] = {head, static_cast<uint32_t>(i)};
  }
  std::sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
    if (a.head != b.head) return a.head < b.head;
    return entries[a.index].first < entries[b.index].first;
  });
  std::vector<uint32_t> order(items.size());
  for (size_t i = 0; i < items.size(); ++i) order[i] = items[i].index;
  return order;
}

}  // namespace

Status StreamJoin::ProbeAndStore(int side, int64_t batch_id, const exec::BatchPtr& rows,
                                 const expr::EvalContext& ctx, OperatorState* state,
                                 std::vector<exec::BatchPtr>* out, StreamJoinMetrics* metrics) {
  const int other = 1 - side;
  const auto& other_schema = side == 0 ? o_.right_schema : o_.left_schema;
  const bool semi = o_.type == sql::JoinType::kLeftSemi;
  const bool preserved = o_.type == sql::JoinType::kFull ||
                         (side == 0 && o_.type == sql::JoinType::kLeft) ||
                         (side == 1 && o_.type == sql::JoinType::kRight);
  ARROW_ASSIGN_OR_RAISE(
      auto keys, EncodeKeys(side == 0 ? o_.left_keys : o_.right_keys, key_types_, rows, ctx));
  ARROW_ASSIGN_OR_RAISE(auto expires,
                        Expiries(o_.expiry_column[side], o_.expiry_offset[side], rows));

  // 1. The other side's buffered rows with the keys of these rows.
  // Only keys the other side holds (the in-memory counts say which) are
  // grouped and probed; most rows of a large batch skip both.
  std::unordered_map<std::string, std::vector<int64_t>> by_key;
  const auto& other_counts = key_counts_[other];
  std::vector<uint64_t> hashes(rows->num_rows());
  for (int64_t r = 0; r < rows->num_rows(); ++r) {
    if (!keys[r]) continue;
    hashes[r] = KeyHash(*keys[r]);
    if (!other_counts.empty() && other_counts.count(hashes[r])) by_key[*keys[r]].push_back(r);
  }
  ARROW_ASSIGN_OR_RAISE(auto builders, BuildersFor(*other_schema));
  std::vector<arrow::ArrayBuilder*> raw;
  for (auto& b : builders) raw.push_back(b.get());
  std::vector<std::string> other_pk;
  std::vector<bool> other_matched;
  std::vector<int64_t> cand_this, cand_other;
  for (const auto& [key, idxs] : by_key) {
    std::string prefix{kSide[other], 'k'};
    prefix += key;
    const int64_t first = static_cast<int64_t>(other_pk.size());
    // The rows of this key live in the partition of the key (StateRoute).
    ARROW_RETURN_NOT_OK(
        state->PrefixScanIn(key, prefix, [&](std::string_view k, std::string_view v) {
          if (v.size() < 9) return InternalError("corrupt stream-stream join state entry");
          other_pk.emplace_back(k);
          other_matched.push_back(v[0] != 0);
          std::string_view in = v.substr(9);
          return exec::DecodeRow(&in, raw);
        }));
    const int64_t last = static_cast<int64_t>(other_pk.size());
    for (int64_t j = first; j < last; ++j) {
      for (int64_t i : idxs) {
        cand_this.push_back(i);
        cand_other.push_back(j);
      }
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto buffered,
                        FinishBatch(other_schema, builders, static_cast<int64_t>(other_pk.size())));

  // 2. The pairs the whole condition accepts.
  std::vector<bool> this_matched(rows->num_rows(), false);
  std::vector<bool> other_hit(other_pk.size(), false);
  if (!cand_this.empty()) {
    const auto& left = side == 0 ? rows : buffered;
    const auto& right = side == 0 ? buffered : rows;
    const auto& li = side == 0 ? cand_this : cand_other;
    const auto& ri = side == 0 ? cand_other : cand_this;
    ARROW_ASSIGN_OR_RAISE(auto pairs, Pairs(left, li, right, ri));
    std::vector<int64_t> accepted;
    if (o_.condition) {
      ARROW_ASSIGN_OR_RAISE(auto mask, expr::EvaluateToArray(*o_.condition, *pairs, ctx));
      if (mask->type_id() != arrow::Type::BOOL)
        return InternalError("join condition is {}, not BOOLEAN", mask->type()->ToString());
      const auto& m = static_cast<const arrow::BooleanArray&>(*mask);
      for (int64_t k = 0; k < m.length(); ++k) {
        if (m.IsValid(k) && m.Value(k)) accepted.push_back(k);
      }
    } else {
      for (int64_t k = 0; k < pairs->num_rows(); ++k) accepted.push_back(k);
    }
    for (int64_t k : accepted) {
      this_matched[cand_this[k]] = true;
      other_hit[cand_other[k]] = true;
    }
    if (!semi && !accepted.empty()) {
      arrow::Int64Builder ib;
      ARROW_RETURN_NOT_OK(ib.AppendValues(accepted));
      ARROW_ASSIGN_OR_RAISE(auto idx, ib.Finish());
      ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(pairs, idx));
      auto b = taken.record_batch();
      out->push_back(arrow::RecordBatch::Make(o_.output_schema, b->num_rows(), b->columns()));
    }
    if (semi) {
      // A left row is emitted once: at its first match, new or buffered.
      std::vector<int64_t> emit;
      const auto& left_rows = side == 0 ? rows : buffered;
      if (side == 0) {
        for (int64_t r = 0; r < rows->num_rows(); ++r) {
          if (this_matched[r]) emit.push_back(r);
        }
      } else {
        for (size_t j = 0; j < other_pk.size(); ++j) {
          if (other_hit[j] && !other_matched[j]) emit.push_back(static_cast<int64_t>(j));
        }
      }
      if (!emit.empty()) {
        arrow::Int64Builder ib;
        ARROW_RETURN_NOT_OK(ib.AppendValues(emit));
        ARROW_ASSIGN_OR_RAISE(auto idx, ib.Finish());
        ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(left_rows, idx));
        auto b = taken.record_batch();
        out->push_back(arrow::RecordBatch::Make(o_.output_schema, b->num_rows(), b->columns()));
      }
    }
  }
  // Buffered rows seen matching for the first time remember it: an outer
  // row that matched is not emitted with NULLs when it expires.
  for (size_t j = 0; j < other_pk.size(); ++j) {
    if (!other_hit[j] || other_matched[j]) continue;
    ARROW_ASSIGN_OR_RAISE(auto v, state->Get(other_pk[j]));
    if (!v || v->empty()) continue;
    (*v)[0] = 1;
    ARROW_RETURN_NOT_OK(state->Put(other_pk[j], *v));
  }

  // 3. Buffer these rows for the other side's future rows.
  std::vector<const arrow::Array*> cols;
  for (const auto& c : rows->columns()) cols.push_back(c.get());
  ARROW_ASSIGN_OR_RAISE(int64_t count, exec::ReadStoredCount(state, CountKey(kSide[side])));
  const bool evictable = o_.expiry_column[side] >= 0;
  // Written in key order, rows then index: the store's change overlay (an
  // ordered map) inserts a key right after the previous one without a search,
  // which makes buffering a large batch several times cheaper than random order.
  key_counts_[side].reserve(key_counts_[side].size() + static_cast<size_t>(rows->num_rows()));
  std::vector<std::pair<std::string, std::string>> row_puts, index_puts;
  row_puts.reserve(rows->num_rows());
  if (evictable) index_puts.reserve(rows->num_rows());
  std::string pk, value, tk;
  for (int64_t r = 0; r < rows->num_rows(); ++r) {
    if (!keys[r] && !preserved) continue;  // a NULL key never matches: nothing to wait for
    if (semi && side == 0 && this_matched[r]) continue;  // emitted already; never again
    pk.assign({kSide[side], 'k'});
    if (keys[r]) {
      pk += *keys[r];
    } else {
      pk.push_back('\xff');
    }
    AppendBigEndian(&pk, static_cast<uint64_t>(batch_id), 8);
    AppendBigEndian(&pk, static_cast<uint64_t>(r), 4);
    value.assign(1, this_matched[r] ? 1 : 0);
    value.append(reinterpret_cast<const char*>(&expires[r]), sizeof(int64_t));
    ARROW_RETURN_NOT_OK(exec::EncodeRow(cols, r, &value));
    ++key_counts_[side][keys[r] ? hashes[r] : KeyHash(RowKeyJoinKey(pk))];
    if (evictable) {
      tk.assign({kSide[side], 't'});
      exec::AppendOrderedInt64(&tk, expires[r]);
      AppendBigEndian(&tk, static_cast<uint64_t>(batch_id), 8);
      AppendBigEndian(&tk, static_cast<uint64_t>(r), 4);
      index_puts.emplace_back(tk, pk);
    }
    row_puts.emplace_back(pk, std::move(value));
    ++count;
    ++metrics->rows_updated;
  }
  for (auto* puts : {&row_puts, &index_puts}) {
    // New keys: each carries this batch's id and a row number.
    for (uint32_t i : KeyOrder(*puts)) {
      ARROW_RETURN_NOT_OK(state->Put((*puts)[i].first, (*puts)[i].second, state::KeyHint::kAbsent));
    }
  }
  return exec::WriteStoredCount(state, CountKey(kSide[side]), count);
}

Status StreamJoin::Evict(int side, int64_t watermark_us, OperatorState* state,
                         std::vector<exec::BatchPtr>* out, StreamJoinMetrics* metrics) {
  if (o_.expiry_column[side] < 0 || watermark_us == INT64_MIN) return Status::OK();
  const bool preserved = o_.type == sql::JoinType::kFull ||
                         (side == 0 && o_.type == sql::JoinType::kLeft) ||
                         (side == 1 && o_.type == sql::JoinType::kRight);
  std::string limit{kSide[side], 't'};
  exec::AppendOrderedInt64(&limit, watermark_us);
  std::vector<std::pair<std::string, std::string>> expired;  // index key, row key
  Status st = state->PrefixScan(std::string{kSide[side], 't'},
                                [&](std::string_view k, std::string_view v) -> Status {
                                  // Keys are in expiry order: stop at the first still
                                  // alive.
                                  if (k.substr(0, limit.size()) > limit) return kStopScan;
                                  expired.emplace_back(k, v);
                                  return Status::OK();
                                });
  if (!st.ok() && !st.IsCancelled()) return st;
  if (expired.empty()) return Status::OK();
  const auto& schema = side == 0 ? o_.left_schema : o_.right_schema;
  ARROW_ASSIGN_OR_RAISE(auto builders, BuildersFor(*schema));
  std::vector<arrow::ArrayBuilder*> raw;
  for (auto& b : builders) raw.push_back(b.get());
  int64_t unmatched = 0;
  for (const auto& [tk, pk] : expired) {
    if (preserved) {
      ARROW_ASSIGN_OR_RAISE(auto v, state->Get(pk));
      if (v && v->size() >= 9 && (*v)[0] == 0) {
        std::string_view in = std::string_view(*v).substr(9);
        ARROW_RETURN_NOT_OK(exec::DecodeRow(&in, raw));
        ++unmatched;
      }
    }
    auto it = key_counts_[side].find(KeyHash(RowKeyJoinKey(pk)));
    if (it != key_counts_[side].end() && --it->second <= 0) key_counts_[side].erase(it);
  }
  // Deleted in key order (see ProbeAndStore): the rows sorted, then the
  // index entries, which the scan found in order.
  std::vector<std::string_view> row_keys;
  row_keys.reserve(expired.size());
  for (const auto& e : expired) row_keys.emplace_back(e.second);
  std::sort(row_keys.begin(), row_keys.end());
  // Present: the index entries came from the scan, and each names a stored row.
  for (auto pk : row_keys) ARROW_RETURN_NOT_OK(state->Delete(pk, state::KeyHint::kPresent));
  for (const auto& e : expired) {
    ARROW_RETURN_NOT_OK(state->Delete(e.first, state::KeyHint::kPresent));
  }
  ARROW_ASSIGN_OR_RAISE(int64_t count, exec::ReadStoredCount(state, CountKey(kSide[side])));
  ARROW_RETURN_NOT_OK(exec::WriteStoredCount(state, CountKey(kSide[side]),
                                             count - static_cast<int64_t>(expired.size())));
  metrics->rows_removed += static_cast<int64_t>(expired.size());
  if (unmatched > 0) {
    ARROW_ASSIGN_OR_RAISE(auto rows, FinishBatch(schema, builders, unmatched));
    std::vector<int64_t> idx(unmatched);
    for (int64_t i = 0; i < unmatched; ++i) idx[i] = i;
    std::vector<int64_t> none(unmatched, -1);
    ARROW_ASSIGN_OR_RAISE(
        auto padded, side == 0 ? Pairs(rows, idx, nullptr, none) : Pairs(nullptr, none, rows, idx));
    out->push_back(
        arrow::RecordBatch::Make(o_.output_schema, padded->num_rows(), padded->columns()));
  }
  return Status::OK();
}

Result<std::vector<exec::BatchPtr>> StreamJoin::Process(
    int64_t batch_id, const std::vector<exec::BatchPtr>& left,
    const std::vector<exec::BatchPtr>& right, int64_t watermark_us, int64_t late_watermark_us,
    const expr::EvalContext& ctx, OperatorState* state, StreamJoinMetrics* metrics) {
  std::vector<exec::BatchPtr> out;
  if (counted_batch_ != batch_id - 1) ARROW_RETURN_NOT_OK(LoadKeyCounts(state));
  counted_batch_ = -2;  // until this batch completes
  const std::vector<exec::BatchPtr>* inputs[2] = {&left, &right};
  // Left first, then right: new left rows meet the right rows buffered
  // before this batch, new right rows meet every left row including this
  // batch's, so each pair is produced exactly once.
  for (int side = 0; side < 2; ++side) {
    const auto& schema = side == 0 ? o_.left_schema : o_.right_schema;
    std::vector<std::shared_ptr<arrow::RecordBatch>> parts;
    for (const auto& b : *inputs[side]) {
      if (b && b->num_rows() > 0)
        parts.push_back(arrow::RecordBatch::Make(schema, b->num_rows(), b->columns()));
    }
    if (parts.empty()) continue;
    ARROW_ASSIGN_OR_RAISE(exec::BatchPtr rows, arrow::ConcatenateRecordBatches(parts));
    const int et = o_.event_time[side];
    if (et >= 0 && late_watermark_us != INT64_MIN) {
      ARROW_ASSIGN_OR_RAISE(auto values, TimeValues(rows, et));
      const auto& ts = *values;
      const int64_t lag = o_.event_time_lag[side];
      arrow::BooleanBuilder keep;
      ARROW_RETURN_NOT_OK(keep.Reserve(ts.length()));
      int64_t dropped = 0;
      for (int64_t r = 0; r < ts.length(); ++r) {
        bool ok = ts.IsValid(r) && ts.Value(r) + lag > late_watermark_us;
        dropped += !ok;
        keep.UnsafeAppend(ok);
      }
      if (dropped > 0) {
        metrics->rows_dropped_by_watermark += dropped;
        ARROW_ASSIGN_OR_RAISE(auto mask, keep.Finish());
        ARROW_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(rows, mask));
        rows = filtered.record_batch();
      }
    }
    if (rows->num_rows() == 0) continue;
    ARROW_RETURN_NOT_OK(ProbeAndStore(side, batch_id, rows, ctx, state, &out, metrics));
  }
  for (int side = 0; side < 2; ++side) {
    ARROW_RETURN_NOT_OK(Evict(side, watermark_us, state, &out, metrics));
  }
  ARROW_ASSIGN_OR_RAISE(int64_t nl, exec::ReadStoredCount(state, CountKey('L')));
  ARROW_ASSIGN_OR_RAISE(int64_t nr, exec::ReadStoredCount(state, CountKey('R')));
  metrics->rows_total = nl + nr;
  counted_batch_ = batch_id;
  return out;
}

Status StreamJoin::LoadKeyCounts(OperatorState* state) {
  for (int side = 0; side < 2; ++side) {
    key_counts_[side].clear();
    ARROW_RETURN_NOT_OK(
        state->PrefixScan(std::string{kSide[side], 'k'}, [&](std::string_view k, std::string_view) {
          if (k.size() >= 2 + kSeqBytes) {
            ++key_counts_[side][KeyHash(RowKeyJoinKey(k))];
          }
          return Status::OK();
        }));
  }
  return Status::OK();
}

}  // namespace lakestream::stream
