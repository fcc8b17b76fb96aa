// Small pieces the pipeline breakers (hash aggregate, hash join, sort, window)
// share: evaluating a list of bound expressions over a batch, Spark's
// normalization of floating point keys, and cutting a result into batches.
#pragma once

#include <arrow/array.h>
#include <arrow/record_batch.h>

#include <vector>

#include "exec/operator.h"
#include "expr/expr.h"

namespace lakestream::exec::internal {

using ArrayPtr = std::shared_ptr<arrow::Array>;

/// Evaluates every expression over `batch` into an array of batch.num_rows() rows.
Result<std::vector<ArrayPtr>> EvaluateAll(const std::vector<expr::ExprPtr>& exprs,
                                          const arrow::RecordBatch& batch, const ExecContext& ctx);

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

/// Error for a hash table or buffer past ExecContext::memory_limit.
Status MemoryLimitError(const char* op, int64_t used, int64_t limit);

}  // namespace lakestream::exec::internal
