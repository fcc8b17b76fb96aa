// See window.h.
#include "exec/window.h"

#include <arrow/array/concatenate.h>
#include <arrow/array/util.h>
#include <arrow/builder.h>
#include <arrow/compute/api_scalar.h>
#include <arrow/compute/api_vector.h>
#include <arrow/compute/cast.h>
#include <fmt/format.h>

#include <algorithm>

#include "exec/batch_internal.h"
#include "expr/aggregate_internal.h"

namespace lakestream::exec {

namespace cp = arrow::compute;
using internal::ArrayPtr;

WindowFrame WindowFrame::Default(bool has_order_by) {
  WindowFrame f;
  f.unit = Unit::kRange;
  f.start = Bound::kUnboundedPreceding;
  f.end = has_order_by ? Bound::kCurrentRow : Bound::kUnboundedFollowing;
  return f;
}

std::string WindowFrame::ToString() const {
  auto bound = [](Bound b, double off) -> std::string {
    switch (b) {
      case Bound::kUnboundedPreceding:
        return "UNBOUNDED PRECEDING";
      case Bound::kPreceding:
        return fmt::format("{} PRECEDING", off);
      case Bound::kCurrentRow:
        return "CURRENT ROW";
      case Bound::kFollowing:
        return fmt::format("{} FOLLOWING", off);
      case Bound::kUnboundedFollowing:
        return "UNBOUNDED FOLLOWING";
    }
    return "?";
  };
  return fmt::format("{} BETWEEN {} AND {}", unit == Unit::kRows ? "ROWS" : "RANGE",
                     bound(start, start_offset), bound(end, end_offset));
}

struct WindowNode::Layout {
  int64_t n = 0;
  std::vector<int64_t> part_start, part_end;  // per row
  std::vector<int64_t> peer_start, peer_end;  // per row
  std::vector<int64_t> part_bounds;           // [0, ..., n]
  std::vector<int64_t> part_index;            // per row
  // The first order key as doubles (negated for DESC so it ascends), for RANGE offsets.
  std::vector<double> range_key;
  std::vector<uint8_t> range_key_valid;
};

Result<std::shared_ptr<WindowNode>> WindowNode::Make(PhysicalNodePtr child, WindowOptions options) {
  auto fields = child->schema()->fields();
  for (const auto& f : options.functions) {
    types::TypePtr type;
    bool nullable = true;
    switch (f.kind) {
      case WindowFunctionKind::kRowNumber:
      case WindowFunctionKind::kRank:
      case WindowFunctionKind::kDenseRank:
      case WindowFunctionKind::kNtile:
        type = arrow::int32();
        nullable = false;
        break;
      case WindowFunctionKind::kPercentRank:
      case WindowFunctionKind::kCumeDist:
        type = arrow::float64();
        nullable = false;
        break;
      case WindowFunctionKind::kAggregate:
        if (!f.aggregate.make) return InternalError("window aggregate {} is not resolved", f.name);
        type = f.aggregate.result_type;
        break;
      default:
        if (f.args.empty()) return UserError("window function {} needs an argument", f.name);
        type = f.args[0]->type;
        break;
    }
    if (f.kind == WindowFunctionKind::kNtile && f.offset <= 0) {
      return UserError("[INVALID_PARAMETER_VALUE] ntile expects a positive number of buckets, got {}",
                       f.offset);
    }
    if (f.kind == WindowFunctionKind::kNthValue && f.offset <= 0) {
      return UserError("[INVALID_PARAMETER_VALUE] nth_value expects a positive offset, got {}",
                       f.offset);
    }
    if (f.frame && f.frame->unit == WindowFrame::Unit::kRange &&
        (f.frame->start == WindowFrame::Bound::kPreceding ||
         f.frame->start == WindowFrame::Bound::kFollowing ||
         f.frame->end == WindowFrame::Bound::kPreceding ||
         f.frame->end == WindowFrame::Bound::kFollowing)) {
      if (options.order_by.size() != 1) {
        return UserError(
            "[DATATYPE_MISMATCH.RANGE_FRAME_MULTI_ORDER] A range window frame with value "
            "boundaries cannot be used in a window specification with {} order by expressions",
            options.order_by.size());
      }
      const auto& t = *options.order_by[0].expr->type;
      const bool ok = t.id() == arrow::Type::INT8 || t.id() == arrow::Type::INT16 ||
                      t.id() == arrow::Type::INT32 || t.id() == arrow::Type::INT64 ||
                      t.id() == arrow::Type::FLOAT || t.id() == arrow::Type::DOUBLE ||
                      t.id() == arrow::Type::DECIMAL128 || t.id() == arrow::Type::DATE32 ||
                      t.id() == arrow::Type::TIMESTAMP;
      if (!ok) {
        return UserError(
            "[DATATYPE_MISMATCH.RANGE_FRAME_INVALID_TYPE] The data type {} used in the order "
            "specification does not support a range frame with value boundaries",
            t.ToString());
      }
    }
    fields.push_back(arrow::field(f.name, type, nullable));
  }
  return std::make_shared<WindowNode>(std::move(child), std::move(options),
                                      arrow::schema(std::move(fields)));
}

WindowNode::WindowNode(PhysicalNodePtr child, WindowOptions options,
                       std::shared_ptr<arrow::Schema> schema)
    : options_(std::move(options)) {
  schema_ = std::move(schema);
  children_ = {std::move(child)};
}

std::string WindowNode::ToString() const {
  std::string parts, order, fns;
  for (size_t i = 0; i < options_.partition_by.size(); ++i) {
    parts += (i ? ", " : "") + options_.partition_by[i]->ToString();
  }
  for (size_t i = 0; i < options_.order_by.size(); ++i) {
    order += fmt::format("{}{} {}", i ? ", " : "", options_.order_by[i].expr->ToString(),
                         options_.order_by[i].ascending ? "ASC" : "DESC");
  }
  for (size_t i = 0; i < options_.functions.size(); ++i) {
    const auto& f = options_.functions[i];
    fns += (i ? ", " : "") + (f.text.empty() ? f.name : f.text);
  }
  return fmt::format("Window([{}], partition_by=[{}], order_by=[{}])", fns, parts, order);
}

Status WindowNode::Prepare(ExecContext* ctx) {
  ctx_ = ctx;
  buffers_.assign(std::max(1, ctx->threads), {});
  buffered_bytes_ = 0;
  output_.clear();
  next_output_ = 0;
  return Status::OK();
}

Status WindowNode::Consume(int child, int thread, BatchPtr batch) {
  if (batch->num_rows() == 0) return Status::OK();
  int64_t bytes = 0;
  for (const auto& c : batch->columns()) {
    for (const auto& b : c->data()->buffers) bytes += b ? b->size() : 0;
  }
  const int64_t total = buffered_bytes_.fetch_add(bytes) + bytes;
  if (total > ctx_->memory_limit) return internal::MemoryLimitError("window", total, ctx_->memory_limit);
  buffers_[thread].push_back(std::move(batch));
  return Status::OK();
}

namespace {

// Rows where the encoded keys differ from the previous row's.
Status Boundaries(const std::vector<ArrayPtr>& keys, int64_t n, arrow::MemoryPool* pool,
                  std::vector<uint8_t>* starts) {
  starts->assign(n, 0);
  if (n > 0) (*starts)[0] = 1;
  if (keys.empty()) return Status::OK();
  std::vector<ArrayPtr> norm;
  for (const auto& k : keys) {
    ARROW_ASSIGN_OR_RAISE(auto a, internal::NormalizeKey(k, pool));
    norm.push_back(std::move(a));
  }
  internal::EncodedKeys enc;
  ARROW_RETURN_NOT_OK(internal::EncodeKeys(norm, std::vector<bool>(keys.size(), true), n, &enc));
  for (int64_t i = 1; i < n; ++i) (*starts)[i] = enc.Key(i) != enc.Key(i - 1);
  return Status::OK();
}

Result<ArrayPtr> IndexArray(const std::vector<int64_t>& idx, arrow::MemoryPool* pool) {
  arrow::Int64Builder b(pool);
  ARROW_RETURN_NOT_OK(b.Reserve(idx.size()));
  for (int64_t i : idx) {
    if (i < 0) {
      b.UnsafeAppendNull();
    } else {
      b.UnsafeAppend(i);
    }
  }
  return b.Finish();
}

Result<ArrayPtr> ConcatOrEmpty(const std::vector<ArrayPtr>& chunks, const types::TypePtr& type,
                               arrow::MemoryPool* pool) {
  if (chunks.empty()) return arrow::MakeEmptyArray(type, pool);
  if (chunks.size() == 1) return chunks[0];
  return arrow::Concatenate(chunks, pool);
}

}  // namespace

Status WindowNode::FinishSink(int child) {
  std::vector<BatchPtr> all;
  for (auto& v : buffers_) {
    for (auto& b : v) all.push_back(std::move(b));
  }
  buffers_.clear();
  const auto& in_schema = children_[0]->schema();
  ARROW_ASSIGN_OR_RAISE(auto cols, internal::ConcatenateColumns(in_schema, all, ctx_->pool));
  int64_t n = 0;
  for (const auto& b : all) n += b->num_rows();
  all.clear();
  auto input = arrow::RecordBatch::Make(in_schema, n, cols);

  // Sort by (partition keys, order keys); strings under a collation by their collation keys.
  ARROW_ASSIGN_OR_RAISE(auto part_keys,
                        internal::EvaluateOrderKeys(options_.partition_by, *input, *ctx_));
  std::vector<expr::ExprPtr> order_exprs;
  for (const auto& k : options_.order_by) order_exprs.push_back(k.expr);
  ARROW_ASSIGN_OR_RAISE(auto order_keys, internal::EvaluateOrderKeys(order_exprs, *input, *ctx_));
  std::vector<ArrayPtr> all_keys = part_keys;
  std::vector<SortKey> spec(part_keys.size(), SortKey{nullptr, true, true});
  for (size_t i = 0; i < order_keys.size(); ++i) {
    all_keys.push_back(order_keys[i]);
    spec.push_back(options_.order_by[i]);
  }
  auto sorted = input;
  if (!all_keys.empty() && n > 0) {
    ARROW_ASSIGN_OR_RAISE(auto indices, SortIndicesFor(all_keys, spec, ctx_->pool));
    std::vector<ArrayPtr> sorted_cols;
    for (const auto& c : cols) {
      ARROW_ASSIGN_OR_RAISE(auto t, cp::Take(*c, *indices));
      sorted_cols.push_back(std::move(t));
    }
    for (auto& k : part_keys) {
      ARROW_ASSIGN_OR_RAISE(k, cp::Take(*k, *indices));
    }
    for (auto& k : order_keys) {
      ARROW_ASSIGN_OR_RAISE(k, cp::Take(*k, *indices));
    }
    sorted = arrow::RecordBatch::Make(in_schema, n, std::move(sorted_cols));
  }

  // Partitions and peer groups.
  Layout L;
  L.n = n;
  std::vector<uint8_t> pstarts, ostarts;
  ARROW_RETURN_NOT_OK(Boundaries(part_keys, n, ctx_->pool, &pstarts));
  ARROW_RETURN_NOT_OK(Boundaries(order_keys, n, ctx_->pool, &ostarts));
  L.part_start.resize(n);
  L.part_end.resize(n);
  L.peer_start.resize(n);
  L.peer_end.resize(n);
  L.part_index.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    if (pstarts[i]) L.part_bounds.push_back(i);
    L.part_index[i] = static_cast<int64_t>(L.part_bounds.size()) - 1;
    L.part_start[i] = L.part_bounds.back();
    const bool peer_start = pstarts[i] || (!order_keys.empty() && ostarts[i]);
    L.peer_start[i] = peer_start ? i : L.peer_start[i - 1];
  }
  L.part_bounds.push_back(n);
  for (int64_t i = n - 1; i >= 0; --i) {
    L.part_end[i] = L.part_bounds[L.part_index[i] + 1];
    const bool last_of_peer = i == n - 1 || L.peer_start[i + 1] != L.peer_start[i];
    L.peer_end[i] = last_of_peer ? i + 1 : L.peer_end[i + 1];
  }
  if (order_keys.size() == 1 && n > 0) {
    const auto& k = order_keys[0];
    const auto id = k->type_id();
    if (id == arrow::Type::INT8 || id == arrow::Type::INT16 || id == arrow::Type::INT32 ||
        id == arrow::Type::INT64 || id == arrow::Type::FLOAT || id == arrow::Type::DOUBLE ||
        id == arrow::Type::DECIMAL128 || id == arrow::Type::DATE32 || id == arrow::Type::TIMESTAMP) {
      ArrayPtr storage = k;
      if (id == arrow::Type::DATE32 || id == arrow::Type::TIMESTAMP) {
        auto data = k->data()->Copy();
        data->type = id == arrow::Type::DATE32 ? arrow::int32() : arrow::int64();
        storage = arrow::MakeArray(data);
      }
      ARROW_ASSIGN_OR_RAISE(auto d, cp::Cast(*storage, arrow::float64()));
      const auto& dv = static_cast<const arrow::DoubleArray&>(*d);
      const double sign = options_.order_by[0].ascending ? 1.0 : -1.0;
      L.range_key.resize(n);
      L.range_key_valid.resize(n);
      for (int64_t i = 0; i < n; ++i) {
        L.range_key_valid[i] = dv.IsValid(i);
        L.range_key[i] = dv.IsValid(i) ? sign * dv.Value(i) : 0;
      }
    }
  }

