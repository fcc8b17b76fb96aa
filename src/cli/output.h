// Result printing for the CLI: Spark-style tables, RFC 4180 CSV, JSON lines,
// and the machine protocol of `lakestream sql --jsonl`.
#pragma once

#include <ostream>
#include <string>

#include "plan/session.h"

namespace lakestream::cli {

enum class OutputFormat { kTable, kCsv, kJson };

void PrintResult(const plan::QueryResult& r, OutputFormat format, const std::string& time_zone, std::ostream& out);

/// {"ok":true,"columns":[...],"types":[...],"rows":[[...]]}; values as Spark's CAST(x AS STRING).
std::string ResultToJsonLine(const plan::QueryResult& r, const std::string& time_zone);
std::string ErrorToJsonLine(const std::string& message);
std::string JsonEscape(const std::string& s);

}  // namespace lakestream::cli
