// Builds the pipeline-breaking exec nodes from logical nodes.
#include "exec/hash_aggregate.h"
#include "plan/breakers_internal.h"

namespace lakestream::plan {

Result<exec::PhysicalNodePtr> MakeAggregateNode(exec::PhysicalNodePtr child, const LogicalNode& n,
                                                const SessionConfig& config) {
  exec::HashAggregateOptions o;
  o.keys = n.exprs;
  size_t nkeys = n.exprs.size();
  for (size_t i = 0; i < nkeys; ++i) o.key_names.push_back(n.schema->field(static_cast<int>(i))->name());
  for (size_t i = 0; i < n.aggregates.size(); ++i) {
    const auto& a = n.aggregates[i];
    exec::AggregateCall c;
    c.name = n.schema->field(static_cast<int>(nkeys + i))->name();
    c.aggregate = a.resolved;
    c.args = a.args;
    c.filter = a.filter;
    c.text = c.name;
    o.aggregates.push_back(std::move(c));
  }
  o.grouping_sets = n.grouping_sets;
  ARROW_ASSIGN_OR_RAISE(auto node, exec::HashAggregateNode::Make(std::move(child), std::move(o)));
  if (n.grouping_sets.empty()) return node;
  // Drop spark_grouping_id (after the keys): the logical schema is keys then aggregates.
  std::vector<expr::ExprPtr> exprs;
  std::vector<std::string> names;
  const auto& s = *node->schema();
  for (int i = 0; i < s.num_fields(); ++i) {
    if (i == static_cast<int>(nkeys)) continue;
    exprs.push_back(expr::MakeColumn(i, s.field(i)->name(), s.field(i)->type(), s.field(i)->nullable()));
    names.push_back(s.field(i)->name());
  }
  return std::make_shared<exec::ProjectNode>(node, exprs, names);
}

// Until the join, sort and window nodes land they are missing at run time.
__attribute__((weak)) Result<exec::PhysicalNodePtr> MakeJoinNode(exec::PhysicalNodePtr, exec::PhysicalNodePtr,
                                                                 const LogicalNode&, const JoinKeys&, expr::ExprPtr,
                                                                 const SessionConfig&) {
  return Unsupported("joins are not available yet");
}
__attribute__((weak)) Result<exec::PhysicalNodePtr> MakeSortNode(exec::PhysicalNodePtr, const std::vector<SortKey>&,
                                                                 int64_t, const SessionConfig&) {
  return Unsupported("ORDER BY is not available yet");
}
__attribute__((weak)) Result<exec::PhysicalNodePtr> MakeWindowNode(exec::PhysicalNodePtr, const LogicalNode&,
                                                                   const SessionConfig&) {
  return Unsupported("window functions are not available yet");
}

}  // namespace lakestream::plan