  std::vector<ArrayPtr> out_cols = sorted->columns();
  for (const auto& f : options_.functions) {
    ARROW_ASSIGN_OR_RAISE(auto col, Compute(f, L, *sorted));
    out_cols.push_back(std::move(col));
  }
  output_ = internal::ToBatches(schema_, out_cols, n, ctx_->batch_size);
  return Status::OK();
}

namespace {

using Frame = WindowFrame;

// [lo, hi) of row i's frame.
void FrameBounds(const Frame& f, const WindowNode* /*unused*/, int64_t i, const int64_t ps,
                 const int64_t pe, const int64_t peer_s, const int64_t peer_e,
                 const std::vector<double>& key, const std::vector<uint8_t>& key_valid,
                 int64_t* lo, int64_t* hi) {
  auto range_bound = [&](double delta, bool is_start) -> int64_t {
    // Non-NULL keys of the partition are contiguous (NULLs sort together).
    if (!key_valid[i]) return is_start ? peer_s : peer_e;
    int64_t a = ps, b = pe;
    while (a < b && !key_valid[a]) ++a;
    while (b > a && !key_valid[b - 1]) --b;
    const double target = key[i] + delta;
    const double* base = key.data();
    if (is_start) return std::lower_bound(base + a, base + b, target) - base;
    return std::upper_bound(base + a, base + b, target) - base;
  };
  const bool rows = f.unit == Frame::Unit::kRows;
  switch (f.start) {
    case Frame::Bound::kUnboundedPreceding:
      *lo = ps;
      break;
    case Frame::Bound::kPreceding:
      *lo = rows ? i - static_cast<int64_t>(f.start_offset) : range_bound(-f.start_offset, true);
      break;
    case Frame::Bound::kCurrentRow:
      *lo = rows ? i : peer_s;
      break;
    case Frame::Bound::kFollowing:
      *lo = rows ? i + static_cast<int64_t>(f.start_offset) : range_bound(f.start_offset, true);
      break;
    case Frame::Bound::kUnboundedFollowing:
      *lo = pe;
      break;
  }
  switch (f.end) {
    case Frame::Bound::kUnboundedPreceding:
      *hi = ps;
      break;
    case Frame::Bound::kPreceding:
      *hi = rows ? i - static_cast<int64_t>(f.end_offset) + 1 : range_bound(-f.end_offset, false);
      break;
    case Frame::Bound::kCurrentRow:
      *hi = rows ? i + 1 : peer_e;
      break;
    case Frame::Bound::kFollowing:
      *hi = rows ? i + static_cast<int64_t>(f.end_offset) + 1 : range_bound(f.end_offset, false);
      break;
    case Frame::Bound::kUnboundedFollowing:
      *hi = pe;
      break;
  }
  *lo = std::clamp(*lo, ps, pe);
  *hi = std::clamp(*hi, ps, pe);
  if (*hi < *lo) *hi = *lo;
}

}  // namespace

