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
#include <arrow/util/bit_run_reader.h>
#include <arrow/util/bit_util.h>
#include <arrow/util/bitmap_ops.h>

#include <cstring>
#include <optional>
#include <unordered_map>

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
// array `cond` matches `want`. The wanted rows are found as a bitmap (values
// combined with validity a word at a time) and copied out run by run.
Result<ArrayPtr> SelectRows(const arrow::BooleanArray& cond, const arrow::Int32Array* rows,
                            Want want, arrow::MemoryPool* pool) {
  const int64_t n = cond.length();
  const uint8_t* values = cond.values()->data();
  const int64_t off = cond.offset();
  const uint8_t* validity = cond.null_count() > 0 ? cond.null_bitmap_data() : nullptr;
  ARROW_ASSIGN_OR_RAISE(auto mask, arrow::AllocateEmptyBitmap(n, pool));
  uint8_t* m = mask->mutable_data();
  // TRUE = value & valid; FALSE = ~value & valid; NOT TRUE = ~TRUE; NOT FALSE = ~FALSE.
  bool want_value = want == Want::kTrue || want == Want::kNotTrue;
  bool negate = want == Want::kNotTrue || want == Want::kNotFalse;
  if (want_value) {
    arrow::internal::CopyBitmap(values, off, n, m, 0);
  } else {
    arrow::internal::InvertBitmap(values, off, n, m, 0);
  }
  if (validity) arrow::internal::BitmapAnd(m, 0, validity, off, n, 0, m);
  if (negate) arrow::internal::InvertBitmap(m, 0, n, m, 0);
  int64_t count = arrow::internal::CountSetBits(m, 0, n);
  ARROW_ASSIGN_OR_RAISE(auto out, arrow::AllocateBuffer(count * sizeof(int32_t), pool));
  auto* dst = reinterpret_cast<int32_t*>(out->mutable_data());
  const int32_t* from = rows ? rows->raw_values() : nullptr;
  arrow::internal::VisitSetBitRunsVoid(m, 0, n, [&](int64_t pos, int64_t len) {
    if (from) {
      std::memcpy(dst, from + pos, len * sizeof(int32_t));
    } else {
      for (int64_t i = 0; i < len; ++i) dst[i] = static_cast<int32_t>(pos + i);
    }
    dst += len;
  });
  return std::make_shared<arrow::Int32Array>(count, std::shared_ptr<arrow::Buffer>(std::move(out)));
}

