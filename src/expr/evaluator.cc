// Vectorized evaluation. Plain calls evaluate their arguments over the whole
// batch and hand them to the function's kernel. Conditional nodes narrow the
// rows a branch sees: the branch is evaluated over the subset of rows that
// reach it (a selection, materialized as row indices) and the pieces are put
// back in row order with one Take. This is what keeps ANSI errors from rows a
// CASE, IF, COALESCE, AND or OR never evaluates in Spark.
#include "expr/evaluator.h"

#include <arrow/array/concatenate.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>

#include "expr/cast.h"

namespace lakestream::expr {

namespace cp = arrow::compute;
using arrow::Datum;

namespace {

using ArrayPtr = std::shared_ptr<arrow::Array>;

Result<ArrayPtr> ToArray(const Datum& d, int64_t length, arrow::MemoryPool* pool) {
  if (d.is_array()) return d.make_array();
  if (d.is_scalar()) return arrow::MakeArrayFromScalar(*d.scalar(), length, pool);
  if (d.is_chunked_array()) {
    auto chunks = d.chunked_array()->chunks();
    if (chunks.size() == 1) return chunks[0];
    return arrow::Concatenate(chunks, pool);
  }
  return InternalError("expected an array or scalar, got {}", d.ToString());
}

// A boolean datum as "which rows are definitely TRUE / FALSE".
enum class Want { kTrue, kFalse, kNotTrue, kNotFalse };

// Indices (into `rows`, or into the batch when rows is null) where the boolean
// array `cond` matches `want`.
Result<ArrayPtr> SelectRows(const arrow::BooleanArray& cond, const arrow::Int32Array* rows, Want want,
                            arrow::MemoryPool* pool) {
  arrow::Int32Builder b(pool);
  ARROW_RETURN_NOT_OK(b.Reserve(cond.length()));
  for (int64_t i = 0; i < cond.length(); ++i) {
    bool valid = cond.IsValid(i);
    bool v = valid && cond.Value(i);
    bool keep = false;
    switch (want) {
      case Want::kTrue: keep = valid && v; break;
      case Want::kFalse: keep = valid && !v; break;
      case Want::kNotTrue: keep = !(valid && v); break;
      case Want::kNotFalse: keep = !(valid && !v); break;
    }
    if (keep) b.UnsafeAppend(rows ? rows->Value(i) : static_cast<int32_t>(i));
  }
  return b.Finish();
}

// True when evaluating `e` on any row can not raise an error (comparisons and
// null tests of columns and literals). Such a right side of AND/OR runs on the
// whole batch: cheaper than selecting the rows that need it.
bool ErrorFree(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kLiteral:
    case ExprKind::kColumn:
      return true;
    case ExprKind::kAnd:
    case ExprKind::kOr:
      return ErrorFree(*e.args[0]) && ErrorFree(*e.args[1]);
    case ExprKind::kCall: {
      static const char* kSafe[] = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
                                    "equal_null_safe", "not", "is_null", "is_not_null", "isnan"};
      bool safe = false;
      for (const char* n : kSafe) safe = safe || e.name == n;
      if (!safe) return false;
      for (const auto& a : e.args) {
        // Implicit casts inside comparisons may fail (ANSI string -> number).
        if (!ErrorFree(*a)) return false;
        if (!a->type->Equals(*e.args[0]->type)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

class Evaluator {
 public:
  Evaluator(const arrow::RecordBatch& batch, const EvalContext& ctx) : batch_(batch), ctx_(ctx) {}

  // Evaluates `e` over the rows `rows` of the batch (all rows when null).
  // Returns an array with one value per selected row, or a scalar.
  Result<Datum> Eval(const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows) {
    int64_t length = rows ? rows->length() : batch_.num_rows();
    switch (e.kind) {
      case ExprKind::kLiteral:
        return Datum(e.value);
      case ExprKind::kColumn: {
        if (e.column_index < 0 || e.column_index >= batch_.num_columns()) {
          return InternalError("column #{} ({}) out of range of a batch with {} columns", e.column_index,
                               e.name, batch_.num_columns());
        }
        auto col = batch_.column(e.column_index);
        if (!rows) return Datum(col);
        return cp::Take(col, rows, cp::TakeOptions::NoBoundsCheck(), &exec_ctx());
      }
      case ExprKind::kCall: {
        std::vector<Datum> args;
        args.reserve(e.args.size());
        for (const auto& a : e.args) {
          ARROW_ASSIGN_OR_RAISE(auto d, Eval(*a, rows));
          args.push_back(std::move(d));
        }
        return e.call->exec(args, length, ctx_);
      }
      case ExprKind::kCast: {
        ARROW_ASSIGN_OR_RAISE(auto d, Eval(*e.args[0], rows));
        CastMode mode = e.cast_mode;
        if (mode == CastMode::kAnsi && !ctx_.ansi()) mode = CastMode::kLegacy;
        if (d.type()->Equals(*e.type)) return d;
        return Cast(d, e.type, mode, ctx_);
      }
      case ExprKind::kAnd:
      case ExprKind::kOr:
        return EvalAndOr(e, rows, length);
      case ExprKind::kCase:
      case ExprKind::kIf:
        return EvalCase(e, rows, length);
      case ExprKind::kCoalesce:
        return EvalCoalesce(e, rows, length);
    }
    return InternalError("unknown expression kind");
  }

 private:
  cp::ExecContext& exec_ctx() {
    if (!exec_ctx_) exec_ctx_ = std::make_unique<cp::ExecContext>(ctx_.pool);
    return *exec_ctx_;
  }

  Result<Datum> EvalAndOr(const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows, int64_t length) {
    bool is_and = e.kind == ExprKind::kAnd;
    ARROW_ASSIGN_OR_RAISE(auto left, Eval(*e.args[0], rows));
    if (left.is_scalar()) {
      const auto& s = left.scalar_as<arrow::BooleanScalar>();
      // FALSE AND x = FALSE, TRUE OR x = TRUE without evaluating x.
      if (s.is_valid && s.value != is_and) return left;
      ARROW_ASSIGN_OR_RAISE(auto right, Eval(*e.args[1], rows));
      return cp::CallFunction(is_and ? "and_kleene" : "or_kleene", {left, right}, &exec_ctx());
    }
    if (ErrorFree(*e.args[1])) {
      ARROW_ASSIGN_OR_RAISE(auto right, Eval(*e.args[1], rows));
      return cp::CallFunction(is_and ? "and_kleene" : "or_kleene", {left, right}, &exec_ctx());
    }
    auto left_arr = std::static_pointer_cast<arrow::BooleanArray>(left.make_array());
    // Rows that still need the right side: left not FALSE (AND) / not TRUE (OR).
    ARROW_ASSIGN_OR_RAISE(auto need, SelectRows(*left_arr, nullptr, is_and ? Want::kNotFalse : Want::kNotTrue,
                                                ctx_.pool));
    if (need->length() == 0) return left;
    Datum right;
    if (need->length() == length) {
      ARROW_ASSIGN_OR_RAISE(right, Eval(*e.args[1], rows));
    } else {
      ARROW_ASSIGN_OR_RAISE(auto sub_rows, Compose(rows, need));
      ARROW_ASSIGN_OR_RAISE(auto partial, Eval(*e.args[1], sub_rows));
      ARROW_ASSIGN_OR_RAISE(auto partial_arr, ToArray(partial, need->length(), ctx_.pool));
      ARROW_ASSIGN_OR_RAISE(auto scattered, Scatter({{need, partial_arr}}, length, e.type));
      right = Datum(scattered);
    }
    return cp::CallFunction(is_and ? "and_kleene" : "or_kleene", {left, right}, &exec_ctx());
  }

  // CASE WHEN c1 THEN v1 ... ELSE d END and IF(c, a, b): each condition is
  // evaluated on the rows no earlier branch took, each value on the rows its
  // condition took.
  Result<Datum> EvalCase(const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows, int64_t length) {
    size_t n = e.args.size();
    bool has_else = e.kind == ExprKind::kIf ? true : e.has_else;
    size_t pairs_end = has_else ? n - 1 : n;
    std::vector<std::pair<ArrayPtr, ArrayPtr>> pieces;  // (local row positions, values)
    // `pending`: positions (0..length-1) not decided yet; null means all.
    std::shared_ptr<arrow::Int32Array> pending;
    int64_t pending_len = length;
    for (size_t i = 0; i < pairs_end; i += 2) {
      if (pending_len == 0) break;
      ARROW_ASSIGN_OR_RAISE(auto sub_rows, Compose(rows, pending));
      ARROW_ASSIGN_OR_RAISE(auto cond, Eval(*e.args[i], sub_rows));
      ARROW_ASSIGN_OR_RAISE(auto cond_arr, ToArray(cond, pending_len, ctx_.pool));
      const auto& cb = static_cast<const arrow::BooleanArray&>(*cond_arr);
      ARROW_ASSIGN_OR_RAISE(auto taken, SelectRows(cb, pending.get(), Want::kTrue, ctx_.pool));
      ARROW_ASSIGN_OR_RAISE(auto rest, SelectRows(cb, pending.get(), Want::kNotTrue, ctx_.pool));
      if (taken->length() > 0) {
        auto taken_pos = std::static_pointer_cast<arrow::Int32Array>(taken);
        ARROW_ASSIGN_OR_RAISE(auto value_rows, Compose(rows, taken_pos));
        ARROW_ASSIGN_OR_RAISE(auto v, Eval(*e.args[i + 1], value_rows));
        ARROW_ASSIGN_OR_RAISE(auto va, ToArray(v, taken->length(), ctx_.pool));
        pieces.emplace_back(taken, va);
      }
      pending = std::static_pointer_cast<arrow::Int32Array>(rest);
      pending_len = rest->length();
    }
    if (has_else && pending_len > 0) {
      ARROW_ASSIGN_OR_RAISE(auto sub_rows, Compose(rows, pending));
      ARROW_ASSIGN_OR_RAISE(auto v, Eval(*e.args[n - 1], sub_rows));
      if (pieces.empty() && !pending) return v;  // no branch took a row
      ARROW_ASSIGN_OR_RAISE(auto va, ToArray(v, pending_len, ctx_.pool));
      ARROW_ASSIGN_OR_RAISE(auto all_pos, PendingPositions(pending, pending_len));
      pieces.emplace_back(all_pos, va);
    }
    if (pieces.empty()) return arrow::MakeNullScalar(e.type);
    if (pieces.size() == 1 && pieces[0].first->length() == length) return Datum(pieces[0].second);
    ARROW_ASSIGN_OR_RAISE(auto out, Scatter(pieces, length, e.type));
    return Datum(out);
  }

  Result<Datum> EvalCoalesce(const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows, int64_t length) {
    std::vector<std::pair<ArrayPtr, ArrayPtr>> pieces;
    std::shared_ptr<arrow::Int32Array> pending;
    int64_t pending_len = length;
    for (size_t i = 0; i < e.args.size() && pending_len > 0; ++i) {
      ARROW_ASSIGN_OR_RAISE(auto sub_rows, Compose(rows, pending));
      ARROW_ASSIGN_OR_RAISE(auto v, Eval(*e.args[i], sub_rows));
      if (v.is_scalar()) {
        if (!v.scalar()->is_valid) continue;
        if (pieces.empty() && !pending) return v;
      }
      ARROW_ASSIGN_OR_RAISE(auto va, ToArray(v, pending_len, ctx_.pool));
      if (va->null_count() == 0 || i + 1 == e.args.size()) {
        ARROW_ASSIGN_OR_RAISE(auto pos, PendingPositions(pending, pending_len));
        pieces.emplace_back(pos, va);
        pending_len = 0;
        break;
      }
      // Split into non-null values (decided) and null rows (pending).
      arrow::Int32Builder keep(ctx_.pool), rest(ctx_.pool);
      arrow::Int32Builder keep_local(ctx_.pool);
      for (int64_t j = 0; j < va->length(); ++j) {
        int32_t pos = pending ? pending->Value(j) : static_cast<int32_t>(j);
        if (va->IsValid(j)) {
          ARROW_RETURN_NOT_OK(keep.Append(pos));
          ARROW_RETURN_NOT_OK(keep_local.Append(static_cast<int32_t>(j)));
        } else {
          ARROW_RETURN_NOT_OK(rest.Append(pos));
        }
      }
      ARROW_ASSIGN_OR_RAISE(auto keep_pos, keep.Finish());
      ARROW_ASSIGN_OR_RAISE(auto keep_idx, keep_local.Finish());
      ARROW_ASSIGN_OR_RAISE(auto rest_pos, rest.Finish());
      if (keep_pos->length() > 0) {
        ARROW_ASSIGN_OR_RAISE(auto kept, cp::Take(va, keep_idx, cp::TakeOptions::NoBoundsCheck(), &exec_ctx()));
        pieces.emplace_back(keep_pos, kept.make_array());
      }
      pending = std::static_pointer_cast<arrow::Int32Array>(rest_pos);
      pending_len = rest_pos->length();
    }
    if (pieces.empty()) return arrow::MakeNullScalar(e.type);
    if (pieces.size() == 1 && pieces[0].first->length() == length) return Datum(pieces[0].second);
    ARROW_ASSIGN_OR_RAISE(auto out, Scatter(pieces, length, e.type));
    return Datum(out);
  }

  Result<ArrayPtr> PendingPositions(const std::shared_ptr<arrow::Int32Array>& pending, int64_t len) {
    if (pending) return pending;
    arrow::Int32Builder b(ctx_.pool);
    ARROW_RETURN_NOT_OK(b.Reserve(len));
    for (int64_t i = 0; i < len; ++i) b.UnsafeAppend(static_cast<int32_t>(i));
    return b.Finish();
  }

  // Batch row indices of local positions `pos` of a selection `rows`.
  Result<std::shared_ptr<arrow::Int32Array>> Compose(const std::shared_ptr<arrow::Int32Array>& rows,
                                                     const std::shared_ptr<arrow::Int32Array>& pos) {
    if (!pos) return rows;
    if (!rows) return pos;
    arrow::Int32Builder b(ctx_.pool);
    ARROW_RETURN_NOT_OK(b.Reserve(pos->length()));
    for (int64_t i = 0; i < pos->length(); ++i) b.UnsafeAppend(rows->Value(pos->Value(i)));
    ARROW_ASSIGN_OR_RAISE(auto out, b.Finish());
    return std::static_pointer_cast<arrow::Int32Array>(out);
  }
  Result<std::shared_ptr<arrow::Int32Array>> Compose(const std::shared_ptr<arrow::Int32Array>& rows,
                                                     const ArrayPtr& pos) {
    return Compose(rows, std::static_pointer_cast<arrow::Int32Array>(pos));
  }

  // Puts each piece's values at its positions; positions no piece covers are NULL.
  Result<ArrayPtr> Scatter(const std::vector<std::pair<ArrayPtr, ArrayPtr>>& pieces, int64_t length,
                           const types::TypePtr& type) {
    std::vector<int32_t> where(length, -1);
    arrow::ArrayVector values;
    int32_t base = 0;
    for (const auto& [pos, vals] : pieces) {
      const auto& p = static_cast<const arrow::Int32Array&>(*pos);
      for (int64_t i = 0; i < p.length(); ++i) where[p.Value(i)] = base + static_cast<int32_t>(i);
      base += static_cast<int32_t>(vals->length());
      if (!vals->type()->Equals(*type)) {
        ARROW_ASSIGN_OR_RAISE(auto casted, cp::Cast(vals, type, cp::CastOptions::Safe(), &exec_ctx()));
        values.push_back(casted.make_array());
      } else {
        values.push_back(vals);
      }
    }
    ArrayPtr all;
    if (values.size() == 1) {
      all = values[0];
    } else {
      ARROW_ASSIGN_OR_RAISE(all, arrow::Concatenate(values, ctx_.pool));
    }
    arrow::Int32Builder idx(ctx_.pool);
    ARROW_RETURN_NOT_OK(idx.Reserve(length));
    for (int64_t i = 0; i < length; ++i) {
      if (where[i] < 0) {
        idx.UnsafeAppendNull();
      } else {
        idx.UnsafeAppend(where[i]);
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto indices, idx.Finish());
    ARROW_ASSIGN_OR_RAISE(auto out, cp::Take(all, indices, cp::TakeOptions::NoBoundsCheck(), &exec_ctx()));
    return out.make_array();
  }

  const arrow::RecordBatch& batch_;
  const EvalContext& ctx_;
  std::unique_ptr<cp::ExecContext> exec_ctx_;
};

}  // namespace

Result<Datum> Evaluate(const Expr& expr, const arrow::RecordBatch& batch, const EvalContext& ctx) {
  Evaluator ev(batch, ctx);
  return ev.Eval(expr, nullptr);
}

Result<std::shared_ptr<arrow::Array>> EvaluateToArray(const Expr& expr, const arrow::RecordBatch& batch,
                                                      const EvalContext& ctx) {
  ARROW_ASSIGN_OR_RAISE(auto d, Evaluate(expr, batch, ctx));
  ARROW_ASSIGN_OR_RAISE(auto arr, ToArray(d, batch.num_rows(), ctx.pool));
  if (arr->length() != batch.num_rows()) {
    return InternalError("expression {} produced {} rows for a batch of {}", expr.ToString(), arr->length(),
                         batch.num_rows());
  }
  return arr;
}

Result<std::shared_ptr<arrow::RecordBatch>> FilterBatch(const Expr& predicate,
                                                        const std::shared_ptr<arrow::RecordBatch>& batch,
                                                        const EvalContext& ctx) {
  ARROW_ASSIGN_OR_RAISE(auto d, Evaluate(predicate, *batch, ctx));
  if (d.is_scalar()) {
    const auto& s = d.scalar_as<arrow::BooleanScalar>();
    if (s.is_valid && s.value) return batch;
    return batch->Slice(0, 0);
  }
  cp::ExecContext ectx(ctx.pool);
  // DROP: NULL predicate rows are removed, as SQL's WHERE does.
  ARROW_ASSIGN_OR_RAISE(auto out, cp::Filter(batch, d, cp::FilterOptions::Defaults(), &ectx));
  return out.record_batch();
}

Result<std::shared_ptr<arrow::Scalar>> EvaluateConstant(const Expr& expr, const EvalContext& ctx) {
  // A one-row, zero-column batch: constants evaluate once.
  auto batch = arrow::RecordBatch::Make(arrow::schema({}), 1, arrow::ArrayVector{});
  ARROW_ASSIGN_OR_RAISE(auto d, Evaluate(expr, *batch, ctx));
  if (d.is_scalar()) return d.scalar();
  ARROW_ASSIGN_OR_RAISE(auto arr, ToArray(d, 1, ctx.pool));
  return arr->GetScalar(0);
}

}  // namespace lakestream::expr
