// Helpers shared by the aggregate functions (aggregate_functions.cc) and the
// operators that drive them (exec/hash_aggregate, exec/window): turning Datums
// into arrays, building arrays from flat vectors, and Spark's total order on
// values (NaN greater than every other value, -0.0 equal to 0.0).
#pragma once

#include <arrow/array.h>
#include <arrow/datum.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "expr/function.h"

namespace lakestream::expr::internal {

using ArrayPtr = std::shared_ptr<arrow::Array>;

/// `d` as an array of `length` rows: arrays pass through, scalars are
/// broadcast, chunked arrays are concatenated.
Result<ArrayPtr> ToArray(const arrow::Datum& d, int64_t length,
                         arrow::MemoryPool* pool = arrow::default_memory_pool());

/// Builds a fixed-width array (ints, floats, dates, timestamps; __int128 for
/// decimal128) from `values`; `valid` (one byte per row, may be null) marks non-NULL rows.
template <typename T>
Result<ArrayPtr> MakeFixedArray(const types::TypePtr& type, const std::vector<T>& values,
                                const std::vector<uint8_t>* valid,
                                arrow::MemoryPool* pool = arrow::default_memory_pool());

/// Builds a boolean array from one byte per value.
Result<ArrayPtr> MakeBoolArray(const std::vector<uint8_t>& values, const std::vector<uint8_t>* valid,
                               arrow::MemoryPool* pool = arrow::default_memory_pool());

/// Spark's ordering of floating point values: NaN is the greatest value and
/// equal to itself; -0.0 == 0.0.
template <typename T>
inline bool SparkLess(const T& a, const T& b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
  }
  return a < b;
}

/// Reads a 16-byte little-endian decimal128 value.
inline __int128 LoadDecimal(const uint8_t* p) {
  __int128 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

/// 10^n as __int128 for n in [0, 38].
__int128 Pow10(int n);

}  // namespace lakestream::expr::internal
