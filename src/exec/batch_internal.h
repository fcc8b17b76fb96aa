// Small pieces the pipeline breakers (hash aggregate, hash join, sort, window)
// share: evaluating a list of bound expressions over a batch, Spark's
// normalization of floating point keys, and cutting a result into batches.
#pragma once

#include <arrow/array.h>
#include <arrow/record_batch.h>

#include <string_view>
#include <vector>

#include "exec/operator.h"
#include "expr/expr.h"

namespace lakestream::exec::internal {

using ArrayPtr = std::shared_ptr<arrow::Array>;

/// Evaluates every expression over `batch` into an array of batch.num_rows() rows.
Result<std::vector<ArrayPtr>> EvaluateAll(const std::vector<expr::ExprPtr>& exprs,
                                          const arrow::RecordBatch& batch, const ExecContext& ctx);

/// EvaluateAll for keys that order rows: a STRING key with a non-binary
/// collation (UTF8_LCASE, UNICODE, ...) becomes its collation keys, whose
/// byte order is the collation's (expr::CollationKeys).
Result<std::vector<ArrayPtr>> EvaluateOrderKeys(const std::vector<expr::ExprPtr>& exprs,
                                                const arrow::RecordBatch& batch,
                                                const ExecContext& ctx);

/// Spark's NormalizeFloatingNumbers for grouping and join keys: -0.0 becomes
/// 0.0 and every NaN the same NaN, so equal keys have equal bytes. Other
/// arrays pass through untouched.
Result<ArrayPtr> NormalizeKey(const ArrayPtr& a, arrow::MemoryPool* pool);

/// Cuts equal-length columns into record batches of at most `batch_size` rows.
std::vector<BatchPtr> ToBatches(const std::shared_ptr<arrow::Schema>& schema,
                                const std::vector<ArrayPtr>& columns, int64_t num_rows,
                                int64_t batch_size);

/// Concatenates batches of one schema into one batch's columns.
Result<std::vector<ArrayPtr>> ConcatenateColumns(const std::shared_ptr<arrow::Schema>& schema,
                                                 const std::vector<BatchPtr>& batches,
                                                 arrow::MemoryPool* pool);

/// Keys of a batch row-encoded: per key a validity byte then the value's
/// bytes (fixed width as stored, variable width as a 4-byte length and the
/// bytes), so equal keys have equal bytes (normalize floating keys first).
struct EncodedKeys {
  std::vector<uint8_t> bytes;
  std::vector<int64_t> offsets;    // n + 1
  std::vector<uint8_t> matchable;  // 0: a key that is not null-safe is NULL
  std::vector<uint64_t> hashes;

  std::string_view Key(int64_t i) const {
    return {reinterpret_cast<const char*>(bytes.data()) + offsets[i],
            static_cast<size_t>(offsets[i + 1] - offsets[i])};
  }
  int64_t MemoryUsage() const {
    return bytes.capacity() + offsets.capacity() * 8 + matchable.capacity() + hashes.capacity() * 8;
  }
};

/// Encodes `keys` (n rows each). A row whose key k is NULL is not `matchable`
/// unless null_safe[k]. Fails for nested key types.
Status EncodeKeys(const std::vector<ArrayPtr>& keys, const std::vector<bool>& null_safe, int64_t n,
                  EncodedKeys* out);

/// Error for a hash table or buffer past ExecContext::memory_limit.
Status MemoryLimitError(const char* op, int64_t used, int64_t limit);

}  // namespace lakestream::exec::internal
