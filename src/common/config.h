// Session configuration: the `SET key = value` settings a query runs under,
// with Spark's keys. Plain data; read by the binder and the evaluator.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace lakestream {

struct SessionConfig {
  /// spark.sql.ansi.enabled (default true in Spark 4): overflow, division by
  /// zero and invalid casts raise errors instead of returning NULL.
  bool ansi = true;
  /// spark.sql.session.timeZone (default UTC here): display and parsing of TIMESTAMP.
  std::string time_zone = "UTC";
  /// spark.sql.caseSensitive (default false).
  bool case_sensitive = false;
  /// spark.sql.shuffle.partitions (default 8): partitions of stateful streaming operators.
  int shuffle_partitions = 8;
  /// lakestream.memory.limit bytes for hash tables (default 8 GiB); past it an
  /// operator fails with a clear error.
  int64_t memory_limit = int64_t{8} << 30;
  /// lakestream.threads (default: hardware concurrency).
  int threads = 0;
  /// Every key set, as given, so SET with no arguments can list them.
  std::map<std::string, std::string> raw;

  /// Applies `SET key = value`; unknown keys are kept in `raw` (as Spark does).
  /// Returns false with `error` set if a known key has a bad value.
  bool Set(const std::string& key, const std::string& value, std::string* error);
};

}  // namespace lakestream
