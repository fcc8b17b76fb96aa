// Timestamps in Delta statistics and partition values are microseconds (the
// protocol's `timestamp` type); Arrow timestamps of any unit are brought to
// them here, by the writer (stats it writes) and the scan (predicates it
// prunes with), so both round the same way.
#pragma once

#include <arrow/type.h>

#include <cstdint>

namespace lakestream::delta {

/// `v` in `t`'s unit as microseconds, rounded toward negative infinity (a
/// timestamp's microsecond is the one it falls in, before 1970 too: -1500 ns
/// is in the microsecond -2, not -1).
inline int64_t TimestampToMicros(const arrow::TimestampType& t, int64_t v) {
  switch (t.unit()) {
    case arrow::TimeUnit::SECOND:
      return v * 1000000;
    case arrow::TimeUnit::MILLI:
      return v * 1000;
    case arrow::TimeUnit::MICRO:
      return v;
    case arrow::TimeUnit::NANO:
      return v / 1000 - (v % 1000 < 0 ? 1 : 0);
  }
  return v;
}

}  // namespace lakestream::delta
