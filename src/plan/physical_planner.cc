#include "plan/physical_planner.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>

#include "expr/collation.h"
#include "plan/breakers_internal.h"

namespace lakestream::plan {

using expr::ExprKind;
using expr::ExprPtr;

namespace {

void SplitConjuncts(const ExprPtr& e, std::vector<ExprPtr>* out) {
  if (e->kind == ExprKind::kAnd) {
    SplitConjuncts(e->args[0], out);
    SplitConjuncts(e->args[1], out);
  } else {
    out->push_back(e);
  }
}

ExprPtr AndAll(const std::vector<ExprPtr>& es) {
  ExprPtr acc;
  for (const auto& e : es)
    acc = acc ? expr::MakeSpecial(ExprKind::kAnd, arrow::boolean(), {acc, e}) : e;
  return acc;
}

bool Deterministic(const expr::Expr& e) {
  if (e.kind == ExprKind::kCall && !e.call->deterministic) return false;
  for (const auto& a : e.args) {
    if (!Deterministic(*a)) return false;
  }
  return true;
}

std::vector<int> Columns(const ExprPtr& e) {
  std::vector<int> c;
  expr::CollectColumns(*e, &c);
  return c;
}

// Substitutes column references by the project's expressions.
ExprPtr Inline(const ExprPtr& e, const std::vector<ExprPtr>& exprs) {
  if (e->kind == ExprKind::kColumn) return exprs[e->column_index];
  if (e->args.empty()) return e;
  auto copy = std::make_shared<expr::Expr>(*e);
  for (auto& a : copy->args) a = Inline(a, exprs);
  return copy;
}

LogicalPtr Clone(const LogicalPtr& n) { return std::make_shared<LogicalNode>(*n); }

LogicalPtr WithFilter(LogicalPtr child, const std::vector<ExprPtr>& preds) {
  if (preds.empty()) return child;
  auto f = std::make_shared<LogicalNode>();
  f->kind = LogicalKind::kFilter;
  f->schema = child->schema;
  f->children = {std::move(child)};
  f->predicate = AndAll(preds);
  return f;
}

// Pushes `preds` (over node's output) as far down as they can go.
LogicalPtr PushDown(const LogicalPtr& node, std::vector<ExprPtr> preds);

LogicalPtr PushChildren(const LogicalPtr& node) {
  auto n = Clone(node);
  for (auto& c : n->children) c = PushDown(c, {});
  return n;
}

LogicalPtr PushDown(const LogicalPtr& node, std::vector<ExprPtr> preds) {
  switch (node->kind) {
    case LogicalKind::kFilter: {
      SplitConjuncts(node->predicate, &preds);
      return PushDown(node->children[0], std::move(preds));
    }
    case LogicalKind::kProject: {
      std::vector<ExprPtr> below, above;
      bool inlinable = std::all_of(node->exprs.begin(), node->exprs.end(),
                                   [](const ExprPtr& e) { return Deterministic(*e); });
      for (auto& p : preds) {
        if (inlinable && Deterministic(*p)) {
          below.push_back(Inline(p, node->exprs));
        } else {
          above.push_back(p);
        }
      }
      auto n = Clone(node);
      n->children[0] = PushDown(node->children[0], std::move(below));
      return WithFilter(n, above);
    }
    case LogicalKind::kJoin: {
      int nl = node->children[0]->schema->num_fields();
      auto jt = node->join_type;
      std::vector<ExprPtr> left, right, stay;
      auto classify = [&](const ExprPtr& p, bool from_condition) {
        auto cols = Columns(p);
        bool l = std::all_of(cols.begin(), cols.end(), [&](int c) { return c < nl; });
        bool r = std::all_of(cols.begin(), cols.end(), [&](int c) { return c >= nl; });
        bool det = Deterministic(*p);
        // Which sides may take a predicate depends on the join type: a WHERE
        // predicate may go to a preserved side; an ON predicate to a side it only filters.
        bool left_ok = from_condition
                           ? (jt == sql::JoinType::kInner || jt == sql::JoinType::kRight ||
                              jt == sql::JoinType::kLeftSemi)
                           : (jt != sql::JoinType::kRight && jt != sql::JoinType::kFull);
        bool right_ok = from_condition
                            ? (jt == sql::JoinType::kInner || jt == sql::JoinType::kLeft ||
                               jt == sql::JoinType::kLeftSemi || jt == sql::JoinType::kLeftAnti)
                            : (jt == sql::JoinType::kInner || jt == sql::JoinType::kCross);
        if (det && !cols.empty() && l && left_ok) {
          left.push_back(p);
        } else if (det && !cols.empty() && r && right_ok) {
          std::vector<int> shift(node->schema->num_fields() + 0);
          std::vector<int> m(nl + node->children[1]->schema->num_fields());
          for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<int>(i) - nl;
          right.push_back(expr::RemapColumns(p, m));
        } else {
          stay.push_back(p);
        }
      };
      std::vector<ExprPtr> where_stay;
      bool semi = jt == sql::JoinType::kLeftSemi || jt == sql::JoinType::kLeftAnti;
      for (auto& p : preds) {
        // WHERE predicates over a semi/anti join see only left columns.
        if (semi) {
          left.push_back(p);
          continue;
        }
        size_t before = stay.size();
        classify(p, false);
        if (stay.size() > before) {
          if (jt == sql::JoinType::kInner || jt == sql::JoinType::kCross)
            continue;  // becomes join condition
          where_stay.push_back(stay.back());
          stay.pop_back();
        }
      }
      if (node->predicate) {
        std::vector<ExprPtr> conj;
        SplitConjuncts(node->predicate, &conj);
        for (auto& p : conj) classify(p, true);
      }
      auto n = Clone(node);
      if (n->join_type == sql::JoinType::kCross && !stay.empty())
        n->join_type = sql::JoinType::kInner;
      n->predicate = AndAll(stay);
      n->children[0] = PushDown(node->children[0], std::move(left));
      n->children[1] = PushDown(node->children[1], std::move(right));
      return WithFilter(n, where_stay);
    }
    case LogicalKind::kScan: {
      auto n = Clone(node);
      for (const auto& p : preds) {
        if (Deterministic(*p)) n->scan_filters.push_back(p);
      }
      return WithFilter(n, preds);
    }
    case LogicalKind::kAggregate: {
      // Predicates on grouping keys only (no grouping sets) filter the input.
      std::vector<ExprPtr> below, above;
      for (auto& p : preds) {
        auto cols = Columns(p);
        bool keys_only = node->grouping_sets.empty() && !cols.empty() &&
                         std::all_of(cols.begin(), cols.end(), [&](int c) {
                           return c < static_cast<int>(node->exprs.size());
                         });
        if (keys_only && Deterministic(*p)) {
          below.push_back(Inline(p, node->exprs));
        } else {
          above.push_back(p);
        }
      }
      auto n = Clone(node);
      n->children[0] = PushDown(node->children[0], std::move(below));
      return WithFilter(n, above);
    }
    case LogicalKind::kUnion: {
      auto n = Clone(node);
      for (auto& c : n->children) c = PushDown(c, preds);
      return n;
    }
    default: {
      auto n = PushChildren(node);
      return WithFilter(n, preds);
    }
  }
}

ExprPtr Remap(const ExprPtr& e, const std::vector<int>& m) {
  return e ? expr::RemapColumns(e, m) : e;
}

void Require(const ExprPtr& e, std::vector<bool>* required) {
  if (!e) return;
  for (int c : Columns(e)) {
    if (c >= 0 && static_cast<size_t>(c) < required->size()) (*required)[c] = true;
  }
}

// Column pruning (Spark's ColumnPruning): every node keeps only the columns
// some node above reads, down to the scans, which then read only those. A
// join of a 7-column fact table that needs two of them no longer carries the
// other five through the hash table and the output. `required` flags the
// output columns of `node` the parent reads; `map` receives, per output
// column, its index in the pruned node's output (-1: dropped). A pruned node
// may keep more than was required (a filter's own columns), never fewer.
LogicalPtr Prune(const LogicalPtr& node, const std::vector<bool>& required, std::vector<int>* map) {
  const int width = node->schema->num_fields();
  auto identity = [&] {
    map->resize(width);
    for (int i = 0; i < width; ++i) (*map)[i] = i;
  };
  auto all = [](const LogicalPtr& c) {
    return std::vector<bool>(static_cast<size_t>(c->schema->num_fields()), true);
  };
  auto n = Clone(node);
  switch (node->kind) {
    case LogicalKind::kScan: {
      std::vector<int> source;  // per output column, the source column
      for (int i = 0; i < width; ++i)
        source.push_back(node->scan_columns.empty() ? i : node->scan_columns[i]);
      if (node->scan_columns.size() == 1 && node->scan_columns[0] == -1) source.clear();
      const bool every = std::all_of(required.begin(), required.end(), [](bool b) { return b; });
      if (every || source.empty()) {
        identity();
        return node;
      }
      map->assign(width, -1);
      n->scan_columns.clear();
      arrow::FieldVector fields;
      for (int i = 0; i < width; ++i) {
        if (!required[i]) continue;
        (*map)[i] = static_cast<int>(n->scan_columns.size());
        n->scan_columns.push_back(source[i]);
        fields.push_back(node->schema->field(i));
      }
      if (n->scan_columns.empty()) n->scan_columns.push_back(-1);  // row counts only
      n->schema = arrow::schema(fields);
      return n;
    }
    case LogicalKind::kFilter:
    case LogicalKind::kSort:
    case LogicalKind::kLimit: {
      auto need = required;
      Require(node->predicate, &need);
      for (const auto& k : node->sort_keys) Require(k.expr, &need);
      std::vector<int> cmap;
      n->children[0] = Prune(node->children[0], need, &cmap);
      n->predicate = Remap(node->predicate, cmap);
      for (auto& k : n->sort_keys) k.expr = Remap(k.expr, cmap);
      n->schema = n->children[0]->schema;
      *map = cmap;
      return n;
    }
    case LogicalKind::kProject: {
      std::vector<int> keep;
      for (int i = 0; i < width; ++i) {
        if (required[i]) keep.push_back(i);
      }
      // A projection of nothing still has to carry the row count: keep one
      // column, preferably a plain reference.
      if (keep.empty() && width > 0) {
        int pick = 0;
        for (int i = 0; i < width; ++i) {
          if (node->exprs[i]->kind == ExprKind::kColumn) {
            pick = i;
            break;
          }
        }
        keep.push_back(pick);
      }
      std::vector<bool> need(node->children[0]->schema->num_fields(), false);
      for (int i : keep) Require(node->exprs[i], &need);
      std::vector<int> cmap;
      n->children[0] = Prune(node->children[0], need, &cmap);
      n->exprs.clear();
      arrow::FieldVector fields;
      map->assign(width, -1);
      for (int i : keep) {
        (*map)[i] = static_cast<int>(n->exprs.size());
        n->exprs.push_back(Remap(node->exprs[i], cmap));
        fields.push_back(node->schema->field(i));
      }
      n->schema = arrow::schema(fields);
      return n;
    }
    case LogicalKind::kAggregate: {
      std::vector<bool> need(node->children[0]->schema->num_fields(), false);
      for (const auto& e : node->exprs) Require(e, &need);
      for (const auto& a : node->aggregates) {
        for (const auto& e : a.args) Require(e, &need);
        Require(a.filter, &need);
      }
      std::vector<int> cmap;
      n->children[0] = Prune(node->children[0], need, &cmap);
      for (auto& e : n->exprs) e = Remap(e, cmap);
      for (auto& a : n->aggregates) {
        for (auto& e : a.args) e = Remap(e, cmap);
        a.filter = Remap(a.filter, cmap);
      }
      identity();
      return n;
    }
    case LogicalKind::kJoin: {
      const int nl = node->children[0]->schema->num_fields();
      const int nr = node->children[1]->schema->num_fields();
      const bool left_only = node->join_type == sql::JoinType::kLeftSemi ||
                             node->join_type == sql::JoinType::kLeftAnti;
      std::vector<bool> need(nl + nr, false);
      for (int i = 0; i < width && i < nl + nr; ++i) need[i] = required[i];
      Require(node->predicate, &need);
      std::vector<bool> need_l(need.begin(), need.begin() + nl);
      std::vector<bool> need_r(need.begin() + nl, need.end());
      std::vector<int> lmap, rmap;
      n->children[0] = Prune(node->children[0], need_l, &lmap);
      n->children[1] = Prune(node->children[1], need_r, &rmap);
      const int nl2 = n->children[0]->schema->num_fields();
      const int nr2 = n->children[1]->schema->num_fields();
      std::vector<int> m(nl + nr, -1);
      for (int i = 0; i < nl; ++i) m[i] = lmap[i];
      for (int j = 0; j < nr; ++j) m[nl + j] = rmap[j] < 0 ? -1 : nl2 + rmap[j];
      n->predicate = Remap(node->predicate, m);
      // Output fields (with the join's nullability) in the children's new order.
      arrow::FieldVector fields(left_only ? nl2 : nl2 + nr2);
      for (int i = 0; i < nl; ++i) {
        if (lmap[i] >= 0) fields[lmap[i]] = node->schema->field(i);
      }
      if (!left_only) {
        for (int j = 0; j < nr; ++j) {
          if (rmap[j] >= 0) fields[nl2 + rmap[j]] = node->schema->field(nl + j);
        }
      }
      for (const auto& f : fields) {
        if (!f) return (identity(), node);  // a child kept a column we cannot name: give up
      }
      n->schema = arrow::schema(fields);
      map->assign(width, -1);
      for (int i = 0; i < width; ++i) (*map)[i] = i < nl + nr ? m[i] : -1;
      return n;
    }
    case LogicalKind::kWindow:
    case LogicalKind::kGenerate: {
      // The child's columns, then computed ones (kept whole).
      const int nc = node->children[0]->schema->num_fields();
      std::vector<bool> need(nc, false);
      for (int i = 0; i < nc && i < width; ++i) need[i] = required[i];
      for (const auto& e : node->exprs) Require(e, &need);
      for (const auto& k : node->sort_keys) Require(k.expr, &need);
      for (const auto& w : node->windows) {
        for (const auto& e : w.args) Require(e, &need);
      }
      std::vector<int> cmap;
      n->children[0] = Prune(node->children[0], need, &cmap);
      for (auto& e : n->exprs) e = Remap(e, cmap);
      for (auto& k : n->sort_keys) k.expr = Remap(k.expr, cmap);
      for (auto& w : n->windows) {
        for (auto& e : w.args) e = Remap(e, cmap);
      }
      const int nc2 = n->children[0]->schema->num_fields();
      arrow::FieldVector fields = n->children[0]->schema->fields();
      for (int i = nc; i < width; ++i) fields.push_back(node->schema->field(i));
      n->schema = arrow::schema(fields);
      map->assign(width, -1);
      for (int i = 0; i < nc; ++i) (*map)[i] = cmap[i];
      for (int i = nc; i < width; ++i) (*map)[i] = nc2 + (i - nc);
      return n;
    }
    default: {
      // Union and anything else: outputs stay as they are; inputs are
      // pruned on their own.
      for (auto& c : n->children) {
        std::vector<int> ignored;
        c = Prune(c, all(c), &ignored);
      }
      identity();
      return n;
    }
  }
}

}  // namespace

Result<LogicalPtr> Optimize(const LogicalPtr& plan) {
  auto p = PushDown(plan, {});
  std::vector<int> map;
  return Prune(p, std::vector<bool>(static_cast<size_t>(p->schema->num_fields()), true), &map);
}

namespace {

// Leaves out of a Filter directly over a scan the conjuncts that the scan's
// file statistics prove for every row it returns (ScanSource::prove_filters):
// a selective Delta scan whose kept files lie inside the range then neither
// evaluates the range nor decodes the column only it reads. The conjuncts
// stay pushed into the scan, which still prunes files with them.
Result<LogicalPtr> DropProvenFilters(const LogicalPtr& node) {
  LogicalPtr out = node;
  for (size_t i = 0; i < node->children.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto c, DropProvenFilters(node->children[i]));
    if (c != node->children[i]) {
      if (out == node) out = Clone(node);
      out->children[i] = std::move(c);
    }
  }
  if (node->kind != LogicalKind::kFilter) return out;
  const auto& scan = node->children[0];
  if (scan->kind != LogicalKind::kScan || !scan->scan || !scan->scan->prove_filters ||
      scan->scan_filters.empty() || !scan->scan_columns.empty()) {
    return out;
  }
  ARROW_ASSIGN_OR_RAISE(auto proven, scan->scan->prove_filters(scan->scan_filters));
  std::vector<ExprPtr> conjuncts, keep;
  SplitConjuncts(node->predicate, &conjuncts);
  for (const auto& c : conjuncts) {
    bool drop = false;
    for (size_t i = 0; i < proven.size() && i < scan->scan_filters.size(); ++i) {
      drop = drop || (proven[i] && scan->scan_filters[i] == c);
    }
    if (!drop) keep.push_back(c);
  }
  if (keep.size() == conjuncts.size()) return out;
  return WithFilter(out->children[0], keep);
}

}  // namespace

