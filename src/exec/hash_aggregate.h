// Hash aggregation (GROUP BY, global aggregates, GROUPING SETS): a pipeline
// breaker. Each worker groups its batches with its own arrow Grouper and
// GroupedAggregators (no lock on the hot path); FinishSink merges the
// per-thread partials into one table and the source role emits it.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "exec/operator.h"
#include "expr/expr.h"

namespace lakestream::exec {

/// One aggregate call of the SELECT list, e.g. `sum(b) FILTER (WHERE c > 0)`.
struct AggregateCall {
  std::string name;                   // output column name
  expr::ResolvedAggregate aggregate;  // resolved by the binder (DISTINCT folded in)
  std::vector<expr::ExprPtr> args;    // over the child's schema, already cast to arg_types
  expr::ExprPtr filter;               // optional FILTER (WHERE ...) predicate, nullptr if none
  std::string text;                   // for EXPLAIN, e.g. "sum(b)"; defaults to name
};

struct HashAggregateOptions {
  /// Grouping expressions over the child's schema; empty for a global aggregate.
  std::vector<expr::ExprPtr> keys;
  std::vector<std::string> key_names;
  std::vector<AggregateCall> aggregates;
  /// GROUPING SETS / ROLLUP / CUBE: each set lists indexes into `keys`. Empty
  /// means plain GROUP BY. When set, every input row is aggregated once per
  /// set with the keys outside the set as NULL, and the output gets a BIGINT
  /// `spark_grouping_id` column after the keys (bit (n-1-i) set when key i is
  /// not in the set, as Spark's Expand).
  std::vector<std::vector<int>> grouping_sets;
  /// Streaming partial aggregation: emit each aggregate's accumulators
  /// (GroupedAggregator::SaveState) instead of its result, so the stateful
  /// streaming aggregate can merge them into its state store. The output
  /// schema's aggregate columns then take the state types.
  bool emit_state = false;
};

/// Output schema: keys, [spark_grouping_id], then one column per aggregate.
class HashAggregateNode : public PhysicalNode {
 public:
  static Result<std::shared_ptr<HashAggregateNode>> Make(PhysicalNodePtr child,
                                                         HashAggregateOptions options);
  HashAggregateNode(PhysicalNodePtr child, HashAggregateOptions options,
                    std::shared_ptr<arrow::Schema> schema);
  ~HashAggregateNode() override;

  std::string ToString() const override;
  bool IsSource() const override { return true; }
  bool IsSink() const override { return true; }

  Status Prepare(ExecContext* ctx) override;
  Status Consume(int child, int thread, BatchPtr batch) override;
  Status FinishSink(int child) override;
  Result<BatchPtr> Next(int thread) override;

  const HashAggregateOptions& options() const { return options_; }

 private:
  struct ThreadState;
  Status MakeThreadState(ThreadState* st);
  Status UpdateAggregates(ThreadState* st, const arrow::RecordBatch& batch,
                          const std::vector<std::vector<std::shared_ptr<arrow::Array>>>& args,
                          const uint32_t* group_ids, int64_t length);
  Status CheckMemory(ThreadState* st);

  HashAggregateOptions options_;
  ExecContext* ctx_ = nullptr;
  std::vector<std::unique_ptr<ThreadState>> threads_;
  std::atomic<int64_t> memory_used_{0};
  std::vector<BatchPtr> output_;
  std::atomic<size_t> next_output_{0};
};

}  // namespace lakestream::exec
