// Builds the pipeline-breaking exec nodes from logical nodes.
#include <algorithm>
#include <array>
#include <string_view>

#include "exec/basic_operators.h"
#include "exec/hash_aggregate.h"
#include "exec/hash_join.h"
#include "exec/sort.h"
#include "exec/window.h"
#include "plan/breakers_internal.h"
#include "types/types.h"

namespace lakestream::plan {

namespace {

// Aggregates whose result does not depend on the order rows arrive in (up to
// floating-point rounding, which already varies with the split of files over
// workers).
bool OrderInsensitive(const std::string& name) {
  static constexpr std::array<std::string_view, 7> kNames = {
      "count", "sum", "avg", "min", "max", "count_if", "approx_count_distinct"};
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

// A batch aggregate of order-insensitive functions over filters and
// projections of a scan lets idle workers share the scan's last tasks
// (exec::ScanNode::set_share_tasks): a scan of one big file then still uses
// every worker.
void ShareScanTasks(const exec::PhysicalNodePtr& child, const LogicalNode& n) {
  if (n.emit_state) return;
  for (const auto& a : n.aggregates) {
    if (!OrderInsensitive(a.name)) return;
  }
  exec::PhysicalNode* node = child.get();
  while (dynamic_cast<exec::FilterNode*>(node) || dynamic_cast<exec::ProjectNode*>(node)) {
    node = node->children()[0].get();
  }
  if (auto* scan = dynamic_cast<exec::ScanNode*>(node)) scan->set_share_tasks(true);
}

}  // namespace

Result<exec::PhysicalNodePtr> MakeAggregateNode(exec::PhysicalNodePtr child, const LogicalNode& n,
                                                const SessionConfig& config) {
  if (!n.emit_state) {
    for (const auto& k : n.exprs) {
      if (k->kind == expr::ExprKind::kCall && k->name == "session_window") {
        // Sessions of a key merge across rows; only the streaming
        // aggregation (StreamingAggregate) does that merge today.
        return Unsupported(
            "GROUP BY session_window(...) is supported in streaming queries only (FROM STREAM "
            "...); a batch query cannot group by it yet");
      }
    }
  }
  exec::HashAggregateOptions o;
  o.keys = n.exprs;
  size_t nkeys = n.exprs.size();
  for (size_t i = 0; i < nkeys; ++i)
    o.key_names.push_back(n.schema->field(static_cast<int>(i))->name());
  size_t first_agg = nkeys + (n.grouping_sets.empty() ? 0 : 1);
  for (size_t i = 0; i < n.aggregates.size(); ++i) {
    const auto& a = n.aggregates[i];
    exec::AggregateCall c;
    c.name = n.schema->field(static_cast<int>(first_agg + i))->name();
    c.aggregate = a.resolved;
    c.args = a.args;
    c.filter = a.filter;
    c.text = c.name;
    o.aggregates.push_back(std::move(c));
  }
  o.grouping_sets = n.grouping_sets;
  o.emit_state = n.emit_state;
  // With grouping sets the node's spark_grouping_id column (after the keys) is
  // part of the logical schema too: grouping() and grouping_id() read it.
  ShareScanTasks(child, n);
  ARROW_ASSIGN_OR_RAISE(auto node, exec::HashAggregateNode::Make(std::move(child), std::move(o)));
  return node;
}

namespace {
std::vector<exec::SortKey> ToExecKeys(const std::vector<SortKey>& keys) {
  std::vector<exec::SortKey> out;
  for (const auto& k : keys) out.push_back({k.expr, k.ascending, k.nulls_first});
  return out;
}
}  // namespace

Result<exec::PhysicalNodePtr> MakeJoinNode(exec::PhysicalNodePtr left, exec::PhysicalNodePtr right,
                                           const LogicalNode& n, const JoinKeys& keys,
                                           expr::ExprPtr residual, const SessionConfig& config) {
  exec::HashJoinOptions o;
  switch (n.join_type) {
    case sql::JoinType::kInner:
      o.type = exec::JoinType::kInner;
      break;
    case sql::JoinType::kLeft:
      o.type = exec::JoinType::kLeftOuter;
      break;
    case sql::JoinType::kRight:
      o.type = exec::JoinType::kRightOuter;
      break;
    case sql::JoinType::kFull:
      o.type = exec::JoinType::kFullOuter;
      break;
    case sql::JoinType::kCross:
      o.type = exec::JoinType::kCross;
      break;
    case sql::JoinType::kLeftSemi:
      o.type = exec::JoinType::kLeftSemi;
      break;
    case sql::JoinType::kLeftAnti:
      o.type = exec::JoinType::kLeftAnti;
      break;
  }
  if (o.type == exec::JoinType::kCross && residual) o.type = exec::JoinType::kInner;
  o.left_keys = keys.left;
  o.right_keys = keys.right;
  o.null_safe = keys.null_safe;
  o.residual = std::move(residual);
  ARROW_ASSIGN_OR_RAISE(auto node,
                        exec::HashJoinNode::Make(std::move(left), std::move(right), std::move(o)));
  return node;
}

Result<exec::PhysicalNodePtr> MakeSortNode(exec::PhysicalNodePtr child,
                                           const std::vector<SortKey>& keys, int64_t limit,
                                           const SessionConfig& config) {
  return std::make_shared<exec::SortNode>(std::move(child), ToExecKeys(keys), limit, 0);
}

Result<exec::PhysicalNodePtr> MakeWindowNode(exec::PhysicalNodePtr child, const LogicalNode& n,
                                             const SessionConfig& config) {
  exec::WindowOptions o;
  o.partition_by = n.exprs;
  o.order_by = ToExecKeys(n.sort_keys);
  int out_index = n.schema->num_fields() - static_cast<int>(n.windows.size());
  for (const auto& w : n.windows) {
    exec::WindowFunction f;
    f.name = n.schema->field(out_index++)->name();
    f.text = w.name;
    f.ignore_nulls = w.ignore_nulls;
    auto literal_int = [&](size_t i, int64_t def) -> Result<int64_t> {
      if (w.args.size() <= i) return def;
      const auto& a = w.args[i];
      if (a->kind != expr::ExprKind::kLiteral || !a->value->is_valid ||
          !types::IsIntegral(*a->type)) {
        return UserError("{}: argument {} must be an integer literal", w.name, i + 1);
      }
      ARROW_ASSIGN_OR_RAISE(auto v, a->value->CastTo(arrow::int64()));
      return static_cast<const arrow::Int64Scalar&>(*v).value;
    };
    static const std::map<std::string, exec::WindowFunctionKind> kinds = {
        {"row_number", exec::WindowFunctionKind::kRowNumber},
        {"rank", exec::WindowFunctionKind::kRank},
        {"dense_rank", exec::WindowFunctionKind::kDenseRank},
        {"percent_rank", exec::WindowFunctionKind::kPercentRank},
        {"cume_dist", exec::WindowFunctionKind::kCumeDist},
        {"ntile", exec::WindowFunctionKind::kNtile},
        {"lag", exec::WindowFunctionKind::kLag},
        {"lead", exec::WindowFunctionKind::kLead},
        {"first_value", exec::WindowFunctionKind::kFirstValue},
        {"last_value", exec::WindowFunctionKind::kLastValue},
        {"nth_value", exec::WindowFunctionKind::kNthValue}};
    if (w.aggregate) {
      f.kind = exec::WindowFunctionKind::kAggregate;
      f.aggregate = *w.aggregate;
      f.args = w.args;
    } else {
      auto k = kinds.find(w.name);
      if (k == kinds.end()) return UserError("{} is not a window function", w.name);
      f.kind = k->second;
      switch (f.kind) {
        case exec::WindowFunctionKind::kNtile: {
          ARROW_ASSIGN_OR_RAISE(f.offset, literal_int(0, 1));
          break;
        }
        case exec::WindowFunctionKind::kLag:
        case exec::WindowFunctionKind::kLead: {
          f.args = {w.args[0]};
          ARROW_ASSIGN_OR_RAISE(f.offset, literal_int(1, 1));
          if (w.args.size() >= 3) {
            if (w.args[2]->kind != expr::ExprKind::kLiteral)
              return Unsupported("{}: the default must be a literal", w.name);
            f.default_value = w.args[2]->value;
          }
          break;
        }
        case exec::WindowFunctionKind::kNthValue: {
          f.args = {w.args[0]};
          ARROW_ASSIGN_OR_RAISE(f.offset, literal_int(1, 1));
          break;
        }
        case exec::WindowFunctionKind::kFirstValue:
        case exec::WindowFunctionKind::kLastValue: {
          f.args = {w.args[0]};
          if (w.args.size() >= 2 && w.args[1]->kind == expr::ExprKind::kLiteral &&
              w.args[1]->value->is_valid && w.args[1]->type->id() == arrow::Type::BOOL) {
            f.ignore_nulls =
                f.ignore_nulls || static_cast<const arrow::BooleanScalar&>(*w.args[1]->value).value;
          }
          break;
        }
        default:
          break;
      }
    }
    auto frame = std::make_shared<exec::WindowFrame>();
    frame->unit = w.rows_frame ? exec::WindowFrame::Unit::kRows : exec::WindowFrame::Unit::kRange;
    auto bound = [](const std::optional<int64_t>& b, bool start, exec::WindowFrame::Bound* out,
                    double* offset) {
      using B = exec::WindowFrame::Bound;
      if (!b) {
        *out = start ? B::kUnboundedPreceding : B::kUnboundedFollowing;
      } else if (*b == 0) {
        *out = B::kCurrentRow;
      } else if (*b < 0) {
        *out = B::kPreceding;
        *offset = static_cast<double>(-*b);
      } else {
        *out = B::kFollowing;
        *offset = static_cast<double>(*b);
      }
    };
    bound(w.frame_start, true, &frame->start, &frame->start_offset);
    bound(w.frame_end, false, &frame->end, &frame->end_offset);
    f.frame = frame;
    o.functions.push_back(std::move(f));
  }
  ARROW_ASSIGN_OR_RAISE(auto node, exec::WindowNode::Make(std::move(child), std::move(o)));
  return node;
}

}  // namespace lakestream::plan
