// Spark SQL text -> statements. Hand-written recursive descent with Spark's
// precedence; identifiers are case-insensitive (kept as written, compared
// lower-cased by the binder) and may be backquoted. Errors name line, column
// and what was expected: "[PARSE_SYNTAX_ERROR] line 1:15: expected ')' but found 'FROM'".
#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"
#include "sql/ast.h"

namespace lakestream::sql {

/// Parses one or more statements separated by ';'.
Result<std::vector<StatementPtr>> ParseStatements(std::string_view sql);
/// Parses exactly one statement (a trailing ';' is allowed).
Result<StatementPtr> ParseStatement(std::string_view sql);
/// Parses a standalone expression (for the C++/Python API: filter("a > 1")).
Result<AstExprPtr> ParseExpression(std::string_view sql);
/// Splits a script into statement texts at top-level ';' (respecting quotes and
/// comments) without parsing them: the CLI's multi-line shell uses it.
std::vector<std::string> SplitStatements(std::string_view sql, bool* incomplete);

}  // namespace lakestream::sql
