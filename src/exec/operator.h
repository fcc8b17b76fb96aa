// Physical operators and the rules every operator follows.
//
// Execution is push-based and morsel-driven (as in DuckDB and Hyper): a plan is
// cut into pipelines at pipeline breakers (hash aggregate, sort, the build side
// of a hash join). A pipeline is a source, a chain of streaming operators and a
// sink. Worker threads pull morsels (batches) from the source concurrently and
// push each through the operators into the sink, so a pipeline runs on all
// cores with no exchange.
//
// Threading rules:
//  - Settings of an operator are immutable after construction.
//  - Source::Next, Operator::Execute and Sink::Consume are called concurrently
//    from up to `ExecContext::threads` workers; `thread` (0..threads-1) indexes
//    per-worker state, so hot paths take no lock.
//  - Sink::Finish and Operator::Finish run once, on one thread, after every
//    worker of the pipeline has returned.
// Stopping: any Status error stops the pipeline; workers stop pulling morsels.
// An operator that needs no more input (LIMIT) returns `kDone` from Execute and
// the pipeline stops feeding it.
// Memory: data allocations go through ExecContext::pool; hash tables check
// ExecContext::memory_limit and fail with a clear error past it.
#pragma once

#include <arrow/record_batch.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "expr/function.h"

namespace lakestream::exec {

using BatchPtr = std::shared_ptr<arrow::RecordBatch>;
using Emit = std::function<Status(BatchPtr)>;

struct ExecContext {
  expr::EvalContext eval;
  arrow::MemoryPool* pool = arrow::default_memory_pool();
  int threads = 1;
  int64_t memory_limit = int64_t{8} << 30;
  /// Rows per batch produced by operators that build new batches.
  int64_t batch_size = 64 * 1024;
};

enum class OperatorResult { kNeedMoreInput, kDone };

class PhysicalNode;
using PhysicalNodePtr = std::shared_ptr<PhysicalNode>;

/// A node of the physical plan. Each node takes one or more of the roles
/// below; the pipeline builder asks which.
class PhysicalNode {
 public:
  virtual ~PhysicalNode() = default;

  const std::shared_ptr<arrow::Schema>& schema() const { return schema_; }
  const std::vector<PhysicalNodePtr>& children() const { return children_; }
  /// Name and details for EXPLAIN, e.g. "HashAggregate(keys=[a], functions=[sum(b)])".
  virtual std::string ToString() const = 0;

  // -- roles --
  virtual bool IsSource() const { return false; }    // leaf, or a breaker's output side
  virtual bool IsOperator() const { return false; }  // streams batches of children()[0]
  virtual bool IsSink() const { return false; }      // consumes whole children
  /// A pass-through node whose children all feed its parent's pipeline (UNION ALL).
  virtual bool IsUnion() const { return false; }
  /// A source whose batches must reach the sink in order (sorted output): its
  /// pipeline runs on one worker.
  virtual bool IsOrderedSource() const { return false; }

  /// Called once before any worker runs (allocate per-thread state).
  virtual Status Prepare(ExecContext* ctx) { return Status::OK(); }

  // -- source role (thread-safe) --
  /// The next morsel, or nullptr when exhausted.
  virtual Result<BatchPtr> Next(int thread) { return Status::NotImplemented("Next"); }

  // -- operator role --
  virtual Result<OperatorResult> Execute(int thread, BatchPtr batch, const Emit& emit) {
    return Status::NotImplemented("Execute");
  }
  /// After the pipeline drained: emit what is left (unmatched rows of an outer join).
  virtual Status Finish(const Emit& emit) { return Status::OK(); }
  /// For an operator that needs another child fully consumed first (hash join
  /// build side): the index of that child, consumed through the sink role.
  virtual int BlockingChild() const { return -1; }

  // -- sink role --
  /// Consumes a batch of child `child`.
  virtual Status Consume(int child, int thread, BatchPtr batch) {
    return Status::NotImplemented("Consume");
  }
  /// All batches of child `child` have arrived: merge per-thread state. For a
  /// breaker whose source role follows, the output is ready after this.
  virtual Status FinishSink(int child) { return Status::OK(); }
  /// True if the sink stops wanting input (e.g. a LIMIT reached in the sink).
  virtual bool SinkDone() const { return false; }

 protected:
  std::shared_ptr<arrow::Schema> schema_;
  std::vector<PhysicalNodePtr> children_;
};

/// Runs the plan rooted at `root` and returns its result batches in order.
Result<std::vector<BatchPtr>> ExecutePlan(const PhysicalNodePtr& root, ExecContext* ctx);

/// EXPLAIN text of a physical plan, one node per line, children indented.
std::string ExplainPlan(const PhysicalNode& root);

}  // namespace lakestream::exec
