// Window functions (OVER (PARTITION BY ... ORDER BY ... frame)): a pipeline
// breaker. FinishSink sorts the whole input by (partition keys, order keys),
// finds partition and peer boundaries, and computes each function per
// partition; the output is the child's columns (in that sorted order) plus
// one column per function. One node serves one (PARTITION BY, ORDER BY) spec;
// the frame may differ per function.
//
// Aggregates over frames: a whole-partition frame is one group per partition;
// a frame starting UNBOUNDED PRECEDING is computed incrementally (the
// aggregator is updated with each new row group and finalized); other frames
// aggregate each row's frame as its own group (cost: rows x frame size).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "exec/operator.h"
#include "exec/sort.h"
#include "expr/expr.h"

namespace lakestream::exec {

struct WindowFrame {
  enum class Unit { kRows, kRange };
  enum class Bound { kUnboundedPreceding, kPreceding, kCurrentRow, kFollowing, kUnboundedFollowing };
  Unit unit = Unit::kRange;
  Bound start = Bound::kUnboundedPreceding;
  Bound end = Bound::kCurrentRow;
  /// Offsets of kPreceding/kFollowing bounds (non-negative). ROWS: a row count.
  /// RANGE: a distance in the order key's unit (days for DATE, microseconds
  /// for TIMESTAMP); RANGE offsets need exactly one numeric/date/timestamp order key.
  double start_offset = 0;
  double end_offset = 0;

  /// Spark's default: RANGE UNBOUNDED PRECEDING..CURRENT ROW with ORDER BY,
  /// the whole partition without.
  static WindowFrame Default(bool has_order_by);
  std::string ToString() const;
};

enum class WindowFunctionKind {
  kRowNumber,
  kRank,
  kDenseRank,
  kPercentRank,
  kCumeDist,
  kNtile,       // offset = n
  kLag,         // args[0] value; offset; default_value; ignore_nulls
  kLead,
  kFirstValue,  // args[0]; ignore_nulls; over the frame
  kLastValue,
  kNthValue,    // args[0]; offset = n (1-based); ignore_nulls; over the frame
  kAggregate,   // aggregate over the frame
};

struct WindowFunction {
  std::string name;  // output column name
  WindowFunctionKind kind = WindowFunctionKind::kRowNumber;
  std::vector<expr::ExprPtr> args;     // over the child's schema
  expr::ResolvedAggregate aggregate;   // kAggregate
  int64_t offset = 1;                  // lag/lead offset, ntile buckets, nth_value n
  std::shared_ptr<arrow::Scalar> default_value;  // lag/lead default (nullptr: NULL)
  bool ignore_nulls = false;
  /// Frame of kAggregate/kFirstValue/kLastValue/kNthValue; unset: Spark's default.
  std::shared_ptr<WindowFrame> frame;
  std::string text;  // for EXPLAIN
};

struct WindowOptions {
  std::vector<expr::ExprPtr> partition_by;
  std::vector<SortKey> order_by;
  std::vector<WindowFunction> functions;
};

class WindowNode : public PhysicalNode {
 public:
  static Result<std::shared_ptr<WindowNode>> Make(PhysicalNodePtr child, WindowOptions options);
  WindowNode(PhysicalNodePtr child, WindowOptions options, std::shared_ptr<arrow::Schema> schema);

  std::string ToString() const override;
  bool IsSource() const override { return true; }
  bool IsSink() const override { return true; }

  Status Prepare(ExecContext* ctx) override;
  Status Consume(int child, int thread, BatchPtr batch) override;
  Status FinishSink(int child) override;
  Result<BatchPtr> Next(int thread) override;

 private:
  struct Layout;
  Result<std::shared_ptr<arrow::Array>> Compute(const WindowFunction& f, const Layout& layout,
                                                const arrow::RecordBatch& sorted);

  WindowOptions options_;
  ExecContext* ctx_ = nullptr;
  std::vector<std::vector<BatchPtr>> buffers_;  // per thread
  std::atomic<int64_t> buffered_bytes_{0};
  std::vector<BatchPtr> output_;
  std::atomic<size_t> next_output_{0};
};

}  // namespace lakestream::exec
