// approx_count_distinct: Spark's HyperLogLog++ (HyperLogLogPlusPlusHelper),
// so that estimates are Spark's own and not just close to the true count.
#pragma once

#include <memory>

#include "expr/function.h"

namespace lakestream::expr::internal {

/// Register-index bits Spark derives from the relative standard deviation
/// (0.05 by default gives 9, i.e. 512 registers); an error below 4 bits.
Result<int> HyperLogLogPrecision(double relative_sd);

/// The aggregator of approx_count_distinct(x[, relativeSD]) with 2^precision
/// registers per group; its result is BIGINT, 0 for a group of only NULLs.
std::unique_ptr<GroupedAggregator> MakeHyperLogLogPlusPlus(int precision);

}  // namespace lakestream::expr::internal
