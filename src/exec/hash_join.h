// Hash join: the build side (children()[1]) is consumed first through the
// sink role into one hash table over row-encoded keys; the probe side
// (children()[0]) then streams through Execute on every worker (the table is
// read-only while probing, so no lock). Output rows are assembled with Take.
// Spark's rules: a NULL key never matches (unless the key compares with the
// null-safe `<=>`), outer joins pad with NULLs, right/full outer joins emit
// the unmatched build rows in Finish.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "exec/operator.h"
#include "expr/expr.h"

namespace lakestream::exec {

enum class JoinType { kInner, kLeftOuter, kRightOuter, kFullOuter, kLeftSemi, kLeftAnti, kCross };

const char* JoinTypeName(JoinType t);

struct HashJoinOptions {
  JoinType type = JoinType::kInner;
  /// Equi-join keys: left_keys[i] (over the left/probe schema) = right_keys[i]
  /// (over the right/build schema), already cast to a common type. Empty for a
  /// cross join or a join on the residual predicate only (a nested loop).
  std::vector<expr::ExprPtr> left_keys;
  std::vector<expr::ExprPtr> right_keys;
  /// Per key: true for `<=>` (NULL matches NULL). Empty means all false.
  std::vector<bool> null_safe;
  /// Optional extra condition over left columns ++ right columns.
  expr::ExprPtr residual;
};

/// Output schema: left columns then right columns (left only for semi/anti).
class HashJoinNode : public PhysicalNode {
 public:
  static Result<std::shared_ptr<HashJoinNode>> Make(PhysicalNodePtr left, PhysicalNodePtr right,
                                                    HashJoinOptions options);
  HashJoinNode(PhysicalNodePtr left, PhysicalNodePtr right, HashJoinOptions options,
               std::shared_ptr<arrow::Schema> schema);
  ~HashJoinNode() override;

  std::string ToString() const override;
  bool IsOperator() const override { return true; }
  bool IsSink() const override { return true; }
  int BlockingChild() const override { return 1; }

  Status Prepare(ExecContext* ctx) override;
  Status Consume(int child, int thread, BatchPtr batch) override;
  Status FinishSink(int child) override;
  Result<OperatorResult> Execute(int thread, BatchPtr batch, const Emit& emit) override;
  Status Finish(const Emit& emit) override;

  const HashJoinOptions& options() const { return options_; }

 private:
  class Table;
  Status EmitPairs(const BatchPtr& probe, std::vector<int64_t>* probe_idx,
                   std::vector<int64_t>* build_idx, const Emit& emit);

  /// A worker's probe buffers, kept between batches.
  struct ProbeScratch {
    std::vector<int64_t> probe_idx, build_idx;
    std::vector<uint64_t> vals, pos;
    std::vector<uint8_t> valid;
  };

  HashJoinOptions options_;
  ExecContext* ctx_ = nullptr;
  std::vector<ProbeScratch> scratch_;  // per thread
  std::vector<int> right_from_left_;   // per build column: the probe column equal to it, or -1
  std::vector<std::vector<BatchPtr>> build_batches_;  // per thread, until FinishSink
  std::atomic<int64_t> build_bytes_{0};
  std::unique_ptr<Table> table_;
};

}  // namespace lakestream::exec