// A boolean datum with NULL read as FALSE (a CASE branch is taken only where
// its condition is TRUE; Arrow's if_else would make those rows NULL).
Result<Datum> NullAsFalse(const Datum& cond, arrow::MemoryPool* pool) {
  if (cond.is_scalar()) {
    if (cond.scalar()->is_valid) return cond;
    return Datum(std::make_shared<arrow::BooleanScalar>(false));
  }
  const auto& a = *cond.array();
  if (a.GetNullCount() == 0) return cond;
  ARROW_ASSIGN_OR_RAISE(auto bits,
                        arrow::internal::BitmapAnd(pool, a.buffers[1]->data(), a.offset,
                                                   a.buffers[0]->data(), a.offset, a.length, 0));
  return Datum(std::make_shared<arrow::BooleanArray>(a.length, std::move(bits)));
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
      static const char* kSafe[] = {
          "equal",           "not_equal", "less",    "less_equal",  "greater", "greater_equal",
          "equal_null_safe", "not",       "is_null", "is_not_null", "isnan"};
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
  Evaluator(const arrow::RecordBatch& batch, const EvalContext& ctx,
            std::vector<ArrayPtr> vars = {})
      : batch_(batch), ctx_(ctx), vars_(std::move(vars)) {
    for (int i = 0; i < batch_.num_columns() && !has_dictionary_; ++i)
      has_dictionary_ = batch_.column(i)->type_id() == arrow::Type::DICTIONARY;
  }

  // Evaluates `e` over the rows `rows` of the batch (all rows when null).
  // Returns an array with one value per selected row, or a scalar.
  Result<Datum> Eval(const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows) {
    int64_t length = rows ? rows->length() : batch_.num_rows();
    switch (e.kind) {
      case ExprKind::kLiteral:
        return Datum(e.value);
      case ExprKind::kColumn: {
        if (e.column_index < 0 || e.column_index >= batch_.num_columns()) {
          return InternalError("column #{} ({}) out of range of a batch with {} columns",
                               e.column_index, e.name, batch_.num_columns());
        }
        auto col = batch_.column(e.column_index);
        if (col->type_id() == arrow::Type::DICTIONARY) return Decoded(e.column_index, rows);
        if (!rows) return Datum(col);
        return cp::Take(col, rows, cp::TakeOptions::NoBoundsCheck(), &exec_ctx());
      }
      case ExprKind::kCall: {
        if (auto d = DictionaryComparison(e, rows)) return std::move(*d);
        if (auto d = DictionaryExpression(e, rows)) return std::move(*d);
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
        if (auto d = DictionaryExpression(e, rows)) return std::move(*d);
        return EvalAndOr(e, rows, length);
      case ExprKind::kCase:
      case ExprKind::kIf:
        if (auto d = DictionaryExpression(e, rows)) return std::move(*d);
        return EvalCase(e, rows, length);
      case ExprKind::kCoalesce:
        return EvalCoalesce(e, rows, length);
      case ExprKind::kLambdaVariable: {
        if (e.column_index < 0 || static_cast<size_t>(e.column_index) >= vars_.size()) {
          return InternalError(
              "lambda variable {} (slot {}) evaluated outside its lambda ({} in scope)", e.name,
              e.column_index, vars_.size());
        }
        const auto& v = vars_[e.column_index];
        if (!rows) return Datum(v);
        return cp::Take(v, rows, cp::TakeOptions::NoBoundsCheck(), &exec_ctx());
      }
      case ExprKind::kHigherOrder:
        return EvalHigherOrder(e, rows, length);
    }
    return InternalError("unknown expression kind");
  }

 private:
  // A dictionary-encoded column (a scan keeps low-cardinality strings so
  // when its consumers allow, see plan/physical_planner.cc) as the dense
  // array every kernel takes, decoded once per batch.
  Result<Datum> Decoded(int column, const std::shared_ptr<arrow::Int32Array>& rows) {
    auto& dense = decoded_[column];
    if (!dense) {
      const auto& col = batch_.column(column);
      const auto& type = static_cast<const arrow::DictionaryType&>(*col->type());
      ARROW_ASSIGN_OR_RAISE(auto d,
                            cp::Cast(col, type.value_type(), cp::CastOptions::Safe(), &exec_ctx()));
      dense = d.make_array();
    }
    if (!rows) return Datum(dense);
    return cp::Take(dense, rows, cp::TakeOptions::NoBoundsCheck(), &exec_ctx());
  }

  // `column <cmp> literal` (either order) over a dictionary-encoded column:
  // the comparison runs once per dictionary entry and its result is
  // gathered by the indices (a NULL index gives NULL, as the comparison of
  // a NULL does). nullopt when `e` is not that.
  std::optional<Result<Datum>> DictionaryComparison(
      const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows) {
    if (e.args.size() != 2 || !e.call) return std::nullopt;
    int col_arg = -1;
    for (int i = 0; i < 2; ++i) {
      const Expr& a = *e.args[i];
      if (a.kind == ExprKind::kColumn && a.column_index >= 0 &&
          a.column_index < batch_.num_columns() &&
          batch_.column(a.column_index)->type_id() == arrow::Type::DICTIONARY &&
          e.args[1 - i]->kind == ExprKind::kLiteral) {
        col_arg = i;
      }
    }
    static const char* kComparisons[] = {"equal",      "not_equal", "less",
                                         "less_equal", "greater",   "greater_equal"};
    bool comparison = false;
    for (const char* n : kComparisons) comparison = comparison || e.name == n;
    if (col_arg < 0 || !comparison) return std::nullopt;
    const auto& dict =
        static_cast<const arrow::DictionaryArray&>(*batch_.column(e.args[col_arg]->column_index));
    std::vector<Datum> args(2);
    args[col_arg] = Datum(dict.dictionary());
    args[1 - col_arg] = Datum(e.args[1 - col_arg]->value);
    auto per_entry = e.call->exec(args, dict.dictionary()->length(), ctx_);
    if (!per_entry.ok()) return per_entry.status();
    auto entries = ToArray(*per_entry, dict.dictionary()->length(), ctx_.pool);
    if (!entries.ok()) return entries.status();
    Datum indices(dict.indices());
    if (rows) {
      auto taken = cp::Take(indices, rows, cp::TakeOptions::NoBoundsCheck(), &exec_ctx());
      if (!taken.ok()) return taken.status();
      indices = std::move(*taken);
    }
    return cp::Take(*entries, indices, cp::TakeOptions::Defaults(), &exec_ctx());
  }

  // Whether `e` is deterministic and reads no column but one
  // dictionary-encoded column of the batch (stored in *col; -1 while none).
  bool OnlyDictionaryColumn(const Expr& e, int* col) const {
    switch (e.kind) {
      case ExprKind::kLiteral:
        return true;
      case ExprKind::kColumn:
        if (e.column_index < 0 || e.column_index >= batch_.num_columns() ||
            batch_.column(e.column_index)->type_id() != arrow::Type::DICTIONARY ||
            (*col >= 0 && *col != e.column_index)) {
          return false;
        }
        *col = e.column_index;
        return true;
      case ExprKind::kCall:
        if (!e.call || !e.call->deterministic) return false;
        [[fallthrough]];
      case ExprKind::kAnd:
      case ExprKind::kOr:
      case ExprKind::kCase:
      case ExprKind::kIf:
        for (const auto& a : e.args) {
          if (!OnlyDictionaryColumn(*a, col)) return false;
        }
        return true;
      default:
        return false;
    }
  }

  // An expression that cannot raise over one dictionary-encoded column and
  // literals (CASE WHEN device = 'mobile' THEN 1 ELSE 0 END): evaluated once
  // per dictionary entry and once for NULL, then gathered by the indices,
  // instead of per row. Only error-free expressions: an entry that no row
  // references must not fail the query. nullopt when `e` is not that.
  std::optional<Result<Datum>> DictionaryExpression(
      const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows) {
    // Tried at every call, AND/OR and CASE node: most batches have no
    // dictionary column, and the checks below walk the node's subtree.
    if (!has_dictionary_) return std::nullopt;
    bool safe = e.kind == ExprKind::kCase || e.kind == ExprKind::kIf
                    ? CaseErrorFree(e, e.kind == ExprKind::kIf || e.has_else ? e.args.size() - 1
                                                                             : e.args.size())
                    : ErrorFree(e);
    if (!safe) return std::nullopt;
    int col = -1;
    if (!OnlyDictionaryColumn(e, &col) || col < 0) return std::nullopt;
    const auto& dict = static_cast<const arrow::DictionaryArray&>(*batch_.column(col));
    const int64_t entries = dict.dictionary()->length();
    const int64_t length = rows ? rows->length() : batch_.num_rows();
    if (entries >= length || dict.indices()->type_id() != arrow::Type::INT32) return std::nullopt;
    return EvalOnDictionary(e, col, dict, rows);
  }

  Result<Datum> EvalOnDictionary(const Expr& e, int col, const arrow::DictionaryArray& dict,
                                 const std::shared_ptr<arrow::Int32Array>& rows) {
    const int64_t entries = dict.dictionary()->length();
    // The entries, then NULL at position `entries` for the NULL indices.
    ARROW_ASSIGN_OR_RAISE(auto null_entry, arrow::MakeArrayOfNull(dict.dictionary()->type(), 1));
    ARROW_ASSIGN_OR_RAISE(auto values,
                          arrow::Concatenate({dict.dictionary(), null_entry}, ctx_.pool));
    std::vector<int> mapping(static_cast<size_t>(batch_.num_columns()), -1);
    mapping[static_cast<size_t>(col)] = 0;
    auto on_entries = RemapColumns(std::make_shared<Expr>(e), mapping);
    auto entry_batch = arrow::RecordBatch::Make(arrow::schema({arrow::field("v", values->type())}),
                                                entries + 1, {values});
    Evaluator sub(*entry_batch, ctx_);
    ARROW_ASSIGN_OR_RAISE(auto per_entry, sub.Eval(*on_entries, nullptr));
    ARROW_ASSIGN_OR_RAISE(auto per_entry_arr, ToArray(per_entry, entries + 1, ctx_.pool));
    Datum indices(dict.indices());
    if (rows) {
      ARROW_ASSIGN_OR_RAISE(indices,
                            cp::Take(indices, rows, cp::TakeOptions::NoBoundsCheck(), &exec_ctx()));
    }
    if (indices.null_count() > 0) {
      ARROW_ASSIGN_OR_RAISE(
          indices,
          cp::CallFunction(
              "coalesce",
              {indices, Datum(std::make_shared<arrow::Int32Scalar>(static_cast<int32_t>(entries)))},
              &exec_ctx()));
    }
    return cp::Take(per_entry_arr, indices, cp::TakeOptions::Defaults(), &exec_ctx());
  }

  cp::ExecContext& exec_ctx() {
    if (!exec_ctx_) exec_ctx_ = std::make_unique<cp::ExecContext>(ctx_.pool);
    return *exec_ctx_;
  }

  Result<Datum> EvalAndOr(const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows,
                          int64_t length) {
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
    ARROW_ASSIGN_OR_RAISE(
        auto need,
        SelectRows(*left_arr, nullptr, is_and ? Want::kNotFalse : Want::kNotTrue, ctx_.pool));
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
  Result<Datum> EvalCase(const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows,
                         int64_t length) {
    size_t n = e.args.size();
    bool has_else = e.kind == ExprKind::kIf ? true : e.has_else;
    size_t pairs_end = has_else ? n - 1 : n;
    if (CaseErrorFree(e, pairs_end)) return EvalCaseWhole(e, rows, pairs_end, has_else);
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

  // True when no condition or value of a CASE can raise an error on any row:
  // then narrowing each branch to its rows (which exists only to keep ANSI
  // errors away from rows Spark never evaluates a branch on) buys nothing.
  static bool CaseErrorFree(const Expr& e, size_t pairs_end) {
    auto id = e.type->id();
    // The types Arrow's if_else takes.
    if (!arrow::is_primitive(id) && !arrow::is_base_binary_like(id) && !arrow::is_decimal(id)) {
      return false;
    }
    for (size_t i = 0; i < e.args.size(); ++i) {
      const Expr& a = *e.args[i];
      if (!ErrorFree(a)) return false;
      bool is_value = i >= pairs_end || i % 2 == 1;
      if (is_value && !a.type->Equals(*e.type)) return false;
    }
    return true;
  }

  // The CASE over every row with Arrow's if_else, last branch first, so an
  // earlier branch overrides a later one where both conditions hold.
  Result<Datum> EvalCaseWhole(const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows,
                              size_t pairs_end, bool has_else) {
    Datum result;
    if (has_else) {
      ARROW_ASSIGN_OR_RAISE(result, Eval(*e.args.back(), rows));
    } else {
      result = Datum(arrow::MakeNullScalar(e.type));
    }
    for (size_t i = pairs_end; i >= 2; i -= 2) {
      ARROW_ASSIGN_OR_RAISE(auto cond, Eval(*e.args[i - 2], rows));
      ARROW_ASSIGN_OR_RAISE(cond, NullAsFalse(cond, ctx_.pool));
      ARROW_ASSIGN_OR_RAISE(auto value, Eval(*e.args[i - 1], rows));
      ARROW_ASSIGN_OR_RAISE(result, cp::IfElse(cond, value, result, &exec_ctx()));
    }
    return result;
  }

  Result<Datum> EvalCoalesce(const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows,
                             int64_t length) {
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
        ARROW_ASSIGN_OR_RAISE(
            auto kept, cp::Take(va, keep_idx, cp::TakeOptions::NoBoundsCheck(), &exec_ctx()));
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

  Result<ArrayPtr> PendingPositions(const std::shared_ptr<arrow::Int32Array>& pending,
                                    int64_t len) {
    if (pending) return pending;
    arrow::Int32Builder b(ctx_.pool);
    ARROW_RETURN_NOT_OK(b.Reserve(len));
    for (int64_t i = 0; i < len; ++i) b.UnsafeAppend(static_cast<int32_t>(i));
    return b.Finish();
  }

  // Batch row indices of local positions `pos` of a selection `rows`.
  Result<std::shared_ptr<arrow::Int32Array>> Compose(
      const std::shared_ptr<arrow::Int32Array>& rows,
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
        ARROW_ASSIGN_OR_RAISE(auto casted,
                              cp::Cast(vals, type, cp::CastOptions::Safe(), &exec_ctx()));
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
    ARROW_ASSIGN_OR_RAISE(auto out,
                          cp::Take(all, indices, cp::TakeOptions::NoBoundsCheck(), &exec_ctx()));
    return out.make_array();
  }

  // ------------------------------------------------------- higher-order functions
  //
  // A lambda body runs once over all elements of all rows: the elements are
  // flattened into one array, the body's outer columns are taken at each
  // element's row, and its parameters are extra columns (slots). The results
  // are put back into lists by the row offsets.

  // The elements of the non-NULL rows of a list (or map) array, flattened.
  struct Flat {
    ArrayPtr values;                              // elements, in row order
    std::shared_ptr<arrow::Int32Array> parent;    // local row of each element
    std::shared_ptr<arrow::Int32Array> position;  // 0-based index of each element in its row
    std::vector<int32_t> counts;                  // elements per row (0 for NULL rows)
  };

  Result<Flat> Flatten(const arrow::ListArray& list) {
    Flat f;
    int64_t n = list.length();
    f.counts.assign(n, 0);
    arrow::Int32Builder parent(ctx_.pool), position(ctx_.pool), take(ctx_.pool);
    bool contiguous = true;
    int64_t next = -1;
    for (int64_t i = 0; i < n; ++i) {
      if (list.IsNull(i)) continue;
      int32_t begin = list.value_offset(i), len = list.value_length(i);
      f.counts[i] = len;
      if (len == 0) continue;
      if (next >= 0 && begin != next) contiguous = false;  // a gap (a NULL row with values)
      next = begin + len;
      for (int32_t j = 0; j < len; ++j) {
        ARROW_RETURN_NOT_OK(parent.Append(static_cast<int32_t>(i)));
        ARROW_RETURN_NOT_OK(position.Append(j));
        ARROW_RETURN_NOT_OK(take.Append(begin + j));
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto p, parent.Finish());
    ARROW_ASSIGN_OR_RAISE(auto pos, position.Finish());
    ARROW_ASSIGN_OR_RAISE(auto t, take.Finish());
    f.parent = std::static_pointer_cast<arrow::Int32Array>(p);
    f.position = std::static_pointer_cast<arrow::Int32Array>(pos);
    if (t->length() == 0) {
      f.values = list.values()->Slice(0, 0);
    } else if (contiguous) {
      int32_t first = static_cast<const arrow::Int32Array&>(*t).Value(0);
      f.values = list.values()->Slice(first, t->length());
    } else {
      ARROW_ASSIGN_OR_RAISE(
          auto taken, cp::Take(list.values(), t, cp::TakeOptions::NoBoundsCheck(), &exec_ctx()));
      f.values = taken.make_array();
    }
    return f;
  }

  // Evaluates a lambda `body` once per element: element j belongs to local row
  // parent[j] of the selection `rows`; `params` hold the body's parameters
  // (slots `slot`, `slot + 1`, ...), one value per element.
  Result<ArrayPtr> EvalLambda(const Expr& body, const std::shared_ptr<arrow::Int32Array>& rows,
                              const std::shared_ptr<arrow::Int32Array>& parent,
                              std::vector<ArrayPtr> params, int slot) {
    int64_t m = parent->length();
    ARROW_ASSIGN_OR_RAISE(auto at, Compose(rows, parent));  // batch row of each element
    std::vector<int> used;
    CollectColumns(body, &used);
    std::vector<bool> needed(batch_.num_columns(), false);
    for (int c : used) {
      if (c >= 0 && c < batch_.num_columns()) needed[c] = true;
    }
    arrow::FieldVector fields;
    arrow::ArrayVector cols;
    for (int c = 0; c < batch_.num_columns(); ++c) {
      if (needed[c]) {
        ARROW_ASSIGN_OR_RAISE(auto col, cp::Take(batch_.column(c), at,
                                                 cp::TakeOptions::NoBoundsCheck(), &exec_ctx()));
        cols.push_back(col.make_array());
        fields.push_back(batch_.schema()->field(c));
      } else {
        // Not read by the body: a placeholder of the right length.
        cols.push_back(std::make_shared<arrow::NullArray>(m));
        fields.push_back(arrow::field(batch_.schema()->field(c)->name(), arrow::null()));
      }
    }
    std::vector<ArrayPtr> vars;
    for (int s = 0; s < slot && static_cast<size_t>(s) < vars_.size(); ++s) {
      ARROW_ASSIGN_OR_RAISE(auto v,
                            cp::Take(vars_[s], at, cp::TakeOptions::NoBoundsCheck(), &exec_ctx()));
      vars.push_back(v.make_array());
    }
    while (static_cast<int>(vars.size()) < slot)
      vars.push_back(std::make_shared<arrow::NullArray>(m));
    for (auto& p : params) vars.push_back(std::move(p));
    auto sub_batch = arrow::RecordBatch::Make(arrow::schema(std::move(fields)), m, std::move(cols));
    Evaluator sub(*sub_batch, ctx_, std::move(vars));
    ARROW_ASSIGN_OR_RAISE(auto d, sub.Eval(body, nullptr));
    ARROW_ASSIGN_OR_RAISE(auto out, ToArray(d, m, ctx_.pool));
    if (!out->type()->Equals(*body.type)) {
      ARROW_ASSIGN_OR_RAISE(auto c, cp::Cast(out, body.type, cp::CastOptions::Safe(), &exec_ctx()));
      out = c.make_array();
    }
    return out;
  }

  // Offsets from per-row counts, and the validity bitmap of `like` (NULL rows stay NULL).
  Result<std::shared_ptr<arrow::Buffer>> OffsetsOf(const std::vector<int32_t>& counts) {
    arrow::Int32Builder b(ctx_.pool);
    ARROW_RETURN_NOT_OK(b.Reserve(counts.size() + 1));
    int32_t acc = 0;
    b.UnsafeAppend(0);
    for (int32_t c : counts) b.UnsafeAppend(acc += c);
    ARROW_ASSIGN_OR_RAISE(auto arr, b.Finish());
    return arr->data()->buffers[1];
  }
  Result<std::pair<std::shared_ptr<arrow::Buffer>, int64_t>> ValidityOf(const arrow::Array& like) {
    if (like.null_count() == 0) return std::make_pair(std::shared_ptr<arrow::Buffer>(), int64_t{0});
    ARROW_ASSIGN_OR_RAISE(auto bitmap, arrow::AllocateEmptyBitmap(like.length(), ctx_.pool));
    for (int64_t i = 0; i < like.length(); ++i) {
      if (like.IsValid(i)) arrow::bit_util::SetBit(bitmap->mutable_data(), i);
    }
    return std::make_pair(std::shared_ptr<arrow::Buffer>(std::move(bitmap)), like.null_count());
  }

  Result<ArrayPtr> InputArray(const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows,
                              int64_t length) {
    ARROW_ASSIGN_OR_RAISE(auto d, Eval(e, rows));
    ARROW_ASSIGN_OR_RAISE(auto a, ToArray(d, length, ctx_.pool));
    if (a->type_id() == arrow::Type::NA)
      return arrow::MakeArrayOfNull(
          e.type->id() == arrow::Type::NA ? arrow::list(arrow::null()) : e.type, length, ctx_.pool);
    return a;
  }

  Result<Datum> EvalHigherOrder(const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows,
                                int64_t length) {
    const std::string& fn = e.name;
    int slot = e.lambda_slot;
    const Expr& body = *e.args[e.args.size() - e.num_lambdas];
    if (fn == "aggregate") return EvalAggregate(e, rows, length);
    if (fn == "zip_with") return EvalZipWith(e, rows, length);
    ARROW_ASSIGN_OR_RAISE(auto input, InputArray(*e.args[0], rows, length));
    bool is_map = input->type_id() == arrow::Type::MAP;
    if (input->type_id() != arrow::Type::LIST && !is_map) {
      return InternalError("{} over {}", fn, input->type()->ToString());
    }
    const auto& list = static_cast<const arrow::ListArray&>(*input);
    ARROW_ASSIGN_OR_RAISE(auto flat, Flatten(list));
    std::vector<ArrayPtr> params;
    if (is_map) {
      const auto& entries = static_cast<const arrow::StructArray&>(*flat.values);
      params = {entries.field(0), entries.field(1)};
    } else {
      params = {flat.values};
      params.push_back(flat.position);  // the optional index parameter (x, i)
    }
    ARROW_ASSIGN_OR_RAISE(auto out, EvalLambda(body, rows, flat.parent, params, slot));
    ARROW_ASSIGN_OR_RAISE(auto validity, ValidityOf(list));
    if (fn == "transform" || fn == "transform_values" || fn == "transform_keys") {
      ARROW_ASSIGN_OR_RAISE(auto offsets, OffsetsOf(flat.counts));
      if (fn == "transform") {
        return Datum(std::make_shared<arrow::ListArray>(e.type, length, offsets, out,
                                                        validity.first, validity.second));
      }
      const auto& entries = static_cast<const arrow::StructArray&>(*flat.values);
      const auto& mt = static_cast<const arrow::MapType&>(*e.type);
      ArrayPtr keys = entries.field(0), items = entries.field(1);
      if (fn == "transform_keys") {
        if (out->null_count() > 0) {
          return ExecutionError(
              "[NULL_MAP_KEY] Cannot use null as map key (transform_keys produced a NULL key)");
        }
        keys = out;
      } else {
        items = out;
      }
      ARROW_ASSIGN_OR_RAISE(
          auto ent, arrow::StructArray::Make({keys, items}, {mt.key_field(), mt.item_field()}));
      return Datum(std::make_shared<arrow::MapArray>(e.type, length, offsets, ent, validity.first,
                                                     validity.second));
    }
    const auto& pred = static_cast<const arrow::BooleanArray&>(*out);
    if (fn == "filter" || fn == "map_filter") {
      std::vector<int32_t> counts(length, 0);
      arrow::BooleanBuilder keep(ctx_.pool);
      ARROW_RETURN_NOT_OK(keep.Reserve(pred.length()));
      for (int64_t j = 0; j < pred.length(); ++j) {
        bool k = pred.IsValid(j) && pred.Value(j);
        keep.UnsafeAppend(k);
        if (k) ++counts[flat.parent->Value(j)];
      }
      ARROW_ASSIGN_OR_RAISE(auto mask, keep.Finish());
      ARROW_ASSIGN_OR_RAISE(
          auto kept, cp::Filter(flat.values, mask, cp::FilterOptions::Defaults(), &exec_ctx()));
      ARROW_ASSIGN_OR_RAISE(auto offsets, OffsetsOf(counts));
      if (is_map) {
        return Datum(std::make_shared<arrow::MapArray>(e.type, length, offsets, kept.make_array(),
                                                       validity.first, validity.second));
      }
      return Datum(std::make_shared<arrow::ListArray>(e.type, length, offsets, kept.make_array(),
                                                      validity.first, validity.second));
    }
    if (fn == "exists" || fn == "forall") {
      // Three-valued: exists is TRUE if any element is TRUE, else NULL if any is
      // NULL, else FALSE; forall is FALSE if any is FALSE, else NULL if any is NULL.
      bool want = fn == "exists";
      std::vector<uint8_t> hit(length, 0), saw_null(length, 0);
      for (int64_t j = 0; j < pred.length(); ++j) {
        int32_t r = flat.parent->Value(j);
        if (pred.IsNull(j)) {
          saw_null[r] = 1;
        } else if (pred.Value(j) == want) {
          hit[r] = 1;
        }
      }
      arrow::BooleanBuilder b(ctx_.pool);
      ARROW_RETURN_NOT_OK(b.Reserve(length));
      for (int64_t i = 0; i < length; ++i) {
        if (list.IsNull(i) || (!hit[i] && saw_null[i])) {
          b.UnsafeAppendNull();
        } else {
          b.UnsafeAppend(hit[i] ? want : !want);
        }
      }
      ARROW_ASSIGN_OR_RAISE(auto res, b.Finish());
      return Datum(res);
    }
    return InternalError("unknown higher-order function {}", fn);
  }

  // aggregate(array, zero, (acc, x) -> merge[, acc -> finish]): the fold runs
  // position by position, each step vectorized over the rows still that long.
  Result<Datum> EvalAggregate(const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows,
                              int64_t length) {
    int slot = e.lambda_slot;
    const Expr& merge = *e.args[2];
    const Expr* finish = e.num_lambdas > 1 ? e.args[3].get() : nullptr;
    ARROW_ASSIGN_OR_RAISE(auto input, InputArray(*e.args[0], rows, length));
    const auto& list = static_cast<const arrow::ListArray&>(*input);
    ARROW_ASSIGN_OR_RAISE(auto zero_d, Eval(*e.args[1], rows));
    ARROW_ASSIGN_OR_RAISE(auto zero, ToArray(zero_d, length, ctx_.pool));
    std::vector<int32_t> active_rows;
    for (int64_t i = 0; i < length; ++i) {
      if (list.IsValid(i)) active_rows.push_back(static_cast<int32_t>(i));
    }
    auto to_array =
        [&](const std::vector<int32_t>& v) -> Result<std::shared_ptr<arrow::Int32Array>> {
      arrow::Int32Builder b(ctx_.pool);
      ARROW_RETURN_NOT_OK(b.AppendValues(v));
      ARROW_ASSIGN_OR_RAISE(auto a, b.Finish());
      return std::static_pointer_cast<arrow::Int32Array>(a);
    };
    ARROW_ASSIGN_OR_RAISE(auto active, to_array(active_rows));
    ARROW_ASSIGN_OR_RAISE(auto acc_d,
                          cp::Take(zero, active, cp::TakeOptions::NoBoundsCheck(), &exec_ctx()));
    ArrayPtr acc = acc_d.make_array();
    arrow::ArrayVector done_rows, done_vals;
    for (int32_t k = 0; !active_rows.empty(); ++k) {
      // Rows with exactly k elements are finished.
      std::vector<int32_t> cont;
      arrow::BooleanBuilder fin(ctx_.pool), keep(ctx_.pool);
      std::vector<int32_t> fin_rows;
      for (int32_t r : active_rows) {
        bool f = list.value_length(r) == k;
        ARROW_RETURN_NOT_OK(fin.Append(f));
        ARROW_RETURN_NOT_OK(keep.Append(!f));
        (f ? fin_rows : cont).push_back(r);
      }
      if (!fin_rows.empty()) {
        ARROW_ASSIGN_OR_RAISE(auto fin_mask, fin.Finish());
        ARROW_ASSIGN_OR_RAISE(
            auto vals, cp::Filter(acc, fin_mask, cp::FilterOptions::Defaults(), &exec_ctx()));
        ARROW_ASSIGN_OR_RAISE(auto fr, to_array(fin_rows));
        done_rows.push_back(fr);
        done_vals.push_back(vals.make_array());
        ARROW_ASSIGN_OR_RAISE(auto keep_mask, keep.Finish());
        ARROW_ASSIGN_OR_RAISE(
            auto rest, cp::Filter(acc, keep_mask, cp::FilterOptions::Defaults(), &exec_ctx()));
        acc = rest.make_array();
      }
      active_rows = std::move(cont);
      if (active_rows.empty()) break;
      arrow::Int32Builder at(ctx_.pool);
      for (int32_t r : active_rows) ARROW_RETURN_NOT_OK(at.Append(list.value_offset(r) + k));
      ARROW_ASSIGN_OR_RAISE(auto at_arr, at.Finish());
      ARROW_ASSIGN_OR_RAISE(
          auto xs, cp::Take(list.values(), at_arr, cp::TakeOptions::NoBoundsCheck(), &exec_ctx()));
      ARROW_ASSIGN_OR_RAISE(active, to_array(active_rows));
      ARROW_ASSIGN_OR_RAISE(acc, EvalLambda(merge, rows, active, {acc, xs.make_array()}, slot));
    }
    if (done_rows.empty()) return arrow::MakeNullScalar(e.type);
    ArrayPtr all_rows = done_rows[0], all_vals = done_vals[0];
    if (done_rows.size() > 1) {
      ARROW_ASSIGN_OR_RAISE(all_rows, arrow::Concatenate(done_rows, ctx_.pool));
      ARROW_ASSIGN_OR_RAISE(all_vals, arrow::Concatenate(done_vals, ctx_.pool));
    }
    if (finish) {
      ARROW_ASSIGN_OR_RAISE(
          all_vals, EvalLambda(*finish, rows, std::static_pointer_cast<arrow::Int32Array>(all_rows),
                               {all_vals}, slot));
    }
    ARROW_ASSIGN_OR_RAISE(auto out, Scatter({{all_rows, all_vals}}, length, e.type));
    return Datum(out);
  }

  // zip_with(a, b, (x, y) -> f): the shorter array is padded with NULLs.
  Result<Datum> EvalZipWith(const Expr& e, const std::shared_ptr<arrow::Int32Array>& rows,
                            int64_t length) {
    ARROW_ASSIGN_OR_RAISE(auto a_arr, InputArray(*e.args[0], rows, length));
    ARROW_ASSIGN_OR_RAISE(auto b_arr, InputArray(*e.args[1], rows, length));
    const auto& a = static_cast<const arrow::ListArray&>(*a_arr);
    const auto& b = static_cast<const arrow::ListArray&>(*b_arr);
    std::vector<int32_t> counts(length, 0);
    arrow::Int32Builder parent(ctx_.pool), ai(ctx_.pool), bi(ctx_.pool);
    arrow::BooleanBuilder valid(ctx_.pool);
    for (int64_t i = 0; i < length; ++i) {
      bool ok = a.IsValid(i) && b.IsValid(i);
      ARROW_RETURN_NOT_OK(valid.Append(ok));
      if (!ok) continue;
      int32_t la = a.value_length(i), lb = b.value_length(i), n = std::max(la, lb);
      counts[i] = n;
      for (int32_t j = 0; j < n; ++j) {
        ARROW_RETURN_NOT_OK(parent.Append(static_cast<int32_t>(i)));
        ARROW_RETURN_NOT_OK(j < la ? ai.Append(a.value_offset(i) + j) : ai.AppendNull());
        ARROW_RETURN_NOT_OK(j < lb ? bi.Append(b.value_offset(i) + j) : bi.AppendNull());
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto p, parent.Finish());
    ARROW_ASSIGN_OR_RAISE(auto ia, ai.Finish());
    ARROW_ASSIGN_OR_RAISE(auto ib, bi.Finish());
    ARROW_ASSIGN_OR_RAISE(auto xs,
                          cp::Take(a.values(), ia, cp::TakeOptions::NoBoundsCheck(), &exec_ctx()));
    ARROW_ASSIGN_OR_RAISE(auto ys,
                          cp::Take(b.values(), ib, cp::TakeOptions::NoBoundsCheck(), &exec_ctx()));
    ARROW_ASSIGN_OR_RAISE(
        auto out, EvalLambda(*e.args[2], rows, std::static_pointer_cast<arrow::Int32Array>(p),
                             {xs.make_array(), ys.make_array()}, e.lambda_slot));
    ARROW_ASSIGN_OR_RAISE(auto valid_arr, valid.Finish());
    std::shared_ptr<arrow::Buffer> bitmap;
    int64_t nulls = 0;
    const auto& vb = static_cast<const arrow::BooleanArray&>(*valid_arr);
    for (int64_t i = 0; i < length; ++i) nulls += vb.Value(i) ? 0 : 1;
    if (nulls > 0) {
      ARROW_ASSIGN_OR_RAISE(auto bm, arrow::AllocateEmptyBitmap(length, ctx_.pool));
      for (int64_t i = 0; i < length; ++i) {
        if (vb.Value(i)) arrow::bit_util::SetBit(bm->mutable_data(), i);
      }
      bitmap = std::move(bm);
    }
    ARROW_ASSIGN_OR_RAISE(auto offsets, OffsetsOf(counts));
    return Datum(std::make_shared<arrow::ListArray>(e.type, length, offsets, out, bitmap, nulls));
  }

  const arrow::RecordBatch& batch_;
  bool has_dictionary_ = false;  // any column dictionary-encoded
  const EvalContext& ctx_;
  // Values of the lambda parameters in scope, by slot, one per batch row.
  std::vector<ArrayPtr> vars_;
  std::unique_ptr<cp::ExecContext> exec_ctx_;
  std::unordered_map<int, ArrayPtr> decoded_;  // dictionary columns, dense
};

}  // namespace

Result<Datum> Evaluate(const Expr& expr, const arrow::RecordBatch& batch, const EvalContext& ctx) {
  Evaluator ev(batch, ctx);
  return ev.Eval(expr, nullptr);
}

Result<std::shared_ptr<arrow::Array>> EvaluateToArray(const Expr& expr,
                                                      const arrow::RecordBatch& batch,
                                                      const EvalContext& ctx) {
  ARROW_ASSIGN_OR_RAISE(auto d, Evaluate(expr, batch, ctx));
  ARROW_ASSIGN_OR_RAISE(auto arr, ToArray(d, batch.num_rows(), ctx.pool));
  if (arr->length() != batch.num_rows()) {
    return InternalError("expression {} produced {} rows for a batch of {}", expr.ToString(),
                         arr->length(), batch.num_rows());
  }
  return arr;
}

Result<std::shared_ptr<arrow::RecordBatch>> FilterBatch(
    const Expr& predicate, const std::shared_ptr<arrow::RecordBatch>& batch,
    const EvalContext& ctx) {
  ARROW_ASSIGN_OR_RAISE(auto d, Evaluate(predicate, *batch, ctx));
  if (d.is_scalar()) {
    const auto& s = d.scalar_as<arrow::BooleanScalar>();
    if (s.is_valid && s.value) return batch;
    return batch->Slice(0, 0);
  }
  // Where every row passes (a scan pruned to matching row groups often
  // does), the batch goes on as it is rather than copied column by column.
  if (d.is_array() && d.type()->id() == arrow::Type::BOOL && d.array()->buffers[1] &&
      d.array()->GetNullCount() == 0 &&
      arrow::internal::CountSetBits(d.array()->buffers[1]->data(), d.array()->offset,
                                    d.array()->length) == d.array()->length) {
    return batch;
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
  std::shared_ptr<arrow::Scalar> out;
  if (d.is_scalar()) {
    out = d.scalar();
  } else {
    ARROW_ASSIGN_OR_RAISE(auto arr, ToArray(d, 1, ctx.pool));
    ARROW_ASSIGN_OR_RAISE(out, arr->GetScalar(0));
  }
  // Kernels return plain utf8; a folded constant keeps its bound collation.
  if (out->type->id() == arrow::Type::STRING && expr.type->id() == arrow::Type::STRING &&
      out->type != expr.type) {
    const auto& s = static_cast<const arrow::StringScalar&>(*out);
    if (!s.is_valid) return arrow::MakeNullScalar(expr.type);
    return std::make_shared<arrow::StringScalar>(s.value, expr.type);
  }
  return out;
}

}  // namespace lakestream::expr