Result<ArrayPtr> WindowNode::Compute(const WindowFunction& f, const Layout& L,
                                     const arrow::RecordBatch& sorted) {
  const int64_t n = L.n;
  auto* pool = ctx_->pool;
  using K = WindowFunctionKind;
  switch (f.kind) {
    case K::kRowNumber:
    case K::kRank:
    case K::kDenseRank:
    case K::kNtile: {
      std::vector<int32_t> v(n);
      int32_t dense = 0;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t ps = L.part_start[i];
        if (f.kind == K::kRowNumber) {
          v[i] = static_cast<int32_t>(i - ps + 1);
        } else if (f.kind == K::kRank) {
          v[i] = static_cast<int32_t>(L.peer_start[i] - ps + 1);
        } else if (f.kind == K::kDenseRank) {
          if (i == ps) dense = 0;
          if (L.peer_start[i] == i) ++dense;
          v[i] = dense;
        } else {
          const int64_t size = L.part_end[i] - ps, r = i - ps, b = f.offset;
          const int64_t q = size / b, rem = size % b;
          const int64_t big = rem * (q + 1);
          v[i] = static_cast<int32_t>((r < big ? r / (q + 1) : rem + (r - big) / std::max<int64_t>(q, 1)) + 1);
        }
      }
      return expr::internal::MakeFixedArray(arrow::int32(), v, nullptr, pool);
    }
    case K::kPercentRank:
    case K::kCumeDist: {
      std::vector<double> v(n);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t ps = L.part_start[i], size = L.part_end[i] - ps;
        if (f.kind == K::kPercentRank) {
          v[i] = size <= 1 ? 0.0 : static_cast<double>(L.peer_start[i] - ps) / (size - 1);
        } else {
          v[i] = static_cast<double>(L.peer_end[i] - ps) / size;
        }
      }
      return expr::internal::MakeFixedArray(arrow::float64(), v, nullptr, pool);
    }
    case K::kLag:
    case K::kLead: {
      ARROW_ASSIGN_OR_RAISE(auto xs, internal::EvaluateAll({f.args[0]}, sorted, *ctx_));
      auto x = xs[0];
      int64_t off = f.kind == K::kLag ? f.offset : -f.offset;  // positive: look back
      std::vector<int64_t> idx(n, -1);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t ps = L.part_start[i], pe = L.part_end[i];
        int64_t j;
        if (!f.ignore_nulls || off == 0) {
          j = i - off;
        } else {
          // The |off|-th non-NULL value before (lag) or after (lead) row i.
          const int64_t step = off > 0 ? -1 : 1;
          int64_t need = off > 0 ? off : -off;
          j = i;
          while (need > 0) {
            j += step;
            if (j < ps || j >= pe) break;
            if (x->IsValid(j)) --need;
          }
        }
        idx[i] = j >= ps && j < pe ? j : (f.default_value ? n : -1);
      }
      ArrayPtr values = x;
      if (f.default_value) {
        ARROW_ASSIGN_OR_RAISE(auto d, f.default_value->CastTo(x->type()));
        ARROW_ASSIGN_OR_RAISE(auto da, arrow::MakeArrayFromScalar(*d, 1, pool));
        ARROW_ASSIGN_OR_RAISE(values, arrow::Concatenate({x, da}, pool));
      }
      ARROW_ASSIGN_OR_RAISE(auto indices, IndexArray(idx, pool));
      return cp::Take(*values, *indices);
    }
    default:
      break;
  }

  const Frame frame = f.frame ? *f.frame : Frame::Default(!options_.order_by.empty());
  auto bounds = [&](int64_t i, int64_t* lo, int64_t* hi) {
    FrameBounds(frame, this, i, L.part_start[i], L.part_end[i], L.peer_start[i], L.peer_end[i],
                L.range_key, L.range_key_valid, lo, hi);
  };
  const bool needs_range_key =
      frame.unit == Frame::Unit::kRange &&
      (frame.start == Frame::Bound::kPreceding || frame.start == Frame::Bound::kFollowing ||
       frame.end == Frame::Bound::kPreceding || frame.end == Frame::Bound::kFollowing);
  if (needs_range_key && L.range_key.empty() && n > 0) {
    return UserError("a RANGE frame with offsets needs one numeric, date or timestamp ORDER BY key");
  }

  if (f.kind == K::kFirstValue || f.kind == K::kLastValue || f.kind == K::kNthValue) {
    ARROW_ASSIGN_OR_RAISE(auto xs, internal::EvaluateAll({f.args[0]}, sorted, *ctx_));
    const auto& x = xs[0];
    std::vector<int64_t> idx(n, -1);
    for (int64_t i = 0; i < n; ++i) {
      int64_t lo, hi;
      bounds(i, &lo, &hi);
      if (lo >= hi) continue;
      if (f.kind == K::kFirstValue || f.kind == K::kNthValue) {
        int64_t need = f.kind == K::kFirstValue ? 1 : f.offset;
        if (!f.ignore_nulls) {
          idx[i] = lo + need - 1 < hi ? lo + need - 1 : -1;
        } else {
          for (int64_t j = lo; j < hi; ++j) {
            if (x->IsValid(j) && --need == 0) {
              idx[i] = j;
              break;
            }
          }
        }
      } else if (!f.ignore_nulls) {
        idx[i] = hi - 1;
      } else {
        for (int64_t j = hi - 1; j >= lo; --j) {
          if (x->IsValid(j)) {
            idx[i] = j;
            break;
          }
        }
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto indices, IndexArray(idx, pool));
    return cp::Take(*x, *indices);
  }

  // Aggregates.
  ARROW_ASSIGN_OR_RAISE(auto args, internal::EvaluateAll(f.args, sorted, *ctx_));
  const auto& type = f.aggregate.result_type;
  auto slice_args = [&](int64_t start, int64_t len) {
    std::vector<arrow::Datum> d;
    for (const auto& a : args) d.emplace_back(a->Slice(start, len));
    return d;
  };
  if (frame.start == Frame::Bound::kUnboundedPreceding &&
      frame.end == Frame::Bound::kUnboundedFollowing) {
    // One group per partition.
    auto agg = f.aggregate.make();
    const int64_t parts = static_cast<int64_t>(L.part_bounds.size()) - 1;
    ARROW_RETURN_NOT_OK(agg->Resize(std::max<int64_t>(parts, 0)));
    std::vector<uint32_t> gids(L.part_index.begin(), L.part_index.end());
    if (n > 0) ARROW_RETURN_NOT_OK(agg->Update(slice_args(0, n), gids.data(), n));
    ARROW_ASSIGN_OR_RAISE(auto per_part, agg->Finalize());
    ARROW_ASSIGN_OR_RAISE(auto indices, IndexArray(L.part_index, pool));
    return cp::Take(*per_part, *indices);
  }
  if (frame.start == Frame::Bound::kUnboundedPreceding) {
    // Running frames: the frame end never moves back within a partition.
    std::vector<ArrayPtr> results;
    std::vector<int64_t> which(n);
    std::vector<uint32_t> zeros;
    for (size_t p = 0; p + 1 < L.part_bounds.size(); ++p) {
      const int64_t ps = L.part_bounds[p], pe = L.part_bounds[p + 1];
      auto agg = f.aggregate.make();
      ARROW_RETURN_NOT_OK(agg->Resize(1));
      int64_t cur = ps;
      bool have = false;
      for (int64_t i = ps; i < pe; ++i) {
        int64_t lo, hi;
        bounds(i, &lo, &hi);
        if (hi > cur) {
          const int64_t len = hi - cur;
          if (static_cast<int64_t>(zeros.size()) < len) zeros.assign(len, 0);
          ARROW_RETURN_NOT_OK(agg->Update(slice_args(cur, len), zeros.data(), len));
          cur = hi;
          have = false;
        }
        if (!have) {
          ARROW_ASSIGN_OR_RAISE(auto r, agg->Finalize());
          results.push_back(std::move(r));
          have = true;
        }
        which[i] = static_cast<int64_t>(results.size()) - 1;
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto all, ConcatOrEmpty(results, type, pool));
    ARROW_ASSIGN_OR_RAISE(auto indices, IndexArray(which, pool));
    return cp::Take(*all, *indices);
  }
  // General frames: each row's frame is its own group, in chunks of rows.
  std::vector<ArrayPtr> results;
  constexpr int64_t kMaxPairs = int64_t{1} << 22;
  int64_t i = 0;
  while (i < n) {
    std::vector<int64_t> rows;
    std::vector<uint32_t> gids;
    const int64_t first = i;
    while (i < n && (rows.empty() || static_cast<int64_t>(rows.size()) < kMaxPairs)) {
      int64_t lo, hi;
      bounds(i, &lo, &hi);
      for (int64_t j = lo; j < hi; ++j) {
        rows.push_back(j);
        gids.push_back(static_cast<uint32_t>(i - first));
      }
      ++i;
    }
    auto agg = f.aggregate.make();
    ARROW_RETURN_NOT_OK(agg->Resize(i - first));
    if (!rows.empty()) {
      ARROW_ASSIGN_OR_RAISE(auto indices, IndexArray(rows, pool));
      std::vector<arrow::Datum> taken;
      for (const auto& a : args) {
        ARROW_ASSIGN_OR_RAISE(auto t, cp::Take(*a, *indices));
        taken.emplace_back(std::move(t));
      }
      ARROW_RETURN_NOT_OK(agg->Update(taken, gids.data(), static_cast<int64_t>(gids.size())));
    }
    ARROW_ASSIGN_OR_RAISE(auto r, agg->Finalize());
    results.push_back(std::move(r));
  }
  return ConcatOrEmpty(results, type, pool);
}

Result<BatchPtr> WindowNode::Next(int thread) {
  size_t i = next_output_.fetch_add(1);
  if (i >= output_.size()) return nullptr;
  return std::move(output_[i]);
}

}  // namespace lakestream::exec
