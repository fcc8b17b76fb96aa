// Prints the syntax tree back as canonical Spark SQL: every operator fully
// parenthesized, identifiers backquoted when needed, literals in a form that
// parses back to the same tree. Tests use it to check structure and
// precedence, EXPLAIN uses it to show the parsed statement, and the fuzzer
// checks that printing and re-parsing is stable.
#pragma once

#include <string>

#include "sql/ast.h"

namespace lakestream::sql {

std::string ToString(const AstExpr& expr);
std::string ToString(const WindowSpec& window);
std::string ToString(const TableRef& ref);
std::string ToString(const Query& query);
std::string ToString(const Statement& stmt);

/// `name` backquoted if it is not a plain identifier or is a reserved word.
std::string QuoteIdentifier(const std::string& name);

}  // namespace lakestream::sql