Result<LogicalPtr> OptimizeBatch(const LogicalPtr& plan) {
  auto p = PushDown(plan, {});
  ARROW_ASSIGN_OR_RAISE(p, DropProvenFilters(p));
  std::vector<int> map;
  return Prune(p, std::vector<bool>(static_cast<size_t>(p->schema->num_fields()), true), &map);
}

namespace {

// ---- STRING columns kept dictionary-encoded from scan to aggregate
//
// A low-cardinality string column decoded from Parquet dictionary pages is
// cheapest to work on as the dictionary: a comparison with a literal runs
// once per distinct value, count(DISTINCT) deduplicates integer indices.
// The scan keeps such a column dictionary-encoded only when every consumer
// takes either form: an Aggregate over Filters and Projections over the scan, where the
// column appears only compared with a literal, or as the one argument of
// count(DISTINCT). Everything else (join keys, sort, output) sees dense
// strings as before.

// Scan nodes -> source schema indexes of the columns to keep as dictionaries.
using DictionaryColumns = std::unordered_map<const LogicalNode*, std::vector<int>>;

bool IsComparison(const std::string& name) {
  return name == "equal" || name == "not_equal" || name == "less" || name == "less_equal" ||
         name == "greater" || name == "greater_equal";
}

// Whether `e` reads column `col` only as one side of a comparison with a
// literal (the evaluator runs those over the dictionary).
bool OnlyComparedWithLiterals(const expr::Expr& e, int col) {
  if (e.kind == ExprKind::kColumn) return e.column_index != col;
  // NULL tests read only the indices' validity (per dictionary entry in the
  // evaluator when inside a larger expression over the column).
  if (e.kind == ExprKind::kCall && (e.name == "is_null" || e.name == "is_not_null") &&
      e.args.size() == 1 && e.args[0]->kind == ExprKind::kColumn) {
    return true;
  }
  if (e.kind == ExprKind::kCall && IsComparison(e.name) && e.args.size() == 2) {
    for (int i = 0; i < 2; ++i) {
      const expr::Expr& a = *e.args[i];
      const expr::Expr& b = *e.args[1 - i];
      if (a.kind == ExprKind::kColumn && a.column_index == col && b.kind == ExprKind::kLiteral) {
        return true;
      }
    }
  }
  for (const auto& a : e.args) {
    if (a && !OnlyComparedWithLiterals(*a, col)) return false;
  }
  return true;
}

void FindDictionaryColumns(const LogicalPtr& n, DictionaryColumns* out) {
  for (const auto& c : n->children) FindDictionaryColumns(c, out);
  if (n->kind != LogicalKind::kAggregate || n->emit_state || !n->grouping_sets.empty()) return;
  // Filters and projections between the aggregate and the scan, top down.
  std::vector<const LogicalNode*> chain;
  const LogicalNode* scan = n->children[0].get();
  while (scan->kind == LogicalKind::kFilter || scan->kind == LogicalKind::kProject) {
    chain.push_back(scan);
    scan = scan->children[0].get();
  }
  if (scan->kind != LogicalKind::kScan || !scan->scan || !scan->scan->make_dictionary_tasks) return;
  const auto& cols = scan->scan_columns;
  if (cols.size() == 1 && cols[0] == -1) return;
  std::vector<int> keep;
  for (int p = 0; p < scan->schema->num_fields(); ++p) {
    if (scan->schema->field(p)->type()->id() != arrow::Type::STRING) continue;
    // Follow the column up the chain: a filter may compare it with literals;
    // a projection may too, and drop it or pass it on once, as a column
    // (exec::ProjectNode hands column references over as they are).
    int at = p;  // its index in the current node's input; -1 once dropped
    bool ok = true;
    for (auto it = chain.rbegin(); ok && at >= 0 && it != chain.rend(); ++it) {
      const LogicalNode* node = *it;
      if (node->kind == LogicalKind::kFilter) {
        ok = node->predicate == nullptr || OnlyComparedWithLiterals(*node->predicate, at);
        continue;
      }
      int passed = -1;
      for (size_t i = 0; ok && i < node->exprs.size(); ++i) {
        const auto& e = *node->exprs[i];
        if (e.kind == ExprKind::kColumn && e.column_index == at) {
          ok = passed < 0;
          passed = static_cast<int>(i);
        } else {
          ok = OnlyComparedWithLiterals(e, at);
        }
      }
      at = passed;
    }
    if (ok && at >= 0) {
      for (const auto& k : n->exprs) ok = ok && OnlyComparedWithLiterals(*k, at);
      for (const auto& a : n->aggregates) {
        if (a.filter) ok = ok && OnlyComparedWithLiterals(*a.filter, at);
        // DistinctAgg takes dictionary arrays; count's own accumulator never sees them.
        bool distinct_count = a.distinct && a.name == "count" && a.args.size() == 1 &&
                              a.args[0]->kind == ExprKind::kColumn && a.args[0]->column_index == at;
        if (distinct_count) continue;
        for (const auto& arg : a.args) ok = ok && OnlyComparedWithLiterals(*arg, at);
      }
    }
    if (ok) keep.push_back(cols.empty() ? p : cols[static_cast<size_t>(p)]);
  }
  if (!keep.empty()) (*out)[scan] = std::move(keep);
}

Result<exec::PhysicalNodePtr> Plan(const LogicalPtr& n, const SessionConfig& config,
                                   const DictionaryColumns& dictionary) {
  std::vector<exec::PhysicalNodePtr> kids;
  for (const auto& c : n->children) {
    ARROW_ASSIGN_OR_RAISE(auto k, Plan(c, config, dictionary));
    kids.push_back(std::move(k));
  }
  switch (n->kind) {
    case LogicalKind::kScan: {
      const auto& src = *n->scan;
      std::vector<int> cols = n->scan_columns;
      bool no_columns = cols.size() == 1 && cols[0] == -1;
      if (no_columns) cols.clear();
      if (!src.batches.empty() || !src.make_tasks) {
        std::vector<exec::BatchPtr> batches;
        for (const auto& b : src.batches) {
          if (n->scan_columns.empty()) {
            batches.push_back(b);
          } else {
            arrow::ArrayVector arrays;
            for (int c : cols) arrays.push_back(b->column(c));
            batches.push_back(arrow::RecordBatch::Make(n->schema, b->num_rows(), arrays));
          }
        }
        return exec::ScanNode::FromBatches(n->schema, std::move(batches), src.description);
      }
      std::string explain;
      // make_tasks gets the projected columns; {-1} asks for row counts only.
      std::vector<exec::ScanTask> tasks;
      auto dict = dictionary.find(n.get());
      if (dict != dictionary.end()) {
        ARROW_ASSIGN_OR_RAISE(tasks, src.make_dictionary_tasks(n->scan_columns, n->scan_filters,
                                                               dict->second, &explain));
      } else {
        ARROW_ASSIGN_OR_RAISE(tasks, src.make_tasks(n->scan_columns, n->scan_filters, &explain));
      }
      auto desc = src.description;
      if (!n->scan_columns.empty()) {
        std::vector<std::string> names;
        for (const auto& f : n->schema->fields()) names.push_back(f->name());
        desc += fmt::format(" columns=[{}]", fmt::join(names, ", "));
      }
      if (!explain.empty()) desc += " " + explain;
      if (no_columns) {
        // The scan returns batches without columns; a zero-column schema.
        return std::make_shared<exec::ScanNode>(arrow::schema({}), std::move(tasks), desc);
      }
      return std::make_shared<exec::ScanNode>(n->schema, std::move(tasks), desc);
    }
    case LogicalKind::kFilter:
      return std::make_shared<exec::FilterNode>(kids[0], n->predicate);
    case LogicalKind::kProject: {
      std::vector<std::string> names;
      for (const auto& f : n->schema->fields()) names.push_back(f->name());
      return std::make_shared<exec::ProjectNode>(kids[0], n->exprs, names);
    }
    case LogicalKind::kLimit:
      return std::make_shared<exec::LimitNode>(kids[0], n->limit, n->offset);
    case LogicalKind::kUnion:
      return std::make_shared<exec::UnionNode>(kids);
    case LogicalKind::kGenerate: {
      std::vector<std::string> names;
      int base = n->children[0]->schema->num_fields();
      for (int i = base; i < n->schema->num_fields(); ++i)
        names.push_back(n->schema->field(i)->name());
      return std::make_shared<exec::GenerateNode>(kids[0], n->exprs[0], n->outer, n->with_position,
                                                  names);
    }
    case LogicalKind::kAggregate:
      return MakeAggregateNode(kids[0], *n, config);
    case LogicalKind::kJoin: {
      // Equi-join keys: conjuncts `l = r` with one side over each input.
      int nl = n->children[0]->schema->num_fields();
      JoinKeys keys;
      std::vector<ExprPtr> residual;
      if (n->predicate) {
        std::vector<ExprPtr> conj;
        SplitConjuncts(n->predicate, &conj);
        for (const auto& c : conj) {
          bool eq = c->kind == ExprKind::kCall &&
                    (c->name == "equal" || c->name == "equal_null_safe") && c->args.size() == 2;
          if (eq) {
            auto a = c->args[0], b = c->args[1];
            auto ca = Columns(a), cb = Columns(b);
            auto all_left = [&](const std::vector<int>& v) {
              return !v.empty() && std::all_of(v.begin(), v.end(), [&](int x) { return x < nl; });
            };
            auto all_right = [&](const std::vector<int>& v) {
              return !v.empty() && std::all_of(v.begin(), v.end(), [&](int x) { return x >= nl; });
            };
            if (all_right(ca) && all_left(cb)) std::swap(a, b), std::swap(ca, cb);
            if (c->call && c->call->collation != types::Collation::kUtf8Binary) {
              // Strings equal under a collation (UTF8_LCASE, ...) join on their collation keys.
              a = expr::CollationKeyExpr(a, c->call->collation);
              b = expr::CollationKeyExpr(b, c->call->collation);
            }
            if (all_left(ca) && all_right(cb) && a->type->Equals(*b->type)) {
              std::vector<int> m(nl + n->children[1]->schema->num_fields());
              for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<int>(i) - nl;
              keys.left.push_back(a);
              keys.right.push_back(expr::RemapColumns(b, m));
              keys.null_safe.push_back(c->name == "equal_null_safe");
              continue;
            }
          }
          residual.push_back(c);
        }
      }
      return MakeJoinNode(kids[0], kids[1], *n, keys, AndAll(residual), config);
    }
    case LogicalKind::kSort:
      return MakeSortNode(kids[0], n->sort_keys, n->limit, config);
    case LogicalKind::kWindow:
      return MakeWindowNode(kids[0], *n, config);
  }
  return InternalError("unknown logical node");
}

}  // namespace

