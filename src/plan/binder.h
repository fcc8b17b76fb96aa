// The binder: resolves names and types of an AST query against the session's
// views and sources, applies Spark's type coercion through the function
// registry, and produces a logical plan.
#pragma once

#include "plan/logical_plan.h"
#include "plan/session.h"

namespace lakestream::plan {

Result<LogicalPtr> BindQuery(Session* session, const sql::Query& query);

/// Table functions (read_files, range) and named sources (delta.`path`) the
/// binder resolves FROM items with. Each returns a scan source.
Result<std::shared_ptr<ScanSource>> MakeTableFunctionSource(Session* session, const std::string& name,
                                                            const std::vector<std::shared_ptr<arrow::Scalar>>& positional,
                                                            const std::map<std::string, std::shared_ptr<arrow::Scalar>>& named,
                                                            const sql::Location& loc);

/// A named source (e.g. "delta" for delta.`path`), registered by its layer.
using TableSourceFactory = std::function<Result<std::shared_ptr<ScanSource>>(
    Session*, const std::vector<std::shared_ptr<arrow::Scalar>>&,
    const std::map<std::string, std::shared_ptr<arrow::Scalar>>&)>;
std::map<std::string, TableSourceFactory>& TableSourceRegistry();

}  // namespace lakestream::plan
