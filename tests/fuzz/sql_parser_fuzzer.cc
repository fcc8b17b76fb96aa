// libFuzzer target for the SQL front end: splitting, tokenizing and parsing
// arbitrary bytes must never crash, hang or recurse without bound, and every
// query that parses must print (ast_printer) to text that parses again to the
// same printed form.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sql/ast_printer.h"
#include "sql/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lakestream::sql;
  std::string_view sql(reinterpret_cast<const char*>(data), size);
  bool incomplete = false;
  (void)SplitStatements(sql, &incomplete);
  (void)ParseExpression(sql);
  auto parsed = ParseStatements(sql);
  if (!parsed.ok()) return 0;
  for (const auto& stmt : *parsed) {
    if (stmt->type != StatementType::kQuery) continue;
    std::string printed = ToString(*stmt);
    auto again = ParseStatement(printed);
    // Printing adds parentheses, so a query near the nesting cap may exceed it.
    if (!again.ok() && again.status().message().find("too deeply nested") != std::string::npos)
      continue;
    if (!again.ok()) {
      fprintf(stderr,
              "printed query does not parse:\n  input:   %s\n  printed: %s\n  error:   %s\n",
              stmt->text.c_str(), printed.c_str(), again.status().ToString().c_str());
      abort();
    }
    std::string reprinted = ToString(**again);
    if (reprinted != printed) {
      fprintf(stderr, "printing is not stable:\n  input:   %s\n  printed: %s\n  again:   %s\n",
              stmt->text.c_str(), printed.c_str(), reprinted.c_str());
      abort();
    }
  }
  return 0;
}
