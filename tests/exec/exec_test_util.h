// Helpers for operator tests: batches from JSON, plans run through
// ExecutePlan, results as sorted text rows for order-insensitive comparison.
#pragma once

#include <arrow/api.h>
#include <arrow/json/from_string.h>

#include <string>
#include <vector>

#include "exec/basic_operators.h"
#include "exec/operator.h"
#include "expr/expr.h"
#include "expr/function.h"

namespace lakestream::exec::testing {

/// A batch of `schema` whose columns are given as JSON arrays.
BatchPtr MakeBatch(const std::shared_ptr<arrow::Schema>& schema,
                   const std::vector<std::string>& columns_json);

/// A scan over in-memory batches.
PhysicalNodePtr Scan(const std::shared_ptr<arrow::Schema>& schema, std::vector<BatchPtr> batches);

/// Column reference to field `i` of `schema`.
expr::ExprPtr Col(const std::shared_ptr<arrow::Schema>& schema, int i);

/// A call of scalar function `fn` from the default registry, resolved for
/// the types of `args` (literal arguments are passed as literals).
expr::ExprPtr Call(const std::string& fn, std::vector<expr::ExprPtr> args);
/// `a AND b` with Spark's three-valued, left-to-right semantics.
expr::ExprPtr And(expr::ExprPtr a, expr::ExprPtr b);
/// INT and STRING literals.
expr::ExprPtr Int(int v);
expr::ExprPtr Str(const std::string& v);

/// A resolved aggregate from the default registry.
expr::ResolvedAggregate Agg(const std::string& name, const std::vector<types::TypePtr>& arg_types,
                            bool distinct = false,
                            std::vector<std::shared_ptr<arrow::Scalar>> literals = {});

/// Runs the plan with `threads` workers.
Result<std::vector<BatchPtr>> RunPlan(const PhysicalNodePtr& root, int threads = 1,
                                      int64_t memory_limit = int64_t{8} << 30,
                                      int64_t batch_size = 64 * 1024);

/// Each row as "v1|v2|..." (NULL for nulls), in result order.
std::vector<std::string> Rows(const std::vector<BatchPtr>& batches);
/// Rows() sorted.
std::vector<std::string> SortedRows(const std::vector<BatchPtr>& batches);
/// Total row count.
int64_t NumRows(const std::vector<BatchPtr>& batches);

}  // namespace lakestream::exec::testing
