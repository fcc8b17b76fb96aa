// Helpers shared by the DDL printer (types.cc) and parser (ddl.cc).
#pragma once

#include <string>
#include <string_view>

namespace lakestream::types::internal {

/// True unless `name` matches Spark's [a-zA-Z0-9_]+ with at least one non-digit.
bool NeedsQuoting(std::string_view name);
/// `name` backquoted (with ` doubled) when NeedsQuoting, else unchanged.
std::string QuoteIfNeeded(std::string_view name);
/// 'text' with backslash escapes for \ and ' (Spark's escapeSingleQuotedString).
std::string QuoteStringLiteral(std::string_view s);

}  // namespace lakestream::types::internal
