// Every statement of the SQL logic tests (tests/sql/**/*.test) that is expected
// to succeed must parse, and its canonical print must parse back to the same
// print. This keeps the parser in step with the SQL the engine is tested on.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sql/ast_printer.h"
#include "sql/parser.h"

namespace lakestream::sql {
namespace {

struct Record {
  std::string file;
  int line;
  std::string sql;
};

// `statement ok` and `query` records: the SQL runs from the header to a blank
// line or `----`.
std::vector<Record> LoadRecords() {
  std::vector<Record> out;
  std::filesystem::path root = std::filesystem::path(LAKESTREAM_SOURCE_DIR) / "tests" / "sql";
  if (!std::filesystem::exists(root)) return out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".test") continue;
    std::ifstream in(entry.path());
    std::string line;
    int n = 0;
    bool in_sql = false;
    Record rec;
    auto flush = [&] {
      if (in_sql && !rec.sql.empty()) out.push_back(rec);
      in_sql = false;
    };
    while (std::getline(in, line)) {
      ++n;
      if (!in_sql) {
        if (line.rfind("statement ok", 0) == 0 || line.rfind("query", 0) == 0) {
          in_sql = true;
          rec = Record{entry.path().lexically_relative(root).string(), n, ""};
        }
        continue;
      }
      if (line.empty() || line.rfind("----", 0) == 0) {
        flush();
        continue;
      }
      rec.sql += line + "\n";
    }
    flush();
  }
  return out;
}

TEST(LogicCorpus, EveryPassingStatementParses) {
  auto records = LoadRecords();
  if (records.empty()) GTEST_SKIP() << "no tests/sql/**/*.test files";
  int parsed = 0;
  for (const auto& r : records) {
    auto stmts = ParseStatements(r.sql);
    EXPECT_TRUE(stmts.ok()) << r.file << ":" << r.line << ": " << stmts.status().message() << "\n"
                            << r.sql;
    if (!stmts.ok()) continue;
    ++parsed;
    for (const auto& s : *stmts) {
      if (s->type != StatementType::kQuery) continue;
      std::string printed = ToString(*s);
      auto again = ParseStatement(printed);
      EXPECT_TRUE(again.ok()) << r.file << ":" << r.line
                              << ": printed form does not parse: " << printed << "\n"
                              << again.status().message();
      if (again.ok()) {
        EXPECT_EQ(ToString(**again), printed) << r.file << ":" << r.line;
      }
    }
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace lakestream::sql
