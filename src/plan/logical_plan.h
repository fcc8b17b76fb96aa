// The logical plan: Spark's logical operators over bound expressions. Every
// expression of a node refers to columns of its child's output by index
// (joins: left columns then right columns). The binder builds it from the
// AST, the optimizer rewrites it, the physical planner maps it onto exec nodes.
#pragma once

#include <arrow/record_batch.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/basic_operators.h"
#include "expr/expr.h"
#include "sql/ast.h"

namespace lakestream::plan {

enum class LogicalKind {
  kScan,       // a source: in-memory batches or a scan factory (files, Delta)
  kFilter,     // predicate
  kProject,    // exprs + names
  kAggregate,  // keys + aggregates (+ grouping sets)
  kJoin,       // join_type, condition over left ++ right
  kSort,       // sort keys
  kLimit,      // limit / offset
  kUnion,      // UNION ALL of children with identical types
  kWindow,     // window functions appended to the child's columns
  kGenerate,   // explode / posexplode
};

struct SortKey {
  expr::ExprPtr expr;
  bool ascending = true;
  bool nulls_first = true;
};

struct AggregateCall {
  std::string name;  // function name, for EXPLAIN
  expr::ResolvedAggregate resolved;
  std::vector<expr::ExprPtr> args;
  expr::ExprPtr filter;  // FILTER (WHERE ...) or null
  bool distinct = false;
};

struct WindowCall {
  std::string name;  // row_number, rank, lag, sum, ...
  std::vector<expr::ExprPtr> args;
  std::optional<expr::ResolvedAggregate> aggregate;  // set when an aggregate function is windowed
  bool ignore_nulls = false;
  types::TypePtr result_type;
  // Frame; Spark's defaults are filled in by the binder.
  bool rows_frame = false;  // ROWS (true) or RANGE (false)
  // Offsets: nullopt = UNBOUNDED; 0 = CURRENT ROW; negative = PRECEDING.
  std::optional<int64_t> frame_start;
  std::optional<int64_t> frame_end;
};

/// A scan the physical planner can push a filter and a projection into.
struct ScanSource {
  std::string description;  // "FileScan csv [/data/x.csv]"
  std::shared_ptr<arrow::Schema> schema;
  /// Batches already in memory (VALUES, range, views materialized).
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  /// Or a factory of scan tasks given the projected columns (indexes into
  /// schema; empty = all, {-1} = none, only row counts) and pushed-down
  /// conjuncts over the full schema.
  std::function<Result<std::vector<exec::ScanTask>>(const std::vector<int>& columns,
                                                    const std::vector<expr::ExprPtr>& filters,
                                                    std::string* explain)>
      make_tasks;
  /// Optional, for sources that can hand STRING columns over as the
  /// dictionary arrays their files hold (Delta): make_tasks, keeping the
  /// columns `dictionary_columns` (indexes into schema) dictionary-encoded
  /// where a file has them so. The planner asks only when every consumer
  /// takes either form.
  std::function<Result<std::vector<exec::ScanTask>>(
      const std::vector<int>& columns, const std::vector<expr::ExprPtr>& filters,
      const std::vector<int>& dictionary_columns, std::string* explain)>
      make_dictionary_tasks;
  /// Optional, for sources with exact per-file statistics (Delta), asked by
  /// batch queries only: which of `filters` (pushed conjuncts over schema)
  /// hold for every row of every file left after pruning with all of them.
  /// The source then reads the snapshot it proved them on, so the Filter
  /// above may leave those conjuncts out (and the columns only they read).
  std::function<Result<std::vector<bool>>(const std::vector<expr::ExprPtr>& filters)> prove_filters;
};

struct LogicalNode;
using LogicalPtr = std::shared_ptr<LogicalNode>;

struct LogicalNode {
  LogicalKind kind;
  std::vector<LogicalPtr> children;
  std::shared_ptr<arrow::Schema> schema;  // output

  std::shared_ptr<ScanSource> scan;         // kScan
  std::vector<int> scan_columns;            // kScan: projected columns (empty = all)
  std::vector<expr::ExprPtr> scan_filters;  // kScan: pushed conjuncts (over the full source schema)
  expr::ExprPtr predicate;                  // kFilter; kJoin condition (may be null)
  std::vector<expr::ExprPtr> exprs;         // kProject; kAggregate keys; kWindow partition keys
  std::vector<AggregateCall> aggregates;    // kAggregate
  std::vector<std::vector<int>> grouping_sets;  // kAggregate: key subsets (empty = plain)
  bool emit_state = false;  // kAggregate: output accumulators, not results (streaming)
  sql::JoinType join_type = sql::JoinType::kInner;  // kJoin
  std::vector<SortKey> sort_keys;                   // kSort; kWindow order keys
  int64_t limit = -1;                               // kLimit (-1: none); kSort top-N
  int64_t offset = 0;                               // kLimit
  std::vector<WindowCall> windows;                  // kWindow
  bool outer = false;                               // kGenerate
  bool with_position = false;                       // kGenerate
};

std::string ExplainLogical(const LogicalNode& node);

}  // namespace lakestream::plan
