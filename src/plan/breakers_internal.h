// Construction of the pipeline-breaking exec nodes (aggregate, join, sort,
// window) from logical nodes.
#pragma once

#include "exec/operator.h"
#include "plan/logical_plan.h"

namespace lakestream::plan {

struct JoinKeys {
  std::vector<expr::ExprPtr> left;   // over the left input
  std::vector<expr::ExprPtr> right;  // over the right input
  std::vector<bool> null_safe;       // <=> keys match NULL to NULL
};

Result<exec::PhysicalNodePtr> MakeAggregateNode(exec::PhysicalNodePtr child, const LogicalNode& n,
                                                const SessionConfig& config);
Result<exec::PhysicalNodePtr> MakeJoinNode(exec::PhysicalNodePtr left, exec::PhysicalNodePtr right,
                                           const LogicalNode& n, const JoinKeys& keys, expr::ExprPtr residual,
                                           const SessionConfig& config);
Result<exec::PhysicalNodePtr> MakeSortNode(exec::PhysicalNodePtr child, const std::vector<SortKey>& keys,
                                           int64_t limit, const SessionConfig& config);
Result<exec::PhysicalNodePtr> MakeWindowNode(exec::PhysicalNodePtr child, const LogicalNode& n,
                                             const SessionConfig& config);

}  // namespace lakestream::plan
