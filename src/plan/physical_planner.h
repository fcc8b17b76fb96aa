// Logical plan -> physical plan (exec nodes), and the optimizer rules that run
// before: filter pushdown into scans and through projections and joins,
// column pruning of scans.
#pragma once

#include "exec/operator.h"
#include "plan/logical_plan.h"

namespace lakestream::plan {

/// Rewrites the plan with the optimizer rules; returns a new tree.
Result<LogicalPtr> Optimize(const LogicalPtr& plan);
/// Optimize for a query run once (not incrementally): also leaves out
/// filters that the scanned files' statistics prove (the sources then stay
/// on the table versions they proved them on).
Result<LogicalPtr> OptimizeBatch(const LogicalPtr& plan);

/// Maps an optimized logical plan onto physical nodes.
Result<exec::PhysicalNodePtr> PlanPhysical(const LogicalPtr& plan, const SessionConfig& config);

}  // namespace lakestream::plan
