// Collection helpers the planner needs beyond the scalar functions registered
// by RegisterCollectionFunctions (function.h): explode / posexplode of an
// ARRAY or MAP column, as Spark's Generate does it, vectorized with Take.
#pragma once

#include <arrow/record_batch.h>

#include <memory>

#include "common/status.h"

namespace lakestream::expr {

/// Spark's explode / posexplode (and *_outer) over column `list_column_index`
/// of `batch`, which must be a list or map column. Every other column is
/// repeated once per element; the output columns are the other columns in
/// order, then `pos` (INT, only when with_position), then `col` for an array,
/// or `key`, `value` for a map. Rows whose array/map is NULL or empty produce
/// nothing, or (outer) one row with NULL pos/col/key/value.
Result<std::shared_ptr<arrow::RecordBatch>> ExplodeBatch(
    const std::shared_ptr<arrow::RecordBatch>& batch, int list_column_index, bool outer,
    bool with_position);

}  // namespace lakestream::expr
