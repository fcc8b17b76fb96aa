// Expression parsing: literals, precedence, predicates, calls, special forms,
// and the default column names (sql_text) Spark gives them.
#include <gtest/gtest.h>

#include "parser_test_util.h"
#include "sql/lexer.h"
#include "sql/parser.h"

namespace lakestream::sql {
namespace {

using testing::ColName;
using testing::Expr;

TEST(ExpressionParser, Literals) {
  EXPECT_EQ(Expr("NULL"), "NULL");
  EXPECT_EQ(Expr("true"), "TRUE");
  EXPECT_EQ(Expr("FaLsE"), "FALSE");
  EXPECT_EQ(Expr("42"), "42");
  EXPECT_EQ(Expr("42L"), "42L");
  EXPECT_EQ(Expr("7s"), "7S");
  EXPECT_EQ(Expr("7Y"), "7Y");
  EXPECT_EQ(Expr("1.5"), "1.5");
  EXPECT_EQ(Expr(".5"), ".5");
  EXPECT_EQ(Expr("1.5BD"), "1.5BD");
  EXPECT_EQ(Expr("1e3"), "1e3");
  EXPECT_EQ(Expr("1.5D"), "1.5D");
  EXPECT_EQ(Expr("2.5f"), "2.5F");
  EXPECT_EQ(Expr("'it\\'s'"), "'it\\'s'");
  EXPECT_EQ(Expr("\"dq\""), "'dq'");
  EXPECT_EQ(Expr("'a' 'b'  \"c\""), "'abc'");
  EXPECT_EQ(Expr("X'0a0B'"), "X'0A0B'");
  EXPECT_EQ(Expr("DATE '2024-01-02'"), "DATE '2024-01-02'");
  EXPECT_EQ(Expr("timestamp '2024-01-02 03:04:05'"), "TIMESTAMP '2024-01-02 03:04:05'");
  EXPECT_EQ(Expr("TIMESTAMP_NTZ '2024-01-02 03:04:05'"), "TIMESTAMP_NTZ '2024-01-02 03:04:05'");
  EXPECT_EQ(Expr("-5"), "-5");
  EXPECT_EQ(Expr("- 5"), "-5");
}

TEST(ExpressionParser, LiteralKindsAndSuffixes) {
  auto e = *ParseExpression("123L");
  EXPECT_EQ(e->type, ExprType::kLiteral);
  EXPECT_EQ(e->literal_kind, LiteralKind::kInteger);
  EXPECT_EQ(e->text, "123");
  EXPECT_EQ(e->suffix, "L");
  e = *ParseExpression("1.25");
  EXPECT_EQ(e->literal_kind, LiteralKind::kDecimal);
  e = *ParseExpression("1.25BD");
  EXPECT_EQ(e->literal_kind, LiteralKind::kDecimal);
  EXPECT_EQ(e->suffix, "BD");
  e = *ParseExpression("1E-2");
  EXPECT_EQ(e->literal_kind, LiteralKind::kDouble);
  EXPECT_EQ(e->suffix, "");
  e = *ParseExpression("3F");
  EXPECT_EQ(e->literal_kind, LiteralKind::kDouble);
  EXPECT_EQ(e->suffix, "F");
  e = *ParseExpression("X'ff'");
  EXPECT_EQ(e->literal_kind, LiteralKind::kBinary);
  EXPECT_EQ(e->text, "FF");
  e = *ParseExpression("DATE '2020-01-01'");
  EXPECT_EQ(e->literal_kind, LiteralKind::kDate);
  EXPECT_EQ(e->text, "2020-01-01");
}

TEST(ExpressionParser, StringEscapes) {
  auto s = [](const std::string& sql) {
    auto e = ParseExpression(sql);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? (*e)->text : "";
  };
  EXPECT_EQ(s("'a\\nb'"), "a\nb");
  EXPECT_EQ(s("'a\\tb'"), "a\tb");
  EXPECT_EQ(s("'\\\\'"), "\\");
  EXPECT_EQ(s("'\\''"), "'");
  EXPECT_EQ(s("\"say \\\"hi\\\"\""), "say \"hi\"");
  EXPECT_EQ(s("'\\u0041\\u00e9'"), "A\xC3\xA9");
  EXPECT_EQ(s("'\\%\\_'"), "\\%\\_");  // kept for LIKE patterns, as Spark does
  EXPECT_EQ(s("'\\q'"), "q");
  EXPECT_EQ(s("'\\101'"), "A");                   // octal
  EXPECT_EQ(s("r'C:\\path\\n'"), "C:\\path\\n");  // raw strings keep backslashes
}

TEST(ExpressionParser, ArithmeticPrecedence) {
  EXPECT_EQ(Expr("1 + 2 * 3"), "(1 + (2 * 3))");
  EXPECT_EQ(Expr("(1 + 2) * 3"), "((1 + 2) * 3)");
  EXPECT_EQ(Expr("1 - 2 - 3"), "((1 - 2) - 3)");
  EXPECT_EQ(Expr("a / b % c DIV d"), "(((a / b) % c) DIV d)");
  EXPECT_EQ(Expr("a || b + c"), "((a || b) + c)");  // same precedence in Spark
  EXPECT_EQ(Expr("a + b || c"), "((a + b) || c)");
  EXPECT_EQ(Expr("-a * b"), "((- a) * b)");
  EXPECT_EQ(Expr("- - a"), "(- (- a))");
  EXPECT_EQ(Expr("~a & b"), "((~ a) & b)");
  EXPECT_EQ(Expr("a | b ^ c & d"), "(a | (b ^ (c & d)))");
  EXPECT_EQ(Expr("a & b + c"), "(a & (b + c))");
  EXPECT_EQ(Expr("a = b | c"), "(a = (b | c))");
  EXPECT_EQ(Expr("a << 2 + 1"), "shiftleft(a, (2 + 1))");
}

TEST(ExpressionParser, BooleanPrecedence) {
  EXPECT_EQ(Expr("a OR b AND c"), "(a OR (b AND c))");
  EXPECT_EQ(Expr("a AND b OR c AND d"), "((a AND b) OR (c AND d))");
  EXPECT_EQ(Expr("NOT a AND b"), "((NOT a) AND b)");
  EXPECT_EQ(Expr("NOT a = b"), "(NOT (a = b))");
  EXPECT_EQ(Expr("! a"), "(NOT a)");
  EXPECT_EQ(Expr("NOT NOT a"), "(NOT (NOT a))");
  EXPECT_EQ(Expr("a = 1 AND b <> 2 OR c != 3"), "(((a = 1) AND (b <> 2)) OR (c != 3))");
  EXPECT_EQ(Expr("a < b = c"), "((a < b) = c)");
  EXPECT_EQ(Expr("a == b"), "(a == b)");
  EXPECT_EQ(Expr("a <=> b"), "(a <=> b)");
  EXPECT_EQ(Expr("a <= b AND a >= c"), "((a <= b) AND (a >= c))");
}

TEST(ExpressionParser, Predicates) {
  EXPECT_EQ(Expr("a IS NULL"), "(a IS NULL)");
  EXPECT_EQ(Expr("a IS NOT NULL AND b"), "((a IS NOT NULL) AND b)");
  EXPECT_EQ(Expr("a + 1 IS NULL"), "((a + 1) IS NULL)");
  EXPECT_EQ(Expr("a = 1 IS NULL"), "((a = 1) IS NULL)");
  EXPECT_EQ(Expr("a IS TRUE"), "(a IS TRUE)");
  EXPECT_EQ(Expr("a IS NOT UNKNOWN"), "(a IS NOT UNKNOWN)");
  EXPECT_EQ(Expr("a IS DISTINCT FROM b + 1"), "(a IS DISTINCT FROM (b + 1))");
  EXPECT_EQ(Expr("a IS NOT DISTINCT FROM b"), "(a IS NOT DISTINCT FROM b)");
  EXPECT_EQ(Expr("a BETWEEN 1 AND 2"), "(a BETWEEN 1 AND 2)");
  EXPECT_EQ(Expr("a BETWEEN 1 AND 2 AND b"), "((a BETWEEN 1 AND 2) AND b)");
  EXPECT_EQ(Expr("a NOT BETWEEN b - 1 AND b + 1"), "(a NOT BETWEEN (b - 1) AND (b + 1))");
  EXPECT_EQ(Expr("a IN (1, 2, 3)"), "(a IN (1, 2, 3))");
  EXPECT_EQ(Expr("a NOT IN ('x')"), "(a NOT IN ('x'))");
  EXPECT_EQ(Expr("a IN (SELECT b FROM t)"), "(a IN (SELECT b FROM t))");
  EXPECT_EQ(Expr("a NOT IN (SELECT b FROM t)"), "(a NOT IN (SELECT b FROM t))");
  EXPECT_EQ(Expr("(a, b) IN ((1, 2), (3, 4))"), "(struct(a, b) IN (struct(1, 2), struct(3, 4)))");
  EXPECT_EQ(Expr("a LIKE 'x%'"), "(a LIKE 'x%')");
  EXPECT_EQ(Expr("a NOT LIKE 'x!%' ESCAPE '!'"), "(a NOT LIKE 'x!%' ESCAPE '!')");
  EXPECT_EQ(Expr("a ILIKE 'X%'"), "(a ILIKE 'X%')");
  EXPECT_EQ(Expr("a RLIKE '^x'"), "(a RLIKE '^x')");
  EXPECT_EQ(Expr("a REGEXP '^x'"), "(a RLIKE '^x')");
  EXPECT_EQ(Expr("a NOT RLIKE '^x'"), "(a NOT RLIKE '^x')");
  EXPECT_EQ(Expr("a LIKE ANY ('a%', 'b%')"), "(a LIKE ANY ('a%', 'b%'))");
  EXPECT_EQ(Expr("a NOT ILIKE ALL ('a%', 'b%')"), "(a NOT ILIKE ALL ('a%', 'b%'))");
  EXPECT_EQ(Expr("EXISTS (SELECT 1)"), "(EXISTS (SELECT 1))");
  EXPECT_EQ(Expr("NOT EXISTS (SELECT 1 FROM t WHERE t.a = b)"),
            "(NOT (EXISTS (SELECT 1 FROM t WHERE (t.a = b))))");
}

TEST(ExpressionParser, PredicateNodeFields) {
  auto e = *ParseExpression("a NOT LIKE ANY ('a', 'b')");
  EXPECT_EQ(e->type, ExprType::kLike);
  EXPECT_TRUE(e->negated);
  EXPECT_EQ(e->op, "LIKE");
  EXPECT_EQ(e->quantifier, "ANY");
  EXPECT_EQ(e->args.size(), 3u);
  e = *ParseExpression("x NOT IN (1, 2)");
  EXPECT_EQ(e->type, ExprType::kInList);
  EXPECT_TRUE(e->negated);
  EXPECT_EQ(e->args.size(), 3u);
  e = *ParseExpression("x IN (SELECT 1)");
  EXPECT_EQ(e->type, ExprType::kInSubquery);
  ASSERT_TRUE(e->subquery);
  e = *ParseExpression("x IS NOT FALSE");
  EXPECT_EQ(e->type, ExprType::kIsBool);
  EXPECT_EQ(e->op, "FALSE");
  EXPECT_TRUE(e->negated);
}

TEST(ExpressionParser, ColumnsAndFields) {
  auto e = *ParseExpression("t.a.b");
  EXPECT_EQ(e->type, ExprType::kColumn);
  EXPECT_EQ(e->name_parts, (std::vector<std::string>{"t", "a", "b"}));
  EXPECT_EQ(e->sql_text, "b");
  EXPECT_EQ(Expr("`my col`"), "`my col`");
  EXPECT_EQ(Expr("`a``b`"), "`a``b`");
  EXPECT_EQ(Expr("a[0]"), "a[0]");
  EXPECT_EQ(Expr("a['k'].f"), "(a['k']).f");
  EXPECT_EQ(Expr("a.b[1 + 1]"), "a.b[(1 + 1)]");
  EXPECT_EQ(Expr("f(x).field"), "(f(x)).field");
  EXPECT_EQ(Expr("*"), "*");
  EXPECT_EQ(Expr("t.*"), "t.*");
  auto star = *ParseExpression("db.t.*");
  EXPECT_EQ(star->type, ExprType::kStar);
  EXPECT_EQ(star->name_parts, (std::vector<std::string>{"db", "t"}));
}

TEST(ExpressionParser, NonReservedKeywordsAsColumns) {
  for (const char* name :
       {"date", "timestamp", "year", "key", "value", "window", "type", "offset", "format",
        "interval", "user", "count", "first", "last", "data", "comment", "location"}) {
    auto e = ParseExpression(name);
    ASSERT_TRUE(e.ok()) << name << ": " << e.status().ToString();
    EXPECT_EQ((*e)->type, ExprType::kColumn) << name;
    EXPECT_EQ((*e)->sql_text, name);
  }
  EXPECT_EQ(Expr("date > '2020-01-01'"), "(`date` > '2020-01-01')");
  EXPECT_EQ(Expr("window.start"), "`window`.start");
  EXPECT_EQ(Expr("key = value"), "(key = value)");
}

TEST(ExpressionParser, FunctionCalls) {
  EXPECT_EQ(Expr("f()"), "f()");
  EXPECT_EQ(Expr("UPPER(a)"), "upper(a)");
  EXPECT_EQ(Expr("count(*)"), "count(*)");
  EXPECT_EQ(Expr("count(DISTINCT a, b)"), "count(DISTINCT a, b)");
  EXPECT_EQ(Expr("sum(ALL a)"), "sum(a)");
  EXPECT_EQ(Expr("db.fn(1)"), "db.fn(1)");
  EXPECT_EQ(Expr("count(a) FILTER (WHERE a > 1)"), "count(a) FILTER (WHERE (a > 1))");
  EXPECT_EQ(Expr("first(a IGNORE NULLS)"), "first(a) IGNORE NULLS");
  EXPECT_EQ(Expr("last(a) ignore nulls"), "last(a) IGNORE NULLS");
  EXPECT_EQ(Expr("lag(a) RESPECT NULLS OVER (ORDER BY b)"), "lag(a) OVER (ORDER BY b ASC)");
  EXPECT_EQ(Expr("struct(a, b)"), "struct(a, b)");
  EXPECT_EQ(Expr("struct(a AS x, b + 1 AS `y z`)"), "struct(a AS x, (b + 1) AS `y z`)");
  EXPECT_EQ((*ParseExpression("struct(a AS x)"))->args[0]->alias, "x");
  EXPECT_EQ(Expr("array(1, 2)[0]"), "array(1, 2)[0]");
  EXPECT_EQ(Expr("map('a', 1)"), "map('a', 1)");
  EXPECT_EQ(Expr("left('abc', 2)"), "left('abc', 2)");
  EXPECT_EQ(Expr("if(a, 1, 2)"), "if(a, 1, 2)");
  EXPECT_EQ(Expr("current_date"), "current_date()");
  EXPECT_EQ(Expr("CURRENT_TIMESTAMP"), "current_timestamp()");
  EXPECT_EQ(Expr("current_timestamp()"), "current_timestamp()");
  auto e = *ParseExpression("count(*)");
  ASSERT_EQ(e->args.size(), 1u);
  EXPECT_EQ(e->args[0]->type, ExprType::kStar);
  e = *ParseExpression("First(x) IGNORE NULLS");
  EXPECT_EQ(e->name, "first");
  EXPECT_TRUE(e->ignore_nulls);
}

TEST(ExpressionParser, NamedArgumentsAndLambdas) {
  EXPECT_EQ(Expr("f(a, sep => ',')"), "f(a, sep => ',')");
  EXPECT_EQ(Expr("transform(xs, x -> x + 1)"), "transform(xs, (x) -> (x + 1))");
  EXPECT_EQ(Expr("aggregate(xs, 0, (acc, x) -> acc + x)"),
            "aggregate(xs, 0, (acc, x) -> (acc + x))");
  EXPECT_EQ(Expr("filter(xs, x -> x > 1 AND x < 5)"), "filter(xs, (x) -> ((x > 1) AND (x < 5)))");
  auto e = *ParseExpression("f(x -> x)");
  ASSERT_EQ(e->args.size(), 1u);
  EXPECT_EQ(e->args[0]->type, ExprType::kLambda);
  EXPECT_EQ(e->args[0]->lambda_params, (std::vector<std::string>{"x"}));
  e = *ParseExpression("read(path => 'p')");
  EXPECT_EQ(e->args[0]->type, ExprType::kNamedArgument);
  EXPECT_EQ(e->args[0]->name, "path");
}

TEST(ExpressionParser, WindowFunctions) {
  EXPECT_EQ(Expr("row_number() OVER (PARTITION BY a ORDER BY b DESC NULLS LAST)"),
            "row_number() OVER (PARTITION BY a ORDER BY b DESC NULLS LAST)");
  EXPECT_EQ(Expr("sum(x) OVER (ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"),
            "sum(x) OVER (ORDER BY t ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)");
  EXPECT_EQ(Expr("sum(x) OVER (ORDER BY t RANGE BETWEEN 2 PRECEDING AND 3 FOLLOWING)"),
            "sum(x) OVER (ORDER BY t ASC RANGE BETWEEN 2 PRECEDING AND 3 FOLLOWING)");
  EXPECT_EQ(Expr("sum(x) OVER (ORDER BY t RANGE BETWEEN INTERVAL 1 DAY PRECEDING AND CURRENT ROW)"),
            "sum(x) OVER (ORDER BY t ASC RANGE BETWEEN INTERVAL 1 DAY PRECEDING AND CURRENT ROW)");
  EXPECT_EQ(Expr("sum(x) OVER (ROWS UNBOUNDED PRECEDING)"),
            "sum(x) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)");
  EXPECT_EQ(Expr("sum(x) OVER (ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)"),
            "sum(x) OVER (ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)");
  EXPECT_EQ(Expr("sum(x) OVER w"), "sum(x) OVER w");
  EXPECT_EQ(Expr("sum(x) OVER (w ORDER BY y)"), "sum(x) OVER (w ORDER BY y ASC)");
  EXPECT_EQ(Expr("sum(x) OVER ()"), "sum(x) OVER ()");
  auto e = *ParseExpression(
      "sum(x) OVER (PARTITION BY a, b ORDER BY c ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)");
  ASSERT_TRUE(e->over);
  EXPECT_EQ(e->over->partition_by.size(), 2u);
  ASSERT_TRUE(e->over->frame);
  EXPECT_EQ(e->over->frame->type, FrameType::kRows);
  EXPECT_EQ(e->over->frame->start.type, BoundType::kPreceding);
  EXPECT_EQ(e->over->frame->end.type, BoundType::kFollowing);
  ASSERT_TRUE(e->over->frame->start.offset);
  EXPECT_EQ(e->over->frame->start.offset->text, "1");
}

TEST(ExpressionParser, CaseExpressions) {
  EXPECT_EQ(Expr("CASE WHEN a > 1 THEN 'x' WHEN a > 0 THEN 'y' ELSE 'z' END"),
            "CASE WHEN (a > 1) THEN 'x' WHEN (a > 0) THEN 'y' ELSE 'z' END");
  EXPECT_EQ(Expr("CASE a WHEN 1 THEN 'one' END"), "CASE a WHEN 1 THEN 'one' END");
  auto e = *ParseExpression("CASE a WHEN 1 THEN 2 ELSE 3 END");
  EXPECT_EQ(e->type, ExprType::kCase);
  ASSERT_TRUE(e->operand);
  EXPECT_EQ(e->whens.size(), 1u);
  ASSERT_TRUE(e->else_expr);
}

TEST(ExpressionParser, Casts) {
  EXPECT_EQ(Expr("CAST(a AS INT)"), "CAST(a AS INT)");
  EXPECT_EQ(Expr("cast(a as decimal(10, 2))"), "CAST(a AS decimal(10, 2))");
  EXPECT_EQ(Expr("CAST(a AS ARRAY<STRUCT<a: INT, b: MAP<STRING, ARRAY<INT>>>>)"),
            "CAST(a AS ARRAY<STRUCT<a: INT, b: MAP<STRING, ARRAY<INT>>>>)");
  EXPECT_EQ(Expr("TRY_CAST(a AS BIGINT)"), "TRY_CAST(a AS BIGINT)");
  EXPECT_EQ(Expr("a::string"), "CAST(a AS string)");
  EXPECT_EQ(Expr("a::int + 1"), "(CAST(a AS int) + 1)");
  EXPECT_EQ(Expr("-a::int"), "(- CAST(a AS int))");
  EXPECT_EQ(Expr("CAST(x AS INTERVAL DAY TO SECOND)"), "CAST(x AS INTERVAL DAY TO SECOND)");
  auto e = *ParseExpression("CAST(a AS DECIMAL(10, 2))");
  EXPECT_EQ(e->type, ExprType::kCast);
  EXPECT_EQ(e->text, "DECIMAL(10, 2)");
  EXPECT_FALSE(e->try_cast);
}

TEST(ExpressionParser, Intervals) {
  auto body = [](const std::string& sql) {
    auto e = ParseExpression(sql);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    if (!e.ok()) return std::string();
    EXPECT_EQ((*e)->type, ExprType::kInterval);
    return (*e)->text;
  };
  EXPECT_EQ(body("INTERVAL 10 SECONDS"), "10 SECONDS");
  EXPECT_EQ(body("INTERVAL '10' SECOND"), "'10' SECOND");
  EXPECT_EQ(body("INTERVAL 1 DAY 2 HOURS"), "1 DAY 2 HOURS");
  EXPECT_EQ(body("interval '1-2' YEAR TO MONTH"), "'1-2' YEAR TO MONTH");
  EXPECT_EQ(body("INTERVAL '1 02:03:04' DAY TO SECOND"), "'1 02:03:04' DAY TO SECOND");
  EXPECT_EQ(body("INTERVAL '1 day 2 hours'"), "'1 day 2 hours'");
  EXPECT_EQ(body("INTERVAL -5 MINUTES"), "-5 MINUTES");
  EXPECT_EQ(Expr("ts - INTERVAL 1 DAY - 1"), "((ts - INTERVAL 1 DAY) - 1)");
  EXPECT_EQ(Expr("ts + INTERVAL 1 DAY 3 HOURS > now()"), "((ts + INTERVAL 1 DAY 3 HOURS) > now())");
}

TEST(ExpressionParser, SpecialForms) {
  EXPECT_EQ(Expr("EXTRACT(YEAR FROM ts)"), "extract('YEAR', ts)");
  EXPECT_EQ(Expr("'it''s'"), "'its'");  // adjacent literals, as in Spark
  EXPECT_EQ(Expr("SUBSTRING(s FROM 2 FOR 3)"), "substring(s, 2, 3)");
  EXPECT_EQ(Expr("substring(s, 2)"), "substring(s, 2)");
  EXPECT_EQ(Expr("substr(s FROM 2)"), "substr(s, 2)");
  EXPECT_EQ(Expr("TRIM(s)"), "trim(s)");
  EXPECT_EQ(Expr("TRIM(BOTH 'x' FROM s)"), "trim('x', s)");
  EXPECT_EQ(Expr("TRIM(LEADING FROM s)"), "ltrim(s)");
  EXPECT_EQ(Expr("TRIM(TRAILING 'ab' FROM s)"), "rtrim('ab', s)");
  EXPECT_EQ(Expr("TRIM('x' FROM s)"), "trim('x', s)");
  EXPECT_EQ(Expr("POSITION('b' IN s)"), "position('b', s)");
  EXPECT_EQ(Expr("position('b', s, 2)"), "position('b', s, 2)");
  EXPECT_EQ(Expr("(SELECT max(a) FROM t)"), "(SELECT max(a) FROM t)");
  EXPECT_EQ(Expr("((1))"), "1");
  EXPECT_EQ(Expr("?"), "?");
  EXPECT_EQ(Expr(":p"), ":p");
}

// Expected names were taken from PySpark 4.0 (spark.sql("select <expr> from t").columns).
TEST(ExpressionParser, DefaultColumnNames) {
  const std::pair<const char*, const char*> kCases[] = {
      {"a", "a"},
      {"t.a", "a"},
      {"'a'", "a"},
      {"1", "1"},
      {"1L", "1"},
      {"-1", "-1"},
      {"1.50", "1.50"},
      {"1e3", "1000.0"},
      {"1.5D", "1.5"},
      {"NULL", "NULL"},
      {"TRUE", "true"},
      {"a + b", "(a + b)"},
      {"a + b * 2", "(a + (b * 2))"},
      {"a == 1", "(a = 1)"},
      {"a <> 1", "(NOT (a = 1))"},
      {"a || b", "concat(a, b)"},
      {"NOT flag", "(NOT flag)"},
      {"-a", "(- a)"},
      {"+a", "(+ a)"},
      {"~a", "~a"},
      {"count(*)", "count(1)"},
      {"COUNT(1)", "count(1)"},
      {"SUM(a)", "sum(a)"},
      {"count(DISTINCT a)", "count(DISTINCT a)"},
      // Spark names a top-level cast of a plain column after the column ("a");
      // the binder applies that rule, the parser names the cast itself.
      {"CAST(a AS INTEGER)", "CAST(a AS INT)"},
      {"cast(a as string)", "CAST(a AS STRING)"},
      {"a::bigint", "CAST(a AS BIGINT)"},
      {"try_cast(a as int)", "TRY_CAST(a AS INT)"},
      {"CAST(a + 1 AS INT)", "CAST((a + 1) AS INT)"},
      {"CAST('1' AS INT)", "CAST(1 AS INT)"},
      {"CAST(1 AS DECIMAL(10, 2))", "CAST(1 AS DECIMAL(10,2))"},
      {"CAST(a AS STRING) || 'x'", "concat(CAST(a AS STRING), x)"},
      {"CAST(NULL AS INT)", "CAST(NULL AS INT)"},
      {"1::bigint", "CAST(1 AS BIGINT)"},
      {"-1::string", "CAST(-1 AS STRING)"},
      {"struct(1 AS a, b)", "struct(1 AS a, b)"},
      {"CASE WHEN a > 1 THEN 1 ELSE 0 END", "CASE WHEN (a > 1) THEN 1 ELSE 0 END"},
      {"CASE a WHEN 1 THEN 'x' END", "CASE WHEN (a = 1) THEN x END"},
      {"a IN (1, 2)", "(a IN (1, 2))"},
      {"a NOT IN (1, 2)", "(NOT (a IN (1, 2)))"},
      {"a IS NULL", "(a IS NULL)"},
      {"a IS NOT NULL", "(a IS NOT NULL)"},
      {"a BETWEEN 1 AND 2", "between(a, 1, 2)"},
      {"a NOT BETWEEN 1 AND 2", "(NOT between(a, 1, 2))"},
      {"s LIKE 'x%'", "s LIKE x%"},
      {"s NOT LIKE 'x%'", "(NOT s LIKE x%)"},
      {"s ILIKE 'x%'", "ilike(s, x%)"},
      {"s RLIKE 'x'", "RLIKE(s, x)"},
      {"s LIKE 'x!%' ESCAPE '!'", "s LIKE x!% ESCAPE '!'"},
      {"s LIKE ANY ('a%', 'b%')", "likeany(s)"},
      {"concat(s, 'x')", "concat(s, x)"},
      {"DATE '2020-01-01'", "DATE '2020-01-01'"},
      {"TIMESTAMP '2020-01-01 00:00:00'", "TIMESTAMP '2020-01-01 00:00:00'"},
      {"timestamp_ntz '2020-01-01 00:00:00'", "TIMESTAMP_NTZ '2020-01-01 00:00:00'"},
      {"current_date", "current_date()"},
      {"current_timestamp()", "current_timestamp()"},
      {"st.f", "f"},
      {"arr[0]", "arr[0]"},
      {"a <=> b", "(a <=> b)"},
      {"a IS DISTINCT FROM b", "(NOT (a <=> b))"},
      {"a IS NOT DISTINCT FROM b", "(a <=> b)"},
      {"flag IS TRUE", "(flag <=> true)"},
      {"flag IS NOT FALSE", "(NOT (flag <=> false))"},
      {"a DIV b", "(a div b)"},
      {"a % b", "(a % b)"},
      {"a & b", "(a & b)"},
      {"a << 1", "(a << 1)"},
      {"X'0A'", "X'0A'"},
      {"INTERVAL 10 SECONDS", "INTERVAL '10' SECOND"},
      {"INTERVAL '10' SECOND", "INTERVAL '10' SECOND"},
      {"INTERVAL '1-2' YEAR TO MONTH", "INTERVAL '1-2' YEAR TO MONTH"},
      {"EXTRACT(YEAR FROM ts)", "extract(YEAR FROM ts)"},
      {"SUBSTRING(s FROM 2 FOR 3)", "substring(s, 2, 3)"},
      {"TRIM(BOTH 'x' FROM s)", "TRIM(BOTH x FROM s)"},
      {"TRIM(s)", "trim(s)"},
      {"TRIM(LEADING 'x' FROM s)", "TRIM(LEADING x FROM s)"},
      {"POSITION('b' IN s)", "locate(b, s, 1)"},
      {"first(a) IGNORE NULLS", "first(a)"},
      {"count(a) FILTER (WHERE a > 1)", "count(a) FILTER (WHERE (a > 1))"},
      {"transform(arr, x -> x + 1)",
       "transform(arr, lambdafunction((namedlambdavariable() + 1), namedlambdavariable()))"},
      {"(a, b)", "named_struct(a, a, b, b)"},
      {"1.5BD", "1.5"},
      {"2.5F", "2.5"},
      {"1Y", "1"},
      {"'a' 'b'", "ab"},
      {"'it''s'", "its"},
      {"a IN (SELECT 1)", "(a IN (listquery()))"},
      {"EXISTS (SELECT 1)", "exists()"},
      {"(SELECT 1)", "scalarsubquery()"},
      {"UPPER(s)", "upper(s)"},
      {"ucase(s)", "ucase(s)"},
      {"IF(a > 1, 1, 2)", "(IF((a > 1), 1, 2))"},
      {"sum(a) OVER (PARTITION BY b ORDER BY a)",
       "sum(a) OVER (PARTITION BY b ORDER BY a ASC NULLS FIRST RANGE BETWEEN UNBOUNDED PRECEDING "
       "AND CURRENT ROW)"},
      {"sum(a) OVER (PARTITION BY b)",
       "sum(a) OVER (PARTITION BY b ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"},
      {"row_number() OVER (ORDER BY a)",
       "row_number() OVER (ORDER BY a ASC NULLS FIRST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT "
       "ROW)"},
      {"sum(a) OVER (ORDER BY a ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)",
       "sum(a) OVER (ORDER BY a ASC NULLS FIRST ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)"},
      {"named_struct('x', a)", "named_struct(x, a)"},
      {"a = 1 AND b = 2", "((a = 1) AND (b = 2))"},
      {"1.0", "1.0"},
      {".5", "0.5"},
      {"1e-2", "0.01"},
      {"100000000000", "100000000000"},
      {"1.5e10", "1.5E10"},
      {"r'a\\n'", "a\\n"},
      {"current_user()", "current_user()"},
  };
  for (const auto& [sql, name] : kCases) EXPECT_EQ(ColName(sql), name) << sql;
}

TEST(ExpressionParser, Locations) {
  auto e = *ParseExpression("a +\n  foo(b)");
  EXPECT_EQ(e->loc.line, 1);
  EXPECT_EQ(e->loc.column, 1);
  ASSERT_EQ(e->args.size(), 2u);
  EXPECT_EQ(e->args[1]->loc.line, 2);
  EXPECT_EQ(e->args[1]->loc.column, 3);
  EXPECT_EQ(e->args[1]->args[0]->loc.column, 7);
}

TEST(ExpressionParser, Comments) {
  EXPECT_EQ(Expr("a -- comment\n + /* c1 /* nested */ c2 */ b"), "(a + b)");
  EXPECT_EQ(Expr("/*+ hint */ a"), "a");
}

TEST(ExpressionParser, Errors) {
  auto err = [](const std::string& sql) {
    auto r = ParseExpression(sql);
    return r.ok() ? std::string("OK") : r.status().message();
  };
  EXPECT_EQ(err("a +"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'end of input': line 1:4, expected an "
            "expression");
  EXPECT_EQ(err("(a + 1"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'end of input': line 1:7, expected ')'");
  EXPECT_EQ(err("f(a,)"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near ')': line 1:5, expected an expression");
  EXPECT_EQ(
      err("a b"),
      "[PARSE_SYNTAX_ERROR] Syntax error at or near 'b': line 1:3, expected end of expression");
  EXPECT_EQ(err("CASE WHEN a THEN 1"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'end of input': line 1:19, expected END");
  EXPECT_EQ(err("a IS 3"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near '3': line 1:6, expected NULL, TRUE, "
            "FALSE, UNKNOWN or "
            "DISTINCT FROM after IS");
  EXPECT_EQ(err("'abc"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near ''abc': line 1:1, unterminated string "
            "literal: expected "
            "closing '");
  EXPECT_EQ(err("a /* open"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near '/* open': line 1:3, unterminated "
            "comment: expected '*/'");
  EXPECT_EQ(err("`abc"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near '`abc': line 1:1, unterminated quoted "
            "identifier: expected "
            "closing `");
  EXPECT_EQ(err("a # b"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near '# b': line 1:3, unexpected character");
  EXPECT_EQ(err("CAST(a AS)"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near ')': line 1:10, expected a data type");
  EXPECT_EQ(err("INTERVAL 3 FOO"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'FOO': line 1:12, expected an interval "
            "unit (YEAR, MONTH, "
            "WEEK, DAY, HOUR, MINUTE, SECOND, ...)");
  EXPECT_EQ(err("X'0G'"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'X'0G'': line 1:1, invalid hexadecimal "
            "digit in binary "
            "literal");
  EXPECT_EQ(
      err("SELECT"),
      "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELECT': line 1:1, expected an expression");
}

TEST(ExpressionParser, DeepNestingFailsCleanly) {
  std::string deep(100000, '(');
  deep += "1";
  auto r = ParseExpression(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too deeply nested"), std::string::npos)
      << r.status().message();
  std::string chain = "1";
  for (int i = 0; i < 100000; ++i) chain += " + 1";
  r = ParseExpression(chain);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too deeply nested"), std::string::npos);
  std::string unary(100000, '-');  // "--" starts a comment: use "- " pairs
  std::string minus;
  for (int i = 0; i < 100000; ++i) minus += "- ";
  minus += "a";
  r = ParseExpression(minus);
  ASSERT_FALSE(r.ok());
  std::string nots;
  for (int i = 0; i < 100000; ++i) nots += "NOT ";
  nots += "a";
  r = ParseExpression(nots);
  ASSERT_FALSE(r.ok());
  // Moderately deep input still parses.
  std::string ok(200, '(');
  ok += "1" + std::string(200, ')');
  EXPECT_TRUE(ParseExpression(ok).ok());
}

}  // namespace
}  // namespace lakestream::sql
