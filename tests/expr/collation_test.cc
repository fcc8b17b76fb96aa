// Collations (collation.cc) and Spark's percentile summary (quantile_summary.cc)
// below SQL: collation keys order and compare as Spark's collations do, the
// coercion rules pick the collation Spark picks, and the GK summary answers
// what Spark 4.0.1 answered for the same input.
#include "expr/collation.h"

#include <arrow/api.h>
#include <arrow/json/from_string.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "expr/function.h"
#include "expr/quantile_summary.h"

namespace lakestream::expr {
namespace {

using types::Collation;

std::string Key(std::string_view v, Collation c) {
  std::string out;
  AppendCollationKey(v, c, &out);
  return out;
}

TEST(CollationKeys, Utf8LcaseLowerCasesAsSpark) {
  EXPECT_EQ(Key("AbC", Collation::kUtf8Lcase), "abc");
  EXPECT_EQ(Key("ÄÖÜ", Collation::kUtf8Lcase), "äöü");
  // U+0130 lower-cases to two code points, the final sigma to sigma.
  EXPECT_EQ(Key("\xC4\xB0", Collation::kUtf8Lcase), "i\xCC\x87");
  EXPECT_EQ(Key("\xCF\x82", Collation::kUtf8Lcase), Key("\xCE\xA3", Collation::kUtf8Lcase));
  // No full case folding: sharp s is not "ss".
  EXPECT_NE(Key("ß", Collation::kUtf8Lcase), Key("SS", Collation::kUtf8Lcase));
}

TEST(CollationKeys, UnicodeOrdersAsIcuRoot) {
  auto k = [](std::string_view v) { return Key(v, Collation::kUnicode); };
  EXPECT_LT(k("_"), k("1"));
  EXPECT_LT(k("1"), k("a"));
  EXPECT_LT(k("a"), k("A"));  // lower case first at tertiary strength
  EXPECT_LT(k("A"), k("ä"));
  EXPECT_LT(k("Ä"), k("b"));
  auto ci = [](std::string_view v) { return Key(v, Collation::kUnicodeCi); };
  EXPECT_EQ(ci("a"), ci("A"));
  EXPECT_NE(ci("a"), ci("ä"));  // accents still count at secondary strength
  EXPECT_NE(ci("ss"), ci("ß"));
}

TEST(CollationKeys, ArraysKeepNullsAndUseBinaryForIcuKeys) {
  auto values = arrow::json::ArrayFromJSONString(arrow::utf8(), R"(["B", null, "a"])").ValueOrDie();
  auto lc =
      CollationKeys(arrow::Datum(values), Collation::kUtf8Lcase, arrow::default_memory_pool());
  ASSERT_TRUE(lc.ok());
  EXPECT_TRUE(lc->type()->Equals(*arrow::utf8()));
  EXPECT_EQ(lc->make_array()->null_count(), 1);
  auto uc = CollationKeys(arrow::Datum(values), Collation::kUnicode, arrow::default_memory_pool());
  ASSERT_TRUE(uc.ok());
  EXPECT_TRUE(uc->type()->Equals(*arrow::binary()));
}

CallSite Site(std::vector<types::TypePtr> types, std::vector<bool> literal) {
  CallSite site;
  site.arg_types = std::move(types);
  for (bool l : literal) {
    site.literal_args.push_back(l ? std::make_shared<arrow::StringScalar>("x") : nullptr);
  }
  return site;
}

TEST(CollationCoercion, ExplicitBeatsImplicitBeatsDefault) {
  auto lcase_col = types::CollatedString(Collation::kUtf8Lcase);
  auto unicode_explicit = types::CollatedString(Collation::kUnicode, true);
  auto r = ResolveCollation(Site({lcase_col, arrow::utf8()}, {false, true}), "=");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->collation, Collation::kUtf8Lcase);
  EXPECT_EQ(r->strength, types::CollationStrength::kImplicit);
  r = ResolveCollation(Site({lcase_col, unicode_explicit}, {false, false}), "=");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->collation, Collation::kUnicode);
  EXPECT_EQ(r->strength, types::CollationStrength::kExplicit);
}

