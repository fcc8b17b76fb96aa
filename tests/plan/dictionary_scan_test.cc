// STRING columns kept dictionary-encoded from a Delta scan to the aggregate:
// CASE and boolean expressions over one such column are evaluated per
// dictionary entry (and for NULL) and gathered by index, count(DISTINCT)
// without GROUP BY marks entries instead of hashing. NULLs, several batches
// (each with its own dictionary) and GROUP BY must give the per-row answer.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "plan/session.h"
#include "plan_test_util.h"

namespace lakestream::plan {
namespace {

constexpr int64_t kRows = 200000;  // several 64Ki-row batches

// s as the table holds it: NULL for id % 7 == 0, else 'v' || (id % 5).
std::optional<std::string> S(int64_t id) {
  if (id % 7 == 0) return std::nullopt;
  return "v" + std::to_string(id % 5);
}

class DictionaryScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_util::FreshTestDir("lakestream-dict");
    t_ = "delta.`" + dir_.string() + "`";
    auto r = s_.ExecuteSql("CREATE TABLE " + t_ +
                           " AS SELECT id, CASE WHEN id % 7 = 0 THEN NULL ELSE "
                           "concat('v', CAST(id % 5 AS STRING)) END AS s FROM range(0, " +
                           std::to_string(kRows) + ")");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Sorted: the tests compare sets of rows.
  std::vector<std::string> Rows(const std::string& sql) {
    auto out = test_util::QueryRows(s_, sql);
    std::sort(out.begin(), out.end());
    return out;
  }

  Session s_;
  std::filesystem::path dir_;
  std::string t_;
};

TEST_F(DictionaryScanTest, CaseAndDistinctOverDictionaryMatchPerRowAnswers) {
  const std::string q =
      "SELECT count(*), sum(CASE WHEN s = 'v1' THEN 1 ELSE 0 END), "
      "sum(CASE WHEN s IS NULL THEN 1 ELSE 0 END), count(DISTINCT s), "
      "sum(CASE WHEN s = 'v2' OR s IS NULL THEN 2 END) FROM " +
      t_;
  auto plan = Rows("EXPLAIN " + q);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_NE(plan[0].find("dictionary=[s]"), std::string::npos) << plan[0];
  int64_t v1 = 0, nulls = 0, v2_or_null = 0;
  for (int64_t id = 0; id < kRows; ++id) {
    auto s = S(id);
    v1 += s == "v1";
    nulls += !s;
    v2_or_null += (!s || s == "v2") ? 2 : 0;
  }
  EXPECT_EQ(Rows(q),
            (std::vector<std::string>{std::to_string(kRows) + "|" + std::to_string(v1) + "|" +
                                      std::to_string(nulls) + "|5|" + std::to_string(v2_or_null)}));
}

TEST_F(DictionaryScanTest, DistinctPerGroupAndUnderAFilter) {
  // GROUP BY takes the hashing path; a filter selects rows before the CASE.
  EXPECT_EQ(Rows("SELECT id % 2 AS g, count(DISTINCT s) FROM " + t_ + " GROUP BY id % 2"),
            (std::vector<std::string>{"0|5", "1|5"}));
  int64_t v3 = 0;
  std::set<std::string> distinct;
  for (int64_t id = 0; id < kRows; ++id) {
    if (id % 3 != 0) continue;
    auto s = S(id);
    v3 += s == "v3" ? 10 : 1;
    if (s && id < 1000) distinct.insert(*s);
  }
  EXPECT_EQ(
      Rows("SELECT sum(CASE WHEN s = 'v3' THEN 10 ELSE 1 END) FROM " + t_ + " WHERE id % 3 = 0"),
      (std::vector<std::string>{std::to_string(v3)}));
  EXPECT_EQ(Rows("SELECT count(DISTINCT s) FROM " + t_ + " WHERE id < 1000 AND id % 3 = 0"),
            (std::vector<std::string>{std::to_string(distinct.size())}));
}

TEST_F(DictionaryScanTest, ReadFilesParquetThroughProjections) {
  // The table's data files read as plain Parquet; projections between the
  // filter and the aggregate compare s with a literal and pass it on to
  // count(DISTINCT).
  auto r = s_.ExecuteSql("CREATE OR REPLACE TEMP VIEW f AS SELECT * FROM read_files('" +
                         dir_.string() + "', format => 'parquet')");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string q =
      "SELECT count(*), sum(id2), sum(is_v1), count(DISTINCT s) FROM "
      "(SELECT id * 2 AS id2, CASE WHEN s = 'v1' THEN 1 ELSE 0 END AS is_v1, s FROM f "
      "WHERE s <> 'v3' AND id % 2 = 0)";
  auto plan = Rows("EXPLAIN " + q);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_NE(plan[0].find("dictionary=[s]"), std::string::npos) << plan[0];
  int64_t n = 0, id2 = 0, v1 = 0;
  for (int64_t id = 0; id < kRows; ++id) {
    auto s = S(id);
    if (!s || s == "v3" || id % 2 != 0) continue;  // NULL <> 'v3' is NULL: dropped
    ++n;
    id2 += id * 2;
    v1 += s == "v1";
  }
  EXPECT_EQ(Rows(q), (std::vector<std::string>{std::to_string(n) + "|" + std::to_string(id2) + "|" +
                                               std::to_string(v1) + "|4"}));
  // A grouping key: dense strings.
  auto dense = Rows("EXPLAIN SELECT count(*) FROM (SELECT s FROM f WHERE s <> 'v3') GROUP BY s");
  ASSERT_EQ(dense.size(), 1u);
  EXPECT_EQ(dense[0].find("dictionary="), std::string::npos) << dense[0];
}

}  // namespace
}  // namespace lakestream::plan
