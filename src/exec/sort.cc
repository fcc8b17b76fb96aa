// See sort.h.
#include "exec/sort.h"

#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/compute/api_vector.h>
#include <arrow/compute/exec.h>
#include <fmt/format.h>

#include <cmath>

#include "exec/batch_internal.h"

namespace lakestream::exec {

namespace cp = arrow::compute;
using internal::ArrayPtr;

namespace {

// An "is NaN" column for a float key: NULL where the key is NULL.
template <typename T>
Result<ArrayPtr> IsNanColumn(const arrow::Array& a, arrow::MemoryPool* pool, bool* any) {
  const T* v = a.data()->GetValues<T>(1);
  arrow::BooleanBuilder b(pool);
  ARROW_RETURN_NOT_OK(b.Reserve(a.length()));
  *any = false;
  for (int64_t i = 0; i < a.length(); ++i) {
    if (a.IsNull(i)) {
      b.UnsafeAppendNull();
    } else {
      const bool nan = std::isnan(v[i]);
      *any |= nan;
      b.UnsafeAppend(nan);
    }
  }
  return b.Finish();
}

}  // namespace

Result<std::shared_ptr<arrow::Array>> SortIndicesFor(const std::vector<ArrayPtr>& keys,
                                                     const std::vector<SortKey>& order,
                                                     arrow::MemoryPool* pool) {
  std::vector<ArrayPtr> cols;
  std::vector<cp::SortKey> sort_keys;
  std::vector<std::shared_ptr<arrow::Field>> fields;
  const int64_t n = keys.empty() ? 0 : keys[0]->length();
  if (keys.empty()) {
    arrow::UInt64Builder b(pool);
    return b.Finish();
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto& k = keys[i];
    const auto sort_order =
        order[i].ascending ? cp::SortOrder::Ascending : cp::SortOrder::Descending;
    const auto nulls = order[i].nulls_first ? cp::NullPlacement::AtStart : cp::NullPlacement::AtEnd;
    if (k->type_id() == arrow::Type::FLOAT || k->type_id() == arrow::Type::DOUBLE) {
      bool any = false;
      ArrayPtr is_nan;
      if (k->type_id() == arrow::Type::FLOAT) {
        ARROW_ASSIGN_OR_RAISE(is_nan, IsNanColumn<float>(*k, pool, &any));
      } else {
        ARROW_ASSIGN_OR_RAISE(is_nan, IsNanColumn<double>(*k, pool, &any));
      }
      if (any) {
        sort_keys.emplace_back(arrow::FieldRef(static_cast<int>(cols.size())), sort_order, nulls);
        fields.push_back(arrow::field(fmt::format("n{}", i), arrow::boolean()));
        cols.push_back(std::move(is_nan));
      }
    }
    sort_keys.emplace_back(arrow::FieldRef(static_cast<int>(cols.size())), sort_order, nulls);
    fields.push_back(arrow::field(fmt::format("k{}", i), k->type()));
    cols.push_back(k);
  }
  auto batch = arrow::RecordBatch::Make(arrow::schema(fields), n, cols);
  cp::ExecContext ectx(pool);
  return cp::SortIndices(arrow::Datum(batch), cp::SortOptions(sort_keys), &ectx);
}

SortNode::SortNode(PhysicalNodePtr child, std::vector<SortKey> keys, int64_t limit, int64_t offset)
    : keys_(std::move(keys)), limit_(limit), offset_(offset) {
  schema_ = child->schema();
  children_ = {std::move(child)};
}

std::string SortNode::ToString() const {
  std::string keys;
  for (size_t i = 0; i < keys_.size(); ++i) {
    keys +=
        fmt::format("{}{} {} NULLS {}", i ? ", " : "", keys_[i].expr->ToString(),
                    keys_[i].ascending ? "ASC" : "DESC", keys_[i].nulls_first ? "FIRST" : "LAST");
  }
  std::string out = "Sort([" + keys + "]";
  if (limit_ >= 0) out += fmt::format(", limit={}", limit_);
  if (offset_ > 0) out += fmt::format(", offset={}", offset_);
  return out + ")";
}

Status SortNode::Prepare(ExecContext* ctx) {
  ctx_ = ctx;
  buffers_.assign(std::max(1, ctx->threads), {});
  buffered_bytes_ = 0;
  output_.clear();
  next_output_ = 0;
  return Status::OK();
}

Result<std::vector<ArrayPtr>> SortNode::SortRows(const std::vector<BatchPtr>& batches,
                                                 int64_t* num_rows, int64_t count) {
  ARROW_ASSIGN_OR_RAISE(auto cols, internal::ConcatenateColumns(schema_, batches, ctx_->pool));
  int64_t n = 0;
  for (const auto& b : batches) n += b->num_rows();
  auto all = arrow::RecordBatch::Make(schema_, n, cols);
  std::vector<expr::ExprPtr> exprs;
  for (const auto& k : keys_) exprs.push_back(k.expr);
  ARROW_ASSIGN_OR_RAISE(auto keys, internal::EvaluateOrderKeys(exprs, *all, *ctx_));
  ARROW_ASSIGN_OR_RAISE(auto indices, SortIndicesFor(keys, keys_, ctx_->pool));
  if (count >= 0 && count < indices->length()) indices = indices->Slice(0, count);
  std::vector<ArrayPtr> out;
  for (const auto& c : cols) {
    ARROW_ASSIGN_OR_RAISE(auto taken, cp::Take(*c, *indices));
    out.push_back(std::move(taken));
  }
  *num_rows = indices->length();
  return out;
}

Result<BatchPtr> SortNode::DropBeyondThreshold(const BatchPtr& batch,
                                               const arrow::Scalar& threshold) {
  const auto& key = keys_[0];
  ARROW_ASSIGN_OR_RAISE(auto values, internal::EvaluateOrderKeys({key.expr}, *batch, *ctx_));
  const ArrayPtr& k = values[0];
  if (!k->type()->Equals(*threshold.type)) return batch;
  cp::ExecContext ectx(ctx_->pool);
  // Ties are kept (later keys decide them), and so are NULLs and NaNs, whose
  // place Spark's order fixes but Arrow's comparisons do not see: keeping a
  // row too many only costs the final sort a row.
  auto cmp = cp::CallFunction(key.ascending ? "less_equal" : "greater_equal",
                              {arrow::Datum(k), arrow::Datum(threshold.GetSharedPtr())}, &ectx);
  if (!cmp.ok()) return batch;  // a type Arrow cannot compare: no shortcut
  arrow::Datum keep = *cmp;
  if (k->null_count() > 0) {
    ARROW_ASSIGN_OR_RAISE(auto nulls, cp::CallFunction("is_null", {arrow::Datum(k)}, &ectx));
    ARROW_ASSIGN_OR_RAISE(keep, cp::CallFunction("or_kleene", {keep, nulls}, &ectx));
  }
  if (k->type_id() == arrow::Type::FLOAT || k->type_id() == arrow::Type::DOUBLE) {
    ARROW_ASSIGN_OR_RAISE(auto nan, cp::CallFunction("is_nan", {arrow::Datum(k)}, &ectx));
    ARROW_ASSIGN_OR_RAISE(keep, cp::CallFunction("or_kleene", {keep, nan}, &ectx));
  }
  ARROW_ASSIGN_OR_RAISE(
      auto filtered, cp::Filter(arrow::Datum(batch), keep, cp::FilterOptions::Defaults(), &ectx));
  return filtered.record_batch();
}

Status SortNode::Consume(int child, int thread, BatchPtr batch) {
  if (batch->num_rows() == 0) return Status::OK();
  auto& buf = buffers_[thread];
  if (limit_ >= 0 && buf.threshold) {
    ARROW_ASSIGN_OR_RAISE(batch, DropBeyondThreshold(batch, *buf.threshold));
    if (batch->num_rows() == 0) return Status::OK();
  }
  int64_t bytes = 0;
  for (const auto& c : batch->columns()) {
    for (const auto& b : c->data()->buffers) bytes += b ? b->size() : 0;
  }
  buf.rows += batch->num_rows();
  buf.batches.push_back(std::move(batch));
  // Top-N: keep only this worker's best limit+offset rows once it holds twice that.
  if (limit_ >= 0) {
    const int64_t keep = limit_ + offset_;
    if (buf.rows > std::max<int64_t>(2 * keep, 4096)) {
      int64_t rows = 0;
      ARROW_ASSIGN_OR_RAISE(auto cols, SortRows(buf.batches, &rows, keep));
      buf.batches = {arrow::RecordBatch::Make(schema_, rows, cols)};
      buf.rows = rows;
      if (rows == keep && keep > 0) {
        auto last = buf.batches[0]->Slice(rows - 1, 1);
        ARROW_ASSIGN_OR_RAISE(auto key, internal::EvaluateOrderKeys({keys_[0].expr}, *last, *ctx_));
        ARROW_ASSIGN_OR_RAISE(auto scalar, key[0]->GetScalar(0));
        // A NULL or NaN bound rules nothing out (see DropBeyondThreshold).
        bool usable = scalar->is_valid;
        if (usable && scalar->type->id() == arrow::Type::DOUBLE)
          usable = !std::isnan(static_cast<const arrow::DoubleScalar&>(*scalar).value);
        if (usable && scalar->type->id() == arrow::Type::FLOAT)
          usable = !std::isnan(static_cast<const arrow::FloatScalar&>(*scalar).value);
        buf.threshold = usable ? scalar : nullptr;
      }
    }
    return Status::OK();
  }
  const int64_t total = buffered_bytes_.fetch_add(bytes) + bytes;
  if (total > ctx_->memory_limit)
    return internal::MemoryLimitError("sort", total, ctx_->memory_limit);
  return Status::OK();
}

Status SortNode::FinishSink(int child) {
  std::vector<BatchPtr> all;
  for (auto& b : buffers_) {
    for (auto& x : b.batches) all.push_back(std::move(x));
  }
  buffers_.clear();
  const int64_t count = limit_ >= 0 ? limit_ + offset_ : -1;
  int64_t rows = 0;
  ARROW_ASSIGN_OR_RAISE(auto cols, SortRows(all, &rows, count));
  all.clear();
  const int64_t start = std::min(offset_, rows);
  for (auto& c : cols) c = c->Slice(start, rows - start);
  output_ = internal::ToBatches(schema_, cols, rows - start, ctx_->batch_size);
  return Status::OK();
}

Result<BatchPtr> SortNode::Next(int thread) {
  size_t i = next_output_.fetch_add(1);
  if (i >= output_.size()) return nullptr;
  return std::move(output_[i]);
}

}  // namespace lakestream::exec
