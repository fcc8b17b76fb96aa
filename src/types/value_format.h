// Text form of values as Spark shows them (CAST(x AS STRING) and the CLI):
// timestamps "YYYY-MM-DD HH:MM:SS[.ffffff]" in the session time zone, doubles
// as Java prints them ("1.0E10", "NaN", "Infinity"), decimals with their scale,
// arrays "[1, 2]", maps "{a -> 1}", structs "{1, x}".
#pragma once

#include <arrow/array.h>

#include <string>

#include "common/status.h"

namespace lakestream::types {

struct FormatOptions {
  std::string time_zone = "UTC";
  /// Text for NULL at the top level ("NULL" in tables, "" in CSV).
  std::string null_text = "NULL";
};

/// Formats element `i` of `array` (must not be null at the top level unless
/// null_text is wanted).
std::string FormatValue(const arrow::Array& array, int64_t i, const FormatOptions& options);

/// Converts a whole array to Spark's string form (a utf8 array); NULL stays NULL.
Result<std::shared_ptr<arrow::Array>> FormatArray(const arrow::Array& array,
                                                  const FormatOptions& options);

/// Java's Double.toString / Float.toString spelling, which Spark uses.
std::string FormatDouble(double v);
std::string FormatFloat(float v);

}  // namespace lakestream::types
