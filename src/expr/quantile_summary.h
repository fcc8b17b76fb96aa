// Spark's QuantileSummaries (catalyst/util/QuantileSummaries.scala), the
// Greenwald-Khanna summary behind percentile_approx / approx_percentile
// (ApproximatePercentile.PercentileDigest). Spark's answer is whatever this
// summary answers, not the exact percentile: with relative error 1/accuracy
// it compresses as soon as it holds more than 1/(2 * error) values, so the
// algorithm is reproduced step for step (head buffer of 50000, compression at
// 10000 samples, the same merge threshold, ranks and tie rules) to give the
// same values. Ours: nothing but Spark's algorithm.
#pragma once

#include <cstdint>
#include <vector>

namespace lakestream::expr::internal {

class QuantileSummary {
 public:
  /// Spark's defaults (QuantileSummaries object).
  static constexpr int kCompressThreshold = 10000;
  static constexpr int kHeadSize = 50000;

  explicit QuantileSummary(double relative_error) : relative_error_(relative_error) {}

  /// QuantileSummaries.insert: buffers `x`; every kHeadSize values the buffer
  /// is sorted into the samples, which are compressed past kCompressThreshold.
  void Insert(double x);
  /// QuantileSummaries.compress: the buffer inserted, the samples compressed.
  void Compress();
  /// QuantileSummaries.merge of two compressed summaries.
  void Merge(const QuantileSummary& other);
  /// QuantileSummaries.query(percentiles) on the compressed summary: one value
  /// per percentile, in the order given. Empty when no value was inserted.
  std::vector<double> Query(const std::vector<double>& percentiles);

  int64_t count() const { return count_ + static_cast<int64_t>(head_.size()); }

 private:
  struct Stats {
    double value;
    int64_t g;      // minimum rank jump from the previous sample
    int64_t delta;  // maximum span of the rank
  };
  void InsertHead();  // withHeadBufferInserted
  static std::vector<Stats> CompressSamples(const std::vector<Stats>& samples, double threshold);

  double relative_error_;
  std::vector<Stats> sampled_;
  int64_t count_ = 0;  // values in sampled_ (not in head_)
  std::vector<double> head_;
  bool compressed_ = true;  // PercentileDigest starts compressed (and empty)
};

}  // namespace lakestream::expr::internal
