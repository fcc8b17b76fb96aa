// Filters proven by Delta file statistics (OptimizeBatch): a conjunct that
// holds for every row of every file kept after pruning is left out of the
// Filter, and with it the column only it reads; a file with a NULL, a range
// that cuts through a file, a string or timestamp column (inexact stats) and
// a table changed after planning keep the filter. Results never change.
#include <gtest/gtest.h>

#include <filesystem>

#include "plan/binder.h"
#include "plan/physical_planner.h"
#include "plan/session.h"
#include "plan_test_util.h"
#include "sql/parser.h"

namespace lakestream::plan {
namespace {

class ProvenFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_util::FreshTestDir("lakestream-proven");
    t_ = "delta.`" + dir_.string() + "`";
    // Three files: k in [0, 9], [10, 19] and [20, 29] (with one NULL k).
    Exec("CREATE TABLE " + t_ +
         " AS SELECT id AS k, id * 2 AS v, CAST(id AS STRING) AS s FROM range(0, 10)");
    Exec("INSERT INTO " + t_ + " SELECT id, id * 2, CAST(id AS STRING) FROM range(10, 20)");
    Exec("INSERT INTO " + t_ +
         " SELECT CASE WHEN id = 25 THEN NULL ELSE id END, id * 2, CAST(id AS STRING) "
         "FROM range(20, 30)");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Exec(const std::string& sql) {
    auto r = s_.ExecuteSql(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  }

  // EXPLAIN text of the physical plan (a Filter node shows as "+- Filter").
  std::string Explain(const std::string& sql) {
    auto r = s_.ExecuteSql("EXPLAIN " + sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    return (*r->batches[0]->column(0)->GetScalar(0))->ToString();
  }

  // The one row `sql` returns ("" for none; several rows would run together).
  std::string One(const std::string& sql) {
    std::string out;
    for (const auto& row : test_util::QueryRows(s_, sql)) out += row;
    return out;
  }

  Session s_;
  std::filesystem::path dir_;
  std::string t_;
};

TEST_F(ProvenFilterTest, RangeCoveringKeptFilesIsNotEvaluated) {
  const std::string q = "SELECT count(*), sum(v) FROM " + t_ + " WHERE k BETWEEN 10 AND 19";
  auto plan = Explain(q);
  EXPECT_EQ(plan.find("+- Filter"), std::string::npos) << plan;
  EXPECT_NE(plan.find("files=1 pruned=2"), std::string::npos) << plan;
  EXPECT_NE(plan.find("columns=[v]"), std::string::npos) << plan;  // k is not read
  EXPECT_EQ(One(q), "10|290");
  // Wider than the data: both files inside it are proven.
  EXPECT_EQ(One("SELECT count(*), sum(v) FROM " + t_ + " WHERE k >= -5 AND k < 20"), "20|380");
  EXPECT_EQ(Explain("SELECT count(*) FROM " + t_ + " WHERE k >= -5 AND k < 20").find("+- Filter"),
            std::string::npos);
}

TEST_F(ProvenFilterTest, PartlyCoveredOrNullableFilesKeepTheFilter) {
  // Cuts through the second file.
  const std::string cut = "SELECT count(*), sum(v) FROM " + t_ + " WHERE k BETWEEN 10 AND 14";
  EXPECT_NE(Explain(cut).find("+- Filter"), std::string::npos);
  EXPECT_EQ(One(cut), "5|120");
  // The third file's range is inside, but it holds a NULL k: NULL rows fail.
  const std::string nulls = "SELECT count(*), sum(v) FROM " + t_ + " WHERE k >= 20";
  EXPECT_NE(Explain(nulls).find("+- Filter"), std::string::npos);
  EXPECT_EQ(One(nulls), "9|440");
  // IS NOT NULL is proven for the first two files only.
  const std::string not_null = "SELECT count(*) FROM " + t_ + " WHERE k IS NOT NULL AND k < 20";
  EXPECT_EQ(Explain(not_null).find("+- Filter"), std::string::npos);
  EXPECT_EQ(One(not_null), "20");
  EXPECT_EQ(One("SELECT count(*) FROM " + t_ + " WHERE k IS NOT NULL"), "29");
}

TEST_F(ProvenFilterTest, InexactStatisticsKeepTheFilter) {
  // String stats are truncated prefixes: never a proof.
  const std::string q = "SELECT count(*) FROM " + t_ + " WHERE s >= '0'";
  EXPECT_NE(Explain(q).find("+- Filter"), std::string::npos);
  EXPECT_EQ(One(q), "30");
}

TEST_F(ProvenFilterTest, StreamingPlansKeepTheFilter) {
  // Optimize (not OptimizeBatch) is what a streaming query re-plans from: the
  // table may get files outside the range between micro-batches.
  auto stmt = sql::ParseStatement("SELECT count(*) FROM " + t_ + " WHERE k BETWEEN 10 AND 19");
  ASSERT_TRUE(stmt.ok());
  auto bound = BindQuery(&s_, *(*stmt)->query);
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  auto plan = Optimize(*bound);
  ASSERT_TRUE(plan.ok());
  EXPECT_NE(ExplainLogical(**plan).find("+- Filter"), std::string::npos);
}

}  // namespace
}  // namespace lakestream::plan
