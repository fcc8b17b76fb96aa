// Filter pushdown into scans, shared by read_files and delta.`path`.
#pragma once

#include <vector>

#include "expr/expr.h"
#include "formats/file_source.h"

namespace lakestream::plan {

/// The conjuncts of `filters` of the form `column <op> literal` (or a null test)
/// as predicates a scan can prune with; others are left out.
std::vector<formats::ColumnPredicate> ToColumnPredicates(const std::vector<expr::ExprPtr>& filters,
                                                         const arrow::Schema& schema);

}  // namespace lakestream::plan
