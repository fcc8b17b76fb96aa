// Spark's value hashes (hash_functions.cc) for other parts of expr that must
// hash exactly as Spark does (approx_count_distinct's HyperLogLog++).
#pragma once

#include <arrow/array.h>

#include <cstdint>

#include "common/status.h"

namespace lakestream::expr::internal {

/// Spark's XxHash64Function.hash of element i of `a` with `seed` (xxhash64()
/// of one argument when seed = 42); a NULL element returns `seed`.
Result<uint64_t> SparkXxHash64(const arrow::Array& a, int64_t i, uint64_t seed);

}  // namespace lakestream::expr::internal
