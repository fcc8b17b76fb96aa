// The streaming (non-breaking) operators and sources: scan, filter, project,
// limit, union. The breakers (aggregate, join, sort, window) live in their own files.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "exec/operator.h"
#include "expr/expr.h"

namespace lakestream::exec {

/// Produces the batches of one scan task; returns nullptr at the end.
using BatchIterator = std::function<Result<BatchPtr>()>;
/// Opens a scan task (a file, some row groups, an in-memory chunk).
using ScanTask = std::function<Result<BatchIterator>()>;

/// A leaf: workers take tasks in turn and read their batches.
///
/// With `set_share_tasks(true)`, a worker that finds no task left joins one
/// that another worker is still reading: the batches of that task are then
/// read in turn under its lock, each by whichever worker asks next. A scan
/// that keeps a single file of one row group (a selective Delta scan) then
/// decodes its next batch on one worker while another filters and
/// aggregates the previous one. The batches of one task then reach the
/// operators above on several workers and out of file order: only for
/// consumers that do not care (see plan/breakers.cc).
class ScanNode : public PhysicalNode {
 public:
  ScanNode(std::shared_ptr<arrow::Schema> schema, std::vector<ScanTask> tasks,
           std::string description);
  /// A scan over batches already in memory (VALUES, views, range()).
  static std::shared_ptr<ScanNode> FromBatches(std::shared_ptr<arrow::Schema> schema,
                                               std::vector<BatchPtr> batches,
                                               std::string description);
  std::string ToString() const override { return description_; }
  bool IsSource() const override { return true; }
  Status Prepare(ExecContext* ctx) override;
  Result<BatchPtr> Next(int thread) override;
  /// Lets idle workers join tasks still being read (see above). Set before
  /// Prepare.
  void set_share_tasks(bool share) { share_tasks_ = share; }
  bool share_tasks() const { return share_tasks_; }

 private:
  /// A task being read; `mu` serializes its iterator when workers share it.
  struct OpenTask {
    std::mutex mu;
    BatchIterator it;
    std::atomic<bool> done{false};
  };
  std::vector<ScanTask> tasks_;
  std::string description_;
  bool share_tasks_ = false;
  std::atomic<size_t> next_task_{0};
  std::vector<std::shared_ptr<OpenTask>> current_;  // per thread
  std::mutex open_mu_;
  std::vector<std::shared_ptr<OpenTask>> open_;  // started tasks, for sharing; guarded by open_mu_
};

class FilterNode : public PhysicalNode {
 public:
  FilterNode(PhysicalNodePtr child, expr::ExprPtr predicate);
  std::string ToString() const override;
  bool IsOperator() const override { return true; }
  Status Prepare(ExecContext* ctx) override {
    ctx_ = ctx;
    return Status::OK();
  }
  Result<OperatorResult> Execute(int thread, BatchPtr batch, const Emit& emit) override;
  const expr::ExprPtr& predicate() const { return predicate_; }

 private:
  expr::ExprPtr predicate_;
  std::vector<expr::ExprPtr> conjuncts_;  // predicate_'s AND operands, left to right
  std::vector<expr::ExprPtr> guarded_;    // [k > 0]: `__filter_mask AND conjuncts_[k]`
  ExecContext* ctx_ = nullptr;
};

class ProjectNode : public PhysicalNode {
 public:
  ProjectNode(PhysicalNodePtr child, std::vector<expr::ExprPtr> exprs,
              std::vector<std::string> names);
  std::string ToString() const override;
  bool IsOperator() const override { return true; }
  Status Prepare(ExecContext* ctx) override {
    ctx_ = ctx;
    return Status::OK();
  }
  Result<OperatorResult> Execute(int thread, BatchPtr batch, const Emit& emit) override;

 private:
  std::vector<expr::ExprPtr> exprs_;
  ExecContext* ctx_ = nullptr;
};

/// LIMIT n OFFSET m over its input order (ordered inputs run on one worker).
class LimitNode : public PhysicalNode {
 public:
  LimitNode(PhysicalNodePtr child, int64_t limit, int64_t offset);
  std::string ToString() const override;
  bool IsOperator() const override { return true; }
  Result<OperatorResult> Execute(int thread, BatchPtr batch, const Emit& emit) override;

 private:
  int64_t limit_;  // -1: no limit
  int64_t offset_;
  std::mutex mu_;
  int64_t seen_ = 0;  // REQUIRES: mu_
};

/// UNION ALL: every child feeds the parent's pipeline.
class UnionNode : public PhysicalNode {
 public:
  explicit UnionNode(std::vector<PhysicalNodePtr> children);
  std::string ToString() const override { return "Union"; }
  bool IsUnion() const override { return true; }
};

/// Explodes a list or map column (Spark's explode/posexplode/inline generators).
class GenerateNode : public PhysicalNode {
 public:
  /// Output = child columns then the generated columns (pos?, elem | key, value).
  GenerateNode(PhysicalNodePtr child, expr::ExprPtr generator_input, bool outer, bool with_position,
               std::vector<std::string> output_names);
  std::string ToString() const override;
  bool IsOperator() const override { return true; }
  Status Prepare(ExecContext* ctx) override {
    ctx_ = ctx;
    return Status::OK();
  }
  Result<OperatorResult> Execute(int thread, BatchPtr batch, const Emit& emit) override;

 private:
  expr::ExprPtr input_;
  bool outer_;
  bool with_position_;
  ExecContext* ctx_ = nullptr;
};

}  // namespace lakestream::exec
