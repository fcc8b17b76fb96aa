// See batch_internal.h.
#include "exec/batch_internal.h"

#include <arrow/array/concatenate.h>
#include <arrow/util/bitmap_ops.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "expr/collation.h"
#include "expr/evaluator.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace lakestream::exec::internal {

Result<std::vector<ArrayPtr>> EvaluateAll(const std::vector<expr::ExprPtr>& exprs,
                                          const arrow::RecordBatch& batch, const ExecContext& ctx) {
  std::vector<ArrayPtr> out;
  out.reserve(exprs.size());
  for (const auto& e : exprs) {
    if (e->kind == expr::ExprKind::kColumn && e->column_index >= 0 &&
        e->column_index < batch.num_columns()) {
      out.push_back(batch.column(e->column_index));
      continue;
    }
    ARROW_ASSIGN_OR_RAISE(auto a, expr::EvaluateToArray(*e, batch, ctx.eval));
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::vector<ArrayPtr>> EvaluateOrderKeys(const std::vector<expr::ExprPtr>& exprs,
                                                const arrow::RecordBatch& batch,
                                                const ExecContext& ctx) {
  ARROW_ASSIGN_OR_RAISE(auto out, EvaluateAll(exprs, batch, ctx));
  for (size_t i = 0; i < exprs.size(); ++i) {
    const auto& t = *exprs[i]->type;
    if (t.id() != arrow::Type::STRING) continue;
    auto c = types::CollationOf(t);
    if (c == types::Collation::kUtf8Binary) continue;
    ARROW_ASSIGN_OR_RAISE(auto keys, expr::CollationKeys(arrow::Datum(out[i]), c, ctx.pool));
    out[i] = keys.make_array();
  }
  return out;
}

namespace {
template <typename T>
Result<ArrayPtr> NormalizeFloats(const ArrayPtr& a, arrow::MemoryPool* pool) {
  const T* v = a->data()->GetValues<T>(1);
  const int64_t n = a->length();
  bool needed = false;
  for (int64_t i = 0; i < n && !needed; ++i) {
    needed = std::isnan(v[i]) || (v[i] == 0 && std::signbit(v[i]));
  }
  if (!needed) return a;
  ARROW_ASSIGN_OR_RAISE(auto buf, arrow::AllocateBuffer(n * sizeof(T), pool));
  T* out = reinterpret_cast<T*>(buf->mutable_data());
  for (int64_t i = 0; i < n; ++i) {
    T x = v[i];
    if (std::isnan(x)) x = std::numeric_limits<T>::quiet_NaN();
    if (x == 0) x = 0;
    out[i] = x;
  }
  auto data = a->data()->Copy();
  data->buffers[1] = std::shared_ptr<arrow::Buffer>(std::move(buf));
  data->offset = 0;
  if (a->offset() != 0 && data->buffers[0] != nullptr) {
    ARROW_ASSIGN_OR_RAISE(data->buffers[0],
                          arrow::internal::CopyBitmap(pool, a->null_bitmap_data(), a->offset(), n));
  }
  return arrow::MakeArray(data);
}
}  // namespace

Result<ArrayPtr> NormalizeKey(const ArrayPtr& a, arrow::MemoryPool* pool) {
  switch (a->type_id()) {
    case arrow::Type::FLOAT:
      return NormalizeFloats<float>(a, pool);
    case arrow::Type::DOUBLE:
      return NormalizeFloats<double>(a, pool);
    default:
      return a;
  }
}

std::vector<BatchPtr> ToBatches(const std::shared_ptr<arrow::Schema>& schema,
                                const std::vector<ArrayPtr>& columns, int64_t num_rows,
                                int64_t batch_size) {
  std::vector<BatchPtr> out;
  if (batch_size <= 0) batch_size = num_rows;
  for (int64_t start = 0; start < num_rows; start += batch_size) {
    const int64_t len = std::min(batch_size, num_rows - start);
    std::vector<ArrayPtr> cols;
    cols.reserve(columns.size());
    for (const auto& c : columns) cols.push_back(c->Slice(start, len));
    out.push_back(arrow::RecordBatch::Make(schema, len, std::move(cols)));
  }
  return out;
}

Result<std::vector<ArrayPtr>> ConcatenateColumns(const std::shared_ptr<arrow::Schema>& schema,
                                                 const std::vector<BatchPtr>& batches,
                                                 arrow::MemoryPool* pool) {
  std::vector<ArrayPtr> out;
  for (int c = 0; c < schema->num_fields(); ++c) {
    std::vector<ArrayPtr> chunks;
    for (const auto& b : batches) {
      if (b->num_rows() > 0) chunks.push_back(b->column(c));
    }
    if (chunks.empty()) {
      ARROW_ASSIGN_OR_RAISE(auto empty, arrow::MakeEmptyArray(schema->field(c)->type(), pool));
      out.push_back(std::move(empty));
    } else if (chunks.size() == 1) {
      out.push_back(chunks[0]);
    } else {
      ARROW_ASSIGN_OR_RAISE(auto all, arrow::Concatenate(chunks, pool));
      out.push_back(std::move(all));
    }
  }
  return out;
}

namespace {
int FixedWidth(const arrow::DataType& t) {
  switch (t.id()) {
    case arrow::Type::BOOL:
      return 1;
    case arrow::Type::NA:
      return 0;
    case arrow::Type::STRING:
    case arrow::Type::BINARY:
      return -1;
    default: {
      const auto* fw = dynamic_cast<const arrow::FixedWidthType*>(&t);
      if (fw == nullptr || fw->bit_width() % 8 != 0) return -2;
      return fw->bit_width() / 8;
    }
  }
}

}  // namespace

Status EncodeKeys(const std::vector<ArrayPtr>& keys, const std::vector<bool>& null_safe, int64_t n,
                  EncodedKeys* out) {
  out->offsets.assign(n + 1, 0);
  out->matchable.assign(n, 1);
  std::vector<int64_t>& off = out->offsets;
  // Pass 1: the encoded size of each row (stored at off[i + 1]).
  for (size_t k = 0; k < keys.size(); ++k) {
    const auto& a = *keys[k];
    const int w = FixedWidth(*a.type());
    if (w == -2) {
      return Unsupported("join keys of type {}", a.type()->ToString());
    }
    const bool has_nulls = a.null_count() > 0;
    const bool safe = k < null_safe.size() && null_safe[k];
    if (w >= 0) {
      for (int64_t i = 0; i < n; ++i) {
        const bool valid = !has_nulls || a.IsValid(i);
        off[i + 1] += 1 + (valid ? w : 0);
        if (!valid && !safe) out->matchable[i] = 0;
      }
    } else {
      const auto& b = static_cast<const arrow::BinaryArray&>(a);
      for (int64_t i = 0; i < n; ++i) {
        const bool valid = !has_nulls || a.IsValid(i);
        off[i + 1] += 1 + (valid ? 4 + b.value_length(i) : 0);
        if (!valid && !safe) out->matchable[i] = 0;
      }
    }
  }
  for (int64_t i = 0; i < n; ++i) off[i + 1] += off[i];
  out->bytes.resize(off[n]);
  // Pass 2: write column by column, a cursor per row.
  std::vector<int64_t> cur(off.begin(), off.end() - 1);
  uint8_t* dst = out->bytes.data();
  for (const auto& key : keys) {
    const auto& a = *key;
    const int w = FixedWidth(*a.type());
    const bool has_nulls = a.null_count() > 0;
    if (a.type_id() == arrow::Type::BOOL) {
      const auto& b = static_cast<const arrow::BooleanArray&>(a);
      for (int64_t i = 0; i < n; ++i) {
        const bool valid = !has_nulls || a.IsValid(i);
        dst[cur[i]++] = valid;
        if (valid) dst[cur[i]++] = b.Value(i);
      }
    } else if (w >= 0) {
      const uint8_t* src = w > 0 ? a.data()->buffers[1]->data() + a.offset() * w : nullptr;
      for (int64_t i = 0; i < n; ++i) {
        const bool valid = !has_nulls || a.IsValid(i);
        dst[cur[i]++] = valid;
        if (valid && w > 0) {
          std::memcpy(dst + cur[i], src + i * w, w);
          cur[i] += w;
        }
      }
    } else {
      const auto& b = static_cast<const arrow::BinaryArray&>(a);
      for (int64_t i = 0; i < n; ++i) {
        const bool valid = !has_nulls || a.IsValid(i);
        dst[cur[i]++] = valid;
        if (!valid) continue;
        std::string_view v = b.GetView(i);
        uint32_t len = static_cast<uint32_t>(v.size());
        std::memcpy(dst + cur[i], &len, 4);
        std::memcpy(dst + cur[i] + 4, v.data(), v.size());
        cur[i] += 4 + v.size();
      }
    }
  }
  out->hashes.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    out->hashes[i] = XXH3_64bits(dst + off[i], off[i + 1] - off[i]);
  }
  return Status::OK();
}


Status MemoryLimitError(const char* op, int64_t used, int64_t limit) {
  return ExecutionError(
      "{} exceeded the memory limit of {} bytes (lakestream.memory.limit); it needed about {} "
      "bytes. Raise lakestream.memory.limit or reduce the number of distinct keys",
      op, limit, used);
}

}  // namespace lakestream::exec::internal
