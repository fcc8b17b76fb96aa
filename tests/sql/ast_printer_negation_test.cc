// Regression test (found by tests/fuzz/sql_parser_fuzzer): a minus applied to
// a parenthesized number literal must print back to SQL that keeps it a
// negation, not a negative literal of a different type, so printing is stable.
#include <gtest/gtest.h>

#include "sql/ast_printer.h"
#include "sql/parser.h"

namespace lakestream::sql {
namespace {

TEST(AstPrinterNegation, NegatedNumberLiteralStaysNegation) {
  for (const char* sql : {"SELECT -(02147483648)", "SELECT -(1)", "SELECT -(1.5)", "SELECT -(2e3)"}) {
    auto parsed = ParseStatement(sql);
    ASSERT_TRUE(parsed.ok()) << sql << ": " << parsed.status().ToString();
    std::string printed = ToString(**parsed);
    EXPECT_NE(printed.find("(- ("), std::string::npos) << sql << " printed as " << printed;
    auto again = ParseStatement(printed);
    ASSERT_TRUE(again.ok()) << printed << ": " << again.status().ToString();
    EXPECT_EQ(ToString(**again), printed) << sql;
  }
  // A literal minus still folds into the number.
  auto folded = ParseStatement("SELECT -1");
  ASSERT_TRUE(folded.ok());
  EXPECT_EQ(ToString(**folded).find("(- "), std::string::npos);
}

}  // namespace
}  // namespace lakestream::sql
