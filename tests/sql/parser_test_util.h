// Helpers for the parser tests: parse and print back canonically, and check
// that printing is a fixed point of parse (print(parse(print(x))) == print(x)).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "sql/ast_printer.h"
#include "sql/parser.h"

namespace lakestream::sql::testing {

/// Canonical form of one statement, or "ERROR: <message>".
inline std::string Stmt(const std::string& sql) {
  auto r = ParseStatement(sql);
  if (!r.ok()) return "ERROR: " + r.status().message();
  std::string printed = ToString(**r);
  auto again = ParseStatement(printed);
  EXPECT_TRUE(again.ok()) << "printed form does not parse: " << printed << "\n"
                          << again.status().ToString();
  if (again.ok()) {
    EXPECT_EQ(ToString(**again), printed) << "printing is not stable for: " << sql;
  }
  return printed;
}

/// Canonical form of an expression, or "ERROR: <message>".
inline std::string Expr(const std::string& sql) {
  auto r = ParseExpression(sql);
  if (!r.ok()) return "ERROR: " + r.status().message();
  std::string printed = ToString(**r);
  auto again = ParseExpression(printed);
  EXPECT_TRUE(again.ok()) << "printed form does not parse: " << printed << "\n"
                          << again.status().ToString();
  if (again.ok()) {
    EXPECT_EQ(ToString(**again), printed) << "printing is not stable for: " << sql;
  }
  return printed;
}

/// Spark's default column name for an expression.
inline std::string ColName(const std::string& sql) {
  auto r = ParseExpression(sql);
  if (!r.ok()) return "ERROR: " + r.status().message();
  return (*r)->sql_text;
}

/// The error message for a statement that must fail.
inline std::string StmtError(const std::string& sql) {
  auto r = ParseStatements(sql);
  if (r.ok()) return "OK";
  return r.status().message();
}

inline QueryPtr ParseQueryOrDie(const std::string& sql) {
  auto r = ParseStatement(sql);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return nullptr;
  EXPECT_EQ((*r)->type, StatementType::kQuery);
  return (*r)->query;
}

}  // namespace lakestream::sql::testing
