// See quantile_summary.h. Method names follow QuantileSummaries.scala so the
// two can be read side by side.
#include "expr/quantile_summary.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

namespace lakestream::expr::internal {

namespace {

// Scala's Array[Double].sorted: java.lang.Double.compare (-0.0 < 0.0, NaN last).
bool JavaDoubleLess(double a, double b) {
  if (a < b) return true;
  if (a > b) return false;
  auto bits = [](double v) {
    if (std::isnan(v)) return int64_t{0x7ff8000000000000};
    int64_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
  };
  return bits(a) < bits(b);
}

}  // namespace

void QuantileSummary::Insert(double x) {
  head_.push_back(x);
  compressed_ = false;
  if (static_cast<int>(head_.size()) >= kHeadSize) {
    InsertHead();
    if (static_cast<int>(sampled_.size()) >= kCompressThreshold) Compress();
  }
}

void QuantileSummary::InsertHead() {
  if (head_.empty()) return;
  int64_t current_count = count_;
  std::vector<double> sorted = std::move(head_);
  head_.clear();
  std::sort(sorted.begin(), sorted.end(), JavaDoubleLess);
  std::vector<Stats> out;
  out.reserve(sampled_.size() + sorted.size());
  size_t sample_idx = 0;
  for (size_t ops_idx = 0; ops_idx < sorted.size(); ++ops_idx) {
    const double current = sorted[ops_idx];
    while (sample_idx < sampled_.size() && sampled_[sample_idx].value <= current) {
      out.push_back(sampled_[sample_idx++]);
    }
    ++current_count;
    // The first and the last value of the summary are exact.
    const bool exact =
        out.empty() || (sample_idx == sampled_.size() && ops_idx == sorted.size() - 1);
    const int64_t delta = exact ? 0
                                : static_cast<int64_t>(std::floor(
                                      2 * relative_error_ * static_cast<double>(current_count)));
    out.push_back({current, 1, delta});
  }
  while (sample_idx < sampled_.size()) out.push_back(sampled_[sample_idx++]);
  sampled_ = std::move(out);
  count_ = current_count;
}

void QuantileSummary::Compress() {
  InsertHead();
  sampled_ = CompressSamples(sampled_, 2 * relative_error_ * static_cast<double>(count_));
  compressed_ = true;
}

std::vector<QuantileSummary::Stats> QuantileSummary::CompressSamples(
    const std::vector<Stats>& samples, double threshold) {
  if (samples.empty()) return {};
  // Built back to front (Spark prepends to a list); reversed at the end.
  std::vector<Stats> res;
  Stats head = samples.back();
  for (int64_t i = static_cast<int64_t>(samples.size()) - 2; i >= 1; --i) {
    const Stats& s = samples[i];
    if (static_cast<double>(s.g + head.g + head.delta) < threshold) {
      head.g += s.g;  // merged into the head, not kept
    } else {
      res.push_back(head);
      head = s;
    }
  }
  res.push_back(head);
  // The minimum stays, unless it is the only sample (then it is `head` already).
  if (samples.front().value <= head.value && samples.size() > 1) res.push_back(samples.front());
  std::reverse(res.begin(), res.end());
  return res;
}

void QuantileSummary::Merge(const QuantileSummary& other_in) {
  if (!compressed_) Compress();
  QuantileSummary other = other_in;
  if (!other.compressed_) other.Compress();
  if (other.count_ == 0) return;
  if (count_ == 0) {
    *this = other;
    return;
  }
  const double merged_error = std::max(relative_error_, other.relative_error_);
  const int64_t merged_count = count_ + other.count_;
  const auto extra_self = static_cast<int64_t>(
      std::floor(2 * other.relative_error_ * static_cast<double>(other.count_)));
  const auto extra_other =
      static_cast<int64_t>(std::floor(2 * relative_error_ * static_cast<double>(count_)));
  std::vector<Stats> merged;
  merged.reserve(sampled_.size() + other.sampled_.size());
  size_t si = 0, oi = 0;
  while (si < sampled_.size() && oi < other.sampled_.size()) {
    Stats next;
    if (sampled_[si].value < other.sampled_[oi].value) {
      next = sampled_[si++];
      if (oi > 0) next.delta += extra_self;
    } else {
      next = other.sampled_[oi++];
      if (si > 0) next.delta += extra_other;
    }
    merged.push_back(next);
  }
  while (si < sampled_.size()) merged.push_back(sampled_[si++]);
  while (oi < other.sampled_.size()) merged.push_back(other.sampled_[oi++]);
  sampled_ = CompressSamples(merged, 2 * merged_error * static_cast<double>(merged_count));
  relative_error_ = merged_error;
  count_ = merged_count;
  compressed_ = true;
}

std::vector<double> QuantileSummary::Query(const std::vector<double>& percentiles) {
  if (!compressed_) Compress();
  if (sampled_.empty() || count_ == 0) return {};
  int64_t max_span = std::numeric_limits<int64_t>::min();
  for (const auto& s : sampled_) max_span = std::max(max_span, s.delta + s.g);
  const double target_error = static_cast<double>(max_span / 2);  // Long division, as Spark
  size_t index = 0;
  int64_t min_rank = sampled_[0].g;
  std::vector<size_t> order(percentiles.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return percentiles[a] < percentiles[b]; });
  std::vector<double> result(percentiles.size(), 0.0);
  for (size_t pos : order) {
    const double p = percentiles[pos];
    if (p <= relative_error_) {
      result[pos] = sampled_.front().value;
      continue;
    }
    if (p >= 1 - relative_error_) {
      result[pos] = sampled_.back().value;
      continue;
    }
    // findApproxQuantile, resuming where the previous percentile stopped.
    const auto rank = static_cast<int64_t>(std::ceil(p * static_cast<double>(count_)));
    size_t i = index;
    int64_t rank_at = min_rank;
    double value = sampled_.back().value;
    size_t new_index = sampled_.size() - 1;
    int64_t new_min_rank = 0;
    while (i < sampled_.size() - 1) {
      const Stats& cur = sampled_[i];
      const auto max_rank = static_cast<double>(rank_at + cur.delta);
      if (max_rank - target_error <= static_cast<double>(rank) &&
          static_cast<double>(rank) <= static_cast<double>(rank_at) + target_error) {
        new_index = i;
        new_min_rank = rank_at;
        value = cur.value;
        break;
      }
      ++i;
      rank_at += sampled_[i].g;
    }
    index = new_index;
    min_rank = new_min_rank;
    result[pos] = value;
  }
  return result;
}

}  // namespace lakestream::expr::internal
