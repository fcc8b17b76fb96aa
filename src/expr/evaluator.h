// Vectorized evaluation of bound expressions over a RecordBatch.
#pragma once

#include <arrow/datum.h>
#include <arrow/record_batch.h>

#include "expr/expr.h"

namespace lakestream::expr {

/// Evaluates `expr` over every row of `batch`. Returns an array of
/// batch.num_rows() rows, or a scalar when the expression is constant.
Result<arrow::Datum> Evaluate(const Expr& expr, const arrow::RecordBatch& batch,
                              const EvalContext& ctx);

/// Evaluates and always returns an array of batch.num_rows() rows.
Result<std::shared_ptr<arrow::Array>> EvaluateToArray(const Expr& expr,
                                                      const arrow::RecordBatch& batch,
                                                      const EvalContext& ctx);

/// Evaluates a predicate to a selection: TRUE rows kept, FALSE and NULL dropped.
Result<std::shared_ptr<arrow::RecordBatch>> FilterBatch(const Expr& predicate,
                                                        const std::shared_ptr<arrow::RecordBatch>& batch,
                                                        const EvalContext& ctx);

/// Evaluates a constant expression (no columns) to a scalar.
Result<std::shared_ptr<arrow::Scalar>> EvaluateConstant(const Expr& expr, const EvalContext& ctx);

}  // namespace lakestream::expr