TEST(CollationCoercion, ConflictsAreErrors) {
  auto lcase = types::CollatedString(Collation::kUtf8Lcase, true);
  auto ci = types::CollatedString(Collation::kUnicodeCi, true);
  auto r = ResolveCollation(Site({lcase, ci}, {false, false}), "=");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("COLLATION_MISMATCH.EXPLICIT"), std::string::npos);
  // Two columns of different collations (and a plain STRING column is UTF8_BINARY).
  r = ResolveCollation(
      Site({types::CollatedString(Collation::kUtf8Lcase), arrow::utf8()}, {false, false}), "=");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("INDETERMINATE_COLLATION"), std::string::npos);
}

TEST(CollationFunctions, EqualityFollowsTheCollation) {
  const auto* eq = FunctionRegistry::Default().FindScalar("equal");
  ASSERT_NE(eq, nullptr);
  CallSite site =
      Site({types::CollatedString(Collation::kUtf8Lcase, true), arrow::utf8()}, {false, false});
  site.literal_args[1] = std::make_shared<arrow::StringScalar>("ABC");
  auto rc = eq->resolve(site);
  ASSERT_TRUE(rc.ok()) << rc.status().ToString();
  auto l = arrow::json::ArrayFromJSONString(arrow::utf8(), R"(["abc", "abd", null])").ValueOrDie();
  SessionConfig config;
  EvalContext ctx;
  ctx.config = &config;
  auto out = rc->exec({arrow::Datum(l), arrow::Datum(std::make_shared<arrow::StringScalar>("ABC"))},
                      3, ctx);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  auto expected =
      arrow::json::ArrayFromJSONString(arrow::boolean(), "[true, false, null]").ValueOrDie();
  EXPECT_TRUE(out->make_array()->Equals(*expected)) << out->make_array()->ToString();
}

// The sequence (id * 7919) % 100003 for id in [0, n), Spark's answers recorded
// from Spark 4.0.1 (percentile_approx over range(0, n, 1, 1)).
std::vector<double> Sequence(int64_t n) {
  std::vector<double> v;
  for (int64_t id = 0; id < n; ++id) v.push_back(static_cast<double>((id * 7919) % 100003));
  return v;
}

TEST(QuantileSummary, AnswersAsSparkWhenItCompresses) {
  internal::QuantileSummary s(1.0 / 100);
  for (double x : Sequence(3000)) s.Insert(x);
  auto q = s.Query({0.1, 0.25, 0.5, 0.9, 0.99});
  // The exact median is 49907.5; Spark's summary answers 48911.
  EXPECT_EQ(q, (std::vector<double>{10117, 24613, 48911, 89028, 99984}));
}

TEST(QuantileSummary, PastTheHeadBufferAsSpark) {
  internal::QuantileSummary s(1.0 / 100);
  for (double x : Sequence(200000)) s.Insert(x);
  EXPECT_EQ(s.Query({0.1, 0.5, 0.9}), (std::vector<double>{9272, 49840, 89481}));
  internal::QuantileSummary d(1.0 / 10000);
  for (double x : Sequence(200000)) d.Insert(x);
  EXPECT_EQ(d.Query({0.1, 0.5, 0.9}), (std::vector<double>{9991, 49996, 89996}));
}

TEST(QuantileSummary, SmallInputsAreExactAndEmptyIsEmpty) {
  internal::QuantileSummary s(1.0 / 10000);
  EXPECT_TRUE(s.Query({0.5}).empty());
  for (int i = 100; i >= 1; --i) s.Insert(i);
  EXPECT_EQ(s.Query({0.5, 0.0, 1.0}), (std::vector<double>{50, 1, 100}));
}

TEST(QuantileSummary, MergeKeepsEveryValueCounted) {
  internal::QuantileSummary a(0.01), b(0.01);
  for (int i = 0; i < 1000; ++i) a.Insert(i);
  for (int i = 1000; i < 2000; ++i) b.Insert(i);
  a.Merge(b);
  EXPECT_EQ(a.count(), 2000);
  auto q = a.Query({0.5});
  ASSERT_EQ(q.size(), 1u);
  EXPECT_NEAR(q[0], 1000, 2 * 0.01 * 2000);  // GK's rank guarantee
}

}  // namespace
}  // namespace lakestream::expr