Result<exec::PhysicalNodePtr> PlanPhysical(const LogicalPtr& plan, const SessionConfig& config) {
  DictionaryColumns dictionary;
  FindDictionaryColumns(plan, &dictionary);
  // A scan node reached through two parents (a view used twice) may feed a
  // consumer that needs dense strings: it stays dense.
  std::unordered_map<const LogicalNode*, int> parents;
  std::function<void(const LogicalPtr&)> count = [&](const LogicalPtr& n) {
    if (++parents[n.get()] > 1) return;
    for (const auto& c : n->children) count(c);
  };
  count(plan);
  for (auto it = dictionary.begin(); it != dictionary.end();) {
    it = parents[it->first] > 1 ? dictionary.erase(it) : std::next(it);
  }
  return Plan(plan, config, dictionary);
}

namespace {
const char* KindName(LogicalKind k) {
  switch (k) {
    case LogicalKind::kScan:
      return "Scan";
    case LogicalKind::kFilter:
      return "Filter";
    case LogicalKind::kProject:
      return "Project";
    case LogicalKind::kAggregate:
      return "Aggregate";
    case LogicalKind::kJoin:
      return "Join";
    case LogicalKind::kSort:
      return "Sort";
    case LogicalKind::kLimit:
      return "Limit";
    case LogicalKind::kUnion:
      return "Union";
    case LogicalKind::kWindow:
      return "Window";
    case LogicalKind::kGenerate:
      return "Generate";
  }
  return "?";
}
void ExplainRec(const LogicalNode& n, int depth, std::string* out) {
  std::string detail;
  if (n.kind == LogicalKind::kScan) detail = " " + n.scan->description;
  if (n.predicate) detail += " " + n.predicate->ToString();
  for (const auto& e : n.exprs) detail += " " + e->ToString();
  *out += std::string(depth * 2, ' ') + (depth ? "+- " : "") + KindName(n.kind) + detail + "\n";
  for (const auto& c : n.children) ExplainRec(*c, depth + 1, out);
}
}  // namespace

std::string ExplainLogical(const LogicalNode& node) {
  std::string out;
  ExplainRec(node, 0, &out);
  return out;
}

}  // namespace lakestream::plan
