// Column pruning in the optimizer: every node keeps only the columns some
// node above reads, so scans under joins, filters, sorts and windows read
// only those, and results do not change.
#include <gtest/gtest.h>

#include "plan/session.h"
#include "plan_test_util.h"
#include "sql/parser.h"

namespace lakestream::plan {
namespace {

// The widths of the scans of a plan, left to right.
void ScanWidths(const LogicalNode& n, std::vector<int>* out) {
  if (n.kind == LogicalKind::kScan) out->push_back(n.schema->num_fields());
  for (const auto& c : n.children) ScanWidths(*c, out);
}

class ColumnPruningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(s_.ExecuteSql("CREATE TEMP VIEW f AS SELECT * FROM VALUES (1, 10, 'x', 1.5, 7), "
                              "(2, 20, 'y', 2.5, 8), (3, 10, 'z', 3.5, 9) AS t(id, k, s, v, q)")
                    .ok());
    ASSERT_TRUE(s_.ExecuteSql("CREATE TEMP VIEW d AS SELECT * FROM VALUES (10, 'ten', 100), "
                              "(20, 'twenty', 200) AS t(k, name, w)")
                    .ok());
  }

  std::vector<int> Widths(const std::string& sql) {
    auto stmt = sql::ParseStatement(sql);
    EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
    std::vector<int> out;
    if (!stmt.ok() || !(*stmt)->query) return out;
    auto plan = s_.PlanQuery(*(*stmt)->query);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    if (plan.ok()) ScanWidths(**plan, &out);
    return out;
  }

  std::vector<std::string> Rows(const std::string& sql) { return test_util::QueryRows(s_, sql); }

  Session s_;
};

TEST_F(ColumnPruningTest, JoinInputsReadOnlyTheColumnsUsed) {
  const std::string q = "SELECT count(*), sum(f.v * d.w) FROM f JOIN d ON f.k = d.k";
  EXPECT_EQ(Widths(q), (std::vector<int>{2, 2}));  // f: k, v; d: k, w
  EXPECT_EQ(Rows(q), (std::vector<std::string>{"3|1000.0"}));
}

TEST_F(ColumnPruningTest, FilterSortAndWindowKeepWhatTheyRead) {
  EXPECT_EQ(Widths("SELECT id FROM f WHERE q > 7 ORDER BY v DESC"), (std::vector<int>{3}));
  EXPECT_EQ(Rows("SELECT id FROM f WHERE q > 7 ORDER BY v DESC"),
            (std::vector<std::string>{"3", "2"}));
  EXPECT_EQ(Widths("SELECT id, row_number() OVER (PARTITION BY k ORDER BY v) AS r FROM f"),
            (std::vector<int>{3}));
  EXPECT_EQ(
      Rows("SELECT id, row_number() OVER (PARTITION BY k ORDER BY v) AS r FROM f ORDER BY id"),
      (std::vector<std::string>{"1|1", "2|1", "3|2"}));
}

TEST_F(ColumnPruningTest, OuterAndSemiJoinsKeepTheirSemantics) {
  EXPECT_EQ(Rows("SELECT f.id, d.name FROM f LEFT JOIN d ON f.k = d.k AND d.w > 150 ORDER BY f.id"),
            (std::vector<std::string>{"1|null", "2|twenty", "3|null"}));
  EXPECT_EQ(Widths("SELECT id FROM f LEFT SEMI JOIN d ON f.k = d.k"), (std::vector<int>{2, 1}));
  EXPECT_EQ(Rows("SELECT id FROM f LEFT SEMI JOIN d ON f.k = d.k ORDER BY id"),
            (std::vector<std::string>{"1", "2", "3"}));
}

TEST_F(ColumnPruningTest, CountStarReadsNoColumn) {
  EXPECT_EQ(Rows("SELECT count(*) FROM f JOIN d ON f.k = d.k"), (std::vector<std::string>{"3"}));
  EXPECT_EQ(Rows("SELECT count(*) FROM (SELECT * FROM f UNION ALL SELECT * FROM f)"),
            (std::vector<std::string>{"6"}));
}

}  // namespace
}  // namespace lakestream::plan
