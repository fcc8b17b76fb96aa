// ORDER BY (with optional LIMIT/OFFSET): a pipeline breaker. Workers buffer
// their batches (with a LIMIT, each keeps only its best limit+offset rows);
// FinishSink sorts everything once with Arrow's stable SortIndices and the
// source role emits the rows in order on one worker.
//
// Spark's order: NULLS FIRST by default for ASC and NULLS LAST for DESC, NaN
// greater than every other value (Arrow keeps NaN beside the NULLs, so float
// keys get an extra "is NaN" key), -0.0 equal to 0.0, strings by bytes.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "exec/operator.h"
#include "expr/expr.h"

namespace lakestream::exec {

struct SortKey {
  expr::ExprPtr expr;  // over the child's schema
  bool ascending = true;
  bool nulls_first = true;  // Spark: true for ASC, false for DESC unless NULLS FIRST/LAST
};

/// Indices (uint64) that order rows of `keys` (equal-length columns) stably by
/// `order` (expr fields ignored: keys[i] is the evaluated key i).
Result<std::shared_ptr<arrow::Array>> SortIndicesFor(
    const std::vector<std::shared_ptr<arrow::Array>>& keys, const std::vector<SortKey>& order,
    arrow::MemoryPool* pool);

class SortNode : public PhysicalNode {
 public:
  /// limit < 0: no limit.
  SortNode(PhysicalNodePtr child, std::vector<SortKey> keys, int64_t limit = -1,
           int64_t offset = 0);

  std::string ToString() const override;
  bool IsSource() const override { return true; }
  bool IsSink() const override { return true; }
  bool IsOrderedSource() const override { return true; }

  Status Prepare(ExecContext* ctx) override;
  Status Consume(int child, int thread, BatchPtr batch) override;
  Status FinishSink(int child) override;
  Result<BatchPtr> Next(int thread) override;

 private:
  /// Sorts `batches` and keeps rows [from, from + count) (count < 0: all).
  Result<std::vector<std::shared_ptr<arrow::Array>>> SortRows(const std::vector<BatchPtr>& batches,
                                                              int64_t* num_rows, int64_t count);

  std::vector<SortKey> keys_;
  int64_t limit_;
  int64_t offset_;
  ExecContext* ctx_ = nullptr;
  struct ThreadBuffer {
    std::vector<BatchPtr> batches;
    int64_t rows = 0;
    // Top-N: the first sort key of this worker's limit+offset-th best row;
    // a row strictly worse on that key cannot make the result (null: none yet).
    std::shared_ptr<arrow::Scalar> threshold;
  };
  /// Top-N: drops the rows of `batch` the threshold rules out.
  Result<BatchPtr> DropBeyondThreshold(const BatchPtr& batch, const arrow::Scalar& threshold);
  std::vector<ThreadBuffer> buffers_;
  std::atomic<int64_t> buffered_bytes_{0};
  std::vector<BatchPtr> output_;
  std::atomic<size_t> next_output_{0};
};

}  // namespace lakestream::exec
