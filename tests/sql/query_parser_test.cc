// Query and statement parsing: SELECT clauses, FROM items and joins, set
// operations, streaming extensions, DDL/DML statements, splitting, errors.
#include <gtest/gtest.h>

#include "parser_test_util.h"
#include "sql/parser.h"

namespace lakestream::sql {
namespace {

using testing::ParseQueryOrDie;
using testing::Stmt;
using testing::StmtError;

TEST(QueryParser, SelectBasics) {
  EXPECT_EQ(Stmt("select 1"), "SELECT 1");
  EXPECT_EQ(Stmt("SELECT a, b AS c, d e FROM t"), "SELECT a, b AS c, d AS e FROM t");
  EXPECT_EQ(Stmt("SELECT DISTINCT a FROM t;"), "SELECT DISTINCT a FROM t");
  EXPECT_EQ(Stmt("SELECT ALL a FROM t"), "SELECT a FROM t");
  EXPECT_EQ(Stmt("SELECT *, t.* FROM t"), "SELECT *, t.* FROM t");
  EXPECT_EQ(Stmt("SELECT a AS `weird name` FROM t"), "SELECT a AS `weird name` FROM t");
  EXPECT_EQ(Stmt("SELECT explode(m) AS (k, v) FROM t"), "SELECT explode(m) AS (k, v) FROM t");
  EXPECT_EQ(Stmt("SELECT a FROM t WHERE a > 1 AND b IS NOT NULL"),
            "SELECT a FROM t WHERE ((a > 1) AND (b IS NOT NULL))");
  EXPECT_EQ(Stmt("SELECT 1 AS date, 2 year, 3 AS key, 4 value"),
            "SELECT 1 AS `date`, 2 AS year, 3 AS key, 4 AS value");
  EXPECT_EQ(Stmt("SELECT date, timestamp, window, offset, format, type FROM t"),
            "SELECT `date`, `timestamp`, `window`, `offset`, format, type FROM t");
}

TEST(QueryParser, SelectItemAliases) {
  auto q = ParseQueryOrDie("SELECT a x, b AS y, stack(2, 1, 2) AS (p, q), c FROM t");
  ASSERT_TRUE(q && q->select);
  const auto& items = q->select->items;
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].alias, "x");
  EXPECT_EQ(items[1].alias, "y");
  EXPECT_EQ(items[2].multi_alias, (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(items[3].alias, "");
  EXPECT_EQ(items[3].expr->sql_text, "c");
}

TEST(QueryParser, GroupByForms) {
  EXPECT_EQ(Stmt("SELECT a, count(*) FROM t GROUP BY a HAVING count(*) > 1"),
            "SELECT a, count(*) FROM t GROUP BY a HAVING (count(*) > 1)");
  EXPECT_EQ(Stmt("SELECT a, b FROM t GROUP BY ROLLUP(a, b)"),
            "SELECT a, b FROM t GROUP BY ROLLUP(a, b)");
  EXPECT_EQ(Stmt("SELECT a, b FROM t GROUP BY cube (a, b)"),
            "SELECT a, b FROM t GROUP BY CUBE(a, b)");
  EXPECT_EQ(Stmt("SELECT a, b FROM t GROUP BY a, b WITH ROLLUP"),
            "SELECT a, b FROM t GROUP BY ROLLUP(a, b)");
  EXPECT_EQ(Stmt("SELECT a, b FROM t GROUP BY a, b WITH CUBE"),
            "SELECT a, b FROM t GROUP BY CUBE(a, b)");
  EXPECT_EQ(Stmt("SELECT a, b FROM t GROUP BY GROUPING SETS ((a, b), (a), ())"),
            "SELECT a, b FROM t GROUP BY GROUPING SETS ((a, b), (a), ())");
  EXPECT_EQ(Stmt("SELECT a, b FROM t GROUP BY a, b GROUPING SETS (a, b)"),
            "SELECT a, b FROM t GROUP BY a, b GROUPING SETS ((a), (b))");
  EXPECT_EQ(Stmt("SELECT a, sum(b) FROM t GROUP BY ALL"), "SELECT a, sum(b) FROM t GROUP BY ALL");
  EXPECT_EQ(Stmt("SELECT a, b FROM t GROUP BY a, ROLLUP(b)"),
            "SELECT a, b FROM t GROUP BY a, b GROUPING SETS ((a, b), (a))");
  auto q = ParseQueryOrDie("SELECT 1 FROM t GROUP BY GROUPING SETS ((a, b), a, ())");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->select->grouping, GroupingKind::kGroupingSets);
  ASSERT_EQ(q->select->grouping_sets.size(), 3u);
  EXPECT_EQ(q->select->grouping_sets[0].size(), 2u);
  EXPECT_EQ(q->select->grouping_sets[1].size(), 1u);
  EXPECT_EQ(q->select->grouping_sets[2].size(), 0u);
  q = ParseQueryOrDie("SELECT 1 FROM t GROUP BY CUBE(a, b)");
  EXPECT_EQ(q->select->grouping, GroupingKind::kCube);
  EXPECT_EQ(q->select->group_by.size(), 2u);
}

TEST(QueryParser, OrderLimitOffset) {
  EXPECT_EQ(Stmt("SELECT a FROM t ORDER BY a DESC NULLS FIRST, b LIMIT 10 OFFSET 5"),
            "SELECT a FROM t ORDER BY a DESC NULLS FIRST, b ASC LIMIT 10 OFFSET 5");
  EXPECT_EQ(Stmt("SELECT a FROM t SORT BY a"), "SELECT a FROM t ORDER BY a ASC");
  EXPECT_EQ(Stmt("SELECT a FROM t LIMIT ALL"), "SELECT a FROM t");
  EXPECT_EQ(Stmt("SELECT a FROM t OFFSET 3"), "SELECT a FROM t OFFSET 3");
  EXPECT_EQ(Stmt("SELECT a FROM t ORDER BY 1 NULLS LAST"),
            "SELECT a FROM t ORDER BY 1 ASC NULLS LAST");
  auto q = ParseQueryOrDie("SELECT a FROM t ORDER BY a DESC");
  ASSERT_EQ(q->order_by.size(), 1u);
  EXPECT_FALSE(q->order_by[0].ascending);
  EXPECT_FALSE(q->order_by[0].nulls_first.has_value());
}

TEST(QueryParser, WindowAndQualify) {
  EXPECT_EQ(Stmt("SELECT sum(x) OVER w FROM t WINDOW w AS (PARTITION BY k ORDER BY ts)"),
            "SELECT sum(x) OVER w FROM t WINDOW w AS (PARTITION BY k ORDER BY ts ASC)");
  EXPECT_EQ(Stmt("SELECT a FROM t QUALIFY row_number() OVER (PARTITION BY a ORDER BY b) = 1"),
            "SELECT a FROM t QUALIFY (row_number() OVER (PARTITION BY a ORDER BY b ASC) = 1)");
  EXPECT_EQ(Stmt("SELECT a FROM t WINDOW w1 AS (ORDER BY a), w2 AS w1"),
            "SELECT a FROM t WINDOW w1 AS (ORDER BY a ASC), w2 AS (w1)");
}

TEST(QueryParser, SetOperationsPrecedence) {
  EXPECT_EQ(Stmt("SELECT 1 UNION SELECT 2"), "SELECT 1 UNION SELECT 2");
  EXPECT_EQ(Stmt("SELECT 1 UNION ALL SELECT 2 UNION DISTINCT SELECT 3"),
            "(SELECT 1 UNION ALL SELECT 2) UNION SELECT 3");
  EXPECT_EQ(Stmt("SELECT 1 UNION SELECT 2 INTERSECT SELECT 3"),
            "SELECT 1 UNION (SELECT 2 INTERSECT SELECT 3)");
  EXPECT_EQ(Stmt("SELECT 1 INTERSECT SELECT 2 EXCEPT SELECT 3"),
            "(SELECT 1 INTERSECT SELECT 2) EXCEPT SELECT 3");
  EXPECT_EQ(Stmt("SELECT 1 MINUS SELECT 2"), "SELECT 1 EXCEPT SELECT 2");
  EXPECT_EQ(Stmt("SELECT 1 EXCEPT ALL SELECT 2"), "SELECT 1 EXCEPT ALL SELECT 2");
  EXPECT_EQ(Stmt("(SELECT 1 UNION SELECT 2) INTERSECT SELECT 3"),
            "(SELECT 1 UNION SELECT 2) INTERSECT SELECT 3");
  EXPECT_EQ(Stmt("SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 LIMIT 2"),
            "SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 ASC LIMIT 2");
  auto q = ParseQueryOrDie("SELECT 1 UNION ALL SELECT 2");
  ASSERT_TRUE(q->set_op);
  EXPECT_EQ(q->set_op->type, SetOpType::kUnion);
  EXPECT_TRUE(q->set_op->all);
  q = ParseQueryOrDie("SELECT 1 INTERSECT SELECT 2");
  EXPECT_EQ(q->set_op->type, SetOpType::kIntersect);
  EXPECT_FALSE(q->set_op->all);
}

TEST(QueryParser, WithClause) {
  EXPECT_EQ(Stmt("WITH a AS (SELECT 1 x), b (y) AS (SELECT x FROM a) SELECT * FROM b"),
            "WITH a AS (SELECT 1 AS x), b(y) AS (SELECT x FROM a) SELECT * FROM b");
  EXPECT_EQ(Stmt("WITH c (SELECT 1) SELECT * FROM c"), "WITH c AS (SELECT 1) SELECT * FROM c");
  auto q = ParseQueryOrDie("WITH a(x, y) AS (SELECT 1, 2) SELECT x FROM a");
  ASSERT_EQ(q->with.size(), 1u);
  EXPECT_EQ(q->with[0].name, "a");
  EXPECT_EQ(q->with[0].column_aliases, (std::vector<std::string>{"x", "y"}));
  ASSERT_TRUE(q->select);
}

TEST(QueryParser, FromItems) {
  EXPECT_EQ(Stmt("SELECT * FROM t x"), "SELECT * FROM t AS x");
  EXPECT_EQ(Stmt("SELECT * FROM db.t AS x(a, b)"), "SELECT * FROM db.t AS x(a, b)");
  EXPECT_EQ(Stmt("SELECT * FROM t, u"), "SELECT * FROM t, u");
  EXPECT_EQ(Stmt("SELECT * FROM (SELECT 1 a) s"), "SELECT * FROM (SELECT 1 AS a) AS s");
  EXPECT_EQ(Stmt("SELECT * FROM ((SELECT 1 a)) s"), "SELECT * FROM ((SELECT 1 AS a)) AS s");
  EXPECT_EQ(Stmt("SELECT * FROM delta.`/tmp/x`"), "SELECT * FROM delta.`/tmp/x`");
  EXPECT_EQ(Stmt("SELECT * FROM range(10)"), "SELECT * FROM range(10)");
  EXPECT_EQ(Stmt("SELECT * FROM range(0, 10, 2) AS r(id)"),
            "SELECT * FROM range(0, 10, 2) AS r(id)");
  EXPECT_EQ(Stmt("SELECT * FROM read_files('/data/x', format => 'csv', header => true)"),
            "SELECT * FROM read_files('/data/x', format => 'csv', header => TRUE)");
  EXPECT_EQ(Stmt("SELECT * FROM explode(array(1, 2)) AS t(x)"),
            "SELECT * FROM explode(array(1, 2)) AS t(x)");
  EXPECT_EQ(Stmt("SELECT * FROM VALUES (1, 'a'), (2, 'b') AS t(a, b)"),
            "SELECT * FROM VALUES (1, 'a'), (2, 'b') AS t(a, b)");
  EXPECT_EQ(Stmt("SELECT * FROM VALUES 1, 2 t(x)"), "SELECT * FROM VALUES (1), (2) AS t(x)");
  EXPECT_EQ(Stmt("SELECT * FROM (t JOIN u ON t.a = u.a)"),
            "SELECT * FROM (t JOIN u ON (t.a = u.a))");
  auto q = ParseQueryOrDie("SELECT * FROM read_files('p', format => 'json') f");
  ASSERT_EQ(q->select->from.size(), 1u);
  auto ref = q->select->from[0];
  EXPECT_EQ(ref->type, TableRefType::kTableFunction);
  EXPECT_EQ(ref->name_parts, (std::vector<std::string>{"read_files"}));
  EXPECT_EQ(ref->alias, "f");
  ASSERT_EQ(ref->args.size(), 2u);
  EXPECT_EQ(ref->args[1]->type, ExprType::kNamedArgument);
  q = ParseQueryOrDie("SELECT * FROM delta.`/tmp/x` t");
  ref = q->select->from[0];
  EXPECT_EQ(ref->type, TableRefType::kTable);
  EXPECT_EQ(ref->name_parts, (std::vector<std::string>{"delta", "/tmp/x"}));
  EXPECT_EQ(ref->alias, "t");
}

TEST(QueryParser, Joins) {
  EXPECT_EQ(Stmt("SELECT * FROM a JOIN b ON a.k = b.k"), "SELECT * FROM (a JOIN b ON (a.k = b.k))");
  EXPECT_EQ(Stmt("SELECT * FROM a INNER JOIN b USING (k, j)"),
            "SELECT * FROM (a JOIN b USING (k, j))");
  EXPECT_EQ(Stmt("SELECT * FROM a CROSS JOIN b"), "SELECT * FROM (a CROSS JOIN b)");
  EXPECT_EQ(Stmt("SELECT * FROM a LEFT JOIN b ON x"), "SELECT * FROM (a LEFT JOIN b ON x)");
  EXPECT_EQ(Stmt("SELECT * FROM a LEFT OUTER JOIN b ON x"), "SELECT * FROM (a LEFT JOIN b ON x)");
  EXPECT_EQ(Stmt("SELECT * FROM a RIGHT OUTER JOIN b ON x"), "SELECT * FROM (a RIGHT JOIN b ON x)");
  EXPECT_EQ(Stmt("SELECT * FROM a FULL OUTER JOIN b ON x"), "SELECT * FROM (a FULL JOIN b ON x)");
  EXPECT_EQ(Stmt("SELECT * FROM a FULL JOIN b ON x"), "SELECT * FROM (a FULL JOIN b ON x)");
  EXPECT_EQ(Stmt("SELECT * FROM a LEFT SEMI JOIN b ON x"),
            "SELECT * FROM (a LEFT SEMI JOIN b ON x)");
  EXPECT_EQ(Stmt("SELECT * FROM a SEMI JOIN b ON x"), "SELECT * FROM (a LEFT SEMI JOIN b ON x)");
  EXPECT_EQ(Stmt("SELECT * FROM a LEFT ANTI JOIN b ON x"),
            "SELECT * FROM (a LEFT ANTI JOIN b ON x)");
  EXPECT_EQ(Stmt("SELECT * FROM a ANTI JOIN b ON x"), "SELECT * FROM (a LEFT ANTI JOIN b ON x)");
  EXPECT_EQ(Stmt("SELECT * FROM a NATURAL JOIN b"), "SELECT * FROM (a NATURAL JOIN b)");
  EXPECT_EQ(Stmt("SELECT * FROM a NATURAL LEFT JOIN b"), "SELECT * FROM (a NATURAL LEFT JOIN b)");
  EXPECT_EQ(Stmt("SELECT * FROM a x JOIN b y ON x.k = y.k LEFT JOIN c z ON z.k = x.k"),
            "SELECT * FROM ((a AS x JOIN b AS y ON (x.k = y.k)) LEFT JOIN c AS z ON (z.k = x.k))");
  EXPECT_EQ(Stmt("SELECT * FROM a JOIN (b JOIN c ON p) ON q"),
            "SELECT * FROM (a JOIN (b JOIN c ON p) ON q)");
  EXPECT_EQ(Stmt("SELECT * FROM a, b JOIN c ON p"), "SELECT * FROM a, (b JOIN c ON p)");
  auto q = ParseQueryOrDie("SELECT * FROM a LEFT ANTI JOIN b USING (k)");
  auto j = q->select->from[0];
  EXPECT_EQ(j->type, TableRefType::kJoin);
  EXPECT_EQ(j->join_type, JoinType::kLeftAnti);
  EXPECT_EQ(j->using_columns, (std::vector<std::string>{"k"}));
  q = ParseQueryOrDie("SELECT * FROM a NATURAL FULL OUTER JOIN b");
  EXPECT_TRUE(q->select->from[0]->natural);
  EXPECT_EQ(q->select->from[0]->join_type, JoinType::kFull);
}

TEST(QueryParser, LateralView) {
  EXPECT_EQ(Stmt("SELECT c FROM t LATERAL VIEW explode(xs) tt AS c"),
            "SELECT c FROM t LATERAL VIEW explode(xs) tt AS c");
  EXPECT_EQ(
      Stmt("SELECT k, v FROM t LATERAL VIEW OUTER explode(m) e AS k, v LATERAL VIEW posexplode(ys) "
           "p"),
      "SELECT k, v FROM t LATERAL VIEW OUTER explode(m) e AS k, v LATERAL VIEW posexplode(ys) p");
  auto q = ParseQueryOrDie("SELECT c FROM t LATERAL VIEW OUTER explode(xs) tt AS c WHERE c > 1");
  ASSERT_EQ(q->select->from.size(), 1u);
  auto lv = q->select->from[0];
  EXPECT_EQ(lv->type, TableRefType::kLateralView);
  EXPECT_TRUE(lv->outer);
  EXPECT_EQ(lv->alias, "tt");
  EXPECT_EQ(lv->column_aliases, (std::vector<std::string>{"c"}));
  ASSERT_TRUE(lv->generator);
  EXPECT_EQ(lv->generator->name, "explode");
  ASSERT_TRUE(lv->left);
  EXPECT_EQ(lv->left->name_parts, (std::vector<std::string>{"t"}));
  ASSERT_TRUE(q->select->where);
}

TEST(QueryParser, TimeTravel) {
  auto ref = [](const std::string& sql) {
    auto q = ParseQueryOrDie(sql);
    return q ? q->select->from[0] : nullptr;
  };
  auto r = ref("SELECT * FROM delta.`/p` VERSION AS OF 3");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->version_as_of, 3);
  r = ref("SELECT * FROM t TIMESTAMP AS OF '2024-01-01 00:00:00' x");
  EXPECT_EQ(r->timestamp_as_of, "2024-01-01 00:00:00");
  EXPECT_EQ(r->alias, "x");
  r = ref("SELECT * FROM delta.`/p`@v12");
  EXPECT_EQ(r->version_as_of, 12);
  r = ref("SELECT * FROM t@20240102030405678");
  EXPECT_EQ(r->timestamp_as_of, "2024-01-02 03:04:05.678");
  r = ref("SELECT * FROM t FOR SYSTEM_VERSION AS OF 5");
  EXPECT_EQ(r->version_as_of, 5);
  r = ref("SELECT * FROM t TIMESTAMP AS OF current_timestamp() - INTERVAL 1 DAY");
  EXPECT_EQ(r->timestamp_as_of, "current_timestamp() - INTERVAL 1 DAY");
  EXPECT_EQ(Stmt("SELECT * FROM t VERSION AS OF 2 AS x"), "SELECT * FROM t VERSION AS OF 2 AS x");
  // A table alias named `version` still works when no AS OF follows.
  EXPECT_EQ(Stmt("SELECT * FROM t version"), "SELECT * FROM t AS `version`");
}

TEST(QueryParser, Streaming) {
  auto q = ParseQueryOrDie(
      "SELECT * FROM STREAM read_kafka(bootstrapServers => 'b:9092', subscribe => 'topic') "
      "WATERMARK ts DELAY OF INTERVAL 10 SECONDS");
  ASSERT_TRUE(q);
  auto r = q->select->from[0];
  EXPECT_TRUE(r->stream);
  EXPECT_EQ(r->type, TableRefType::kTableFunction);
  ASSERT_TRUE(r->watermark_column);
  EXPECT_EQ(r->watermark_column->sql_text, "ts");
  ASSERT_TRUE(r->watermark_delay);
  EXPECT_EQ(r->watermark_delay->type, ExprType::kInterval);
  EXPECT_EQ(r->watermark_delay->text, "10 SECONDS");

  q = ParseQueryOrDie("SELECT * FROM STREAM delta.`/p` AS s");
  r = q->select->from[0];
  EXPECT_TRUE(r->stream);
  EXPECT_EQ(r->type, TableRefType::kTable);
  EXPECT_EQ(r->name_parts, (std::vector<std::string>{"delta", "/p"}));
  EXPECT_EQ(r->alias, "s");

  q = ParseQueryOrDie(
      "SELECT * FROM STREAM(events) e WATERMARK e.ts DELAY OF INTERVAL '5' MINUTE JOIN u ON true");
  r = q->select->from[0];
  ASSERT_EQ(r->type, TableRefType::kJoin);
  EXPECT_TRUE(r->left->stream);
  EXPECT_EQ(r->left->alias, "e");
  ASSERT_TRUE(r->left->watermark_column);
  EXPECT_EQ(r->left->watermark_column->name_parts, (std::vector<std::string>{"e", "ts"}));

  EXPECT_EQ(Stmt("SELECT * FROM STREAM t WATERMARK ts DELAY OF INTERVAL 10 SECONDS"),
            "SELECT * FROM STREAM t WATERMARK ts DELAY OF INTERVAL 10 SECONDS");
  EXPECT_EQ(Stmt("SELECT window(ts, '10 seconds'), count(*) FROM STREAM(src) GROUP BY window(ts, "
                 "'10 seconds')"),
            "SELECT window(ts, '10 seconds'), count(*) FROM STREAM src GROUP BY window(ts, '10 "
            "seconds')");
  // `stream` is still usable as a plain table name.
  EXPECT_EQ(Stmt("SELECT * FROM stream"), "SELECT * FROM `stream`");
}

TEST(QueryParser, StreamingPipelines) {
  // Stream-stream join with an event-time range condition.
  EXPECT_EQ(Stmt("SELECT * FROM STREAM imp i WATERMARK i.ts DELAY OF INTERVAL 2 HOURS "
                 "JOIN STREAM clicks c WATERMARK c.ts DELAY OF INTERVAL 3 HOURS "
                 "ON i.id = c.id AND c.ts BETWEEN i.ts AND i.ts + INTERVAL 1 HOUR"),
            "SELECT * FROM (STREAM imp AS i WATERMARK i.ts DELAY OF INTERVAL 2 HOURS JOIN STREAM "
            "clicks AS c "
            "WATERMARK c.ts DELAY OF INTERVAL 3 HOURS ON ((i.id = c.id) AND (c.ts BETWEEN i.ts AND "
            "(i.ts + "
            "INTERVAL 1 HOUR))))");
  // Kafka decode + windowed aggregation into a streaming table.
  auto s = ParseStatement(
      "CREATE OR REFRESH STREAMING TABLE counts AS\n"
      "SELECT window.start, key, count(*) AS n FROM (\n"
      "  SELECT CAST(key AS STRING) key, from_json(CAST(value AS STRING), 'a INT, ts TIMESTAMP') "
      "AS v,\n"
      "         v.ts AS event_time\n"
      "  FROM STREAM read_kafka(bootstrapServers => 'localhost:9092', subscribe => 'events',\n"
      "                         startingOffsets => 'earliest')\n"
      ") WATERMARK event_time DELAY OF INTERVAL 10 SECONDS\n"
      "GROUP BY window(event_time, '1 minute'), key;");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto q = (*s)->query;
  ASSERT_TRUE(q && q->select);
  EXPECT_EQ(q->select->items[0].expr->sql_text, "start");
  EXPECT_EQ(q->select->items[0].expr->name_parts, (std::vector<std::string>{"window", "start"}));
  ASSERT_EQ(q->select->from.size(), 1u);
  EXPECT_EQ(q->select->from[0]->type, TableRefType::kSubquery);
  ASSERT_TRUE(q->select->from[0]->watermark_column);
  EXPECT_EQ(q->select->from[0]->watermark_column->sql_text, "event_time");
  EXPECT_EQ(q->select->grouping, GroupingKind::kPlain);
  ASSERT_EQ(q->select->group_by.size(), 2u);
  EXPECT_EQ(q->select->group_by[0]->name, "window");
  EXPECT_EQ(
      Stmt("INSERT INTO delta.`/out` SELECT * FROM STREAM delta.`/in` WHERE value IS NOT NULL"),
      "INSERT INTO delta.`/out` SELECT * FROM STREAM delta.`/in` WHERE (value IS NOT NULL)");
}

TEST(QueryParser, ValuesAndTableAndFromFirst) {
  EXPECT_EQ(Stmt("VALUES (1, 'a'), (2, 'b')"), "VALUES (1, 'a'), (2, 'b')");
  EXPECT_EQ(Stmt("VALUES (1, 2) AS t(a, b)"), "VALUES (1, 2) AS t(a, b)");
  EXPECT_EQ(Stmt("TABLE t"), "SELECT * FROM t");
  EXPECT_EQ(Stmt("FROM t SELECT a WHERE a > 1"), "SELECT a FROM t WHERE (a > 1)");
  EXPECT_EQ(Stmt("(SELECT 1)"), "(SELECT 1)");
  EXPECT_EQ(Stmt("((SELECT 1)) LIMIT 1"), "((SELECT 1)) LIMIT 1");
  auto q = ParseQueryOrDie("VALUES (1, 'a'), (2, 'b') AS t(a, b)");
  ASSERT_TRUE(q->values);
  EXPECT_EQ(q->values->values_rows.size(), 2u);
  EXPECT_EQ(q->values->column_aliases, (std::vector<std::string>{"a", "b"}));
}

TEST(QueryParser, Subqueries) {
  EXPECT_EQ(Stmt("SELECT (SELECT max(b) FROM u) AS m FROM t"),
            "SELECT (SELECT max(b) FROM u) AS m FROM t");
  EXPECT_EQ(Stmt("SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.a = t.a)"),
            "SELECT * FROM t WHERE (EXISTS (SELECT 1 FROM u WHERE (u.a = t.a)))");
  EXPECT_EQ(Stmt("SELECT * FROM t WHERE a IN (WITH x AS (SELECT 1) SELECT * FROM x)"),
            "SELECT * FROM t WHERE (a IN (WITH x AS (SELECT 1) SELECT * FROM x))");
}

TEST(QueryParser, ParenthesesThatStartWithASubquery) {
  // A '(' followed by SELECT may still be a join or an expression: the parser backtracks.
  EXPECT_EQ(Stmt("SELECT * FROM ((SELECT 1 k) x JOIN (SELECT 1 k) y ON x.k = y.k)"),
            "SELECT * FROM ((SELECT 1 AS k) AS x JOIN (SELECT 1 AS k) AS y ON (x.k = y.k))");
  EXPECT_EQ(Stmt("SELECT * FROM (VALUES (1) AS a(x) JOIN VALUES (1) AS b(y) ON a.x = b.y)"),
            "SELECT * FROM (VALUES (1) AS a(x) JOIN VALUES (1) AS b(y) ON (a.x = b.y))");
  EXPECT_EQ(Stmt("SELECT ((SELECT 1) + 1) AS v"), "SELECT ((SELECT 1) + 1) AS v");
  EXPECT_EQ(Stmt("SELECT a FROM t WHERE a IN ((SELECT 1), 2)"),
            "SELECT a FROM t WHERE (a IN ((SELECT 1), 2))");
  // Errors inside a subquery are reported from the subquery.
  EXPECT_EQ(StmtError("SELECT * FROM (SELECT a FROM)"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near ')': line 1:29, expected a table name, a "
            "subquery or a "
            "table function");
  // Nested alternatives do not blow up: each position is tried once as a query.
  std::string sql = "SELECT ";
  for (int i = 0; i < 60; ++i) sql += "((SELECT ";
  sql += "1 +";
  EXPECT_FALSE(ParseStatements(sql).ok());
}

TEST(QueryParser, LateralAndSpecialCalls) {
  auto q = ParseQueryOrDie("SELECT id, e FROM c, LATERAL explode(arr) AS t(e)");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->select->from.size(), 2u);
  EXPECT_TRUE(q->select->from[1]->lateral);
  EXPECT_EQ(q->select->from[1]->type, TableRefType::kTableFunction);
  EXPECT_EQ(Stmt("SELECT * FROM t, LATERAL (SELECT t.a) s"),
            "SELECT * FROM t, LATERAL (SELECT t.a) AS s");
  EXPECT_EQ(
      Stmt("SELECT exists(arr, x -> x = 5), overlay('abcdef' PLACING 'XY' FROM 3 FOR 1) FROM c"),
      "SELECT exists(arr, (x) -> (x = 5)), overlay('abcdef', 'XY', 3, 1) FROM c");
  EXPECT_EQ(Stmt("SELECT overlay(a, 'x', 2) FROM c"), "SELECT overlay(a, 'x', 2) FROM c");
}

TEST(QueryParser, HintsAndComments) {
  EXPECT_EQ(Stmt("SELECT /*+ BROADCAST(u) */ a FROM t -- trailing\n"), "SELECT a FROM t");
  EXPECT_EQ(Stmt("/* leading */ SELECT 1"), "SELECT 1");
}

TEST(StatementParser, Explain) {
  EXPECT_EQ(Stmt("EXPLAIN SELECT 1"), "EXPLAIN SELECT 1");
  EXPECT_EQ(Stmt("explain extended SELECT 1"), "EXPLAIN EXTENDED SELECT 1");
  EXPECT_EQ(Stmt("EXPLAIN FORMATTED SELECT 1"), "EXPLAIN FORMATTED SELECT 1");
  EXPECT_EQ(Stmt("EXPLAIN CODEGEN SELECT 1"), "EXPLAIN CODEGEN SELECT 1");
  EXPECT_EQ(Stmt("EXPLAIN COST SELECT 1"), "EXPLAIN COST SELECT 1");
  auto s = *ParseStatement("EXPLAIN EXTENDED SELECT a FROM t");
  EXPECT_EQ(s->type, StatementType::kExplain);
  EXPECT_EQ(s->explain_mode, "EXTENDED");
  ASSERT_TRUE(s->inner);
  EXPECT_EQ(s->inner->type, StatementType::kQuery);
}

TEST(StatementParser, SetAndReset) {
  auto s = *ParseStatement("SET spark.sql.session.timeZone = America/Los_Angeles");
  EXPECT_EQ(s->type, StatementType::kSet);
  EXPECT_EQ(s->key, "spark.sql.session.timeZone");
  EXPECT_EQ(s->value, "America/Los_Angeles");
  EXPECT_TRUE(s->has_value);
  s = *ParseStatement("set a.b=c;");
  EXPECT_EQ(s->key, "a.b");
  EXPECT_EQ(s->value, "c");
  s = *ParseStatement("SET k = 'quoted; value'");
  EXPECT_EQ(s->value, "quoted; value");
  s = *ParseStatement("SET k = \"dq\"");
  EXPECT_EQ(s->value, "dq");
  s = *ParseStatement("SET `weird key` = 1");
  EXPECT_EQ(s->key, "weird key");
  EXPECT_EQ(s->value, "1");
  s = *ParseStatement("SET spark.sql.shuffle.partitions");
  EXPECT_EQ(s->key, "spark.sql.shuffle.partitions");
  EXPECT_FALSE(s->has_value);
  s = *ParseStatement("SET");
  EXPECT_EQ(s->type, StatementType::kSet);
  EXPECT_EQ(s->key, "");
  EXPECT_FALSE(s->has_value);
  s = *ParseStatement("SET k =");
  EXPECT_TRUE(s->has_value);
  EXPECT_EQ(s->value, "");
  s = *ParseStatement("SET TIME ZONE 'UTC'");
  EXPECT_EQ(s->key, "spark.sql.session.timeZone");
  EXPECT_EQ(s->value, "UTC");
  s = *ParseStatement("SET k = v -- why\n");
  EXPECT_EQ(s->value, "v");
  s = *ParseStatement("SET k = 'a--b' /* c */");
  EXPECT_EQ(s->value, "a--b");
  s = *ParseStatement("SET -v");
  EXPECT_EQ(s->key, "-v");
  EXPECT_FALSE(s->has_value);
  s = *ParseStatement("EXPLAIN SET a = b");
  ASSERT_TRUE(s->inner);
  EXPECT_EQ(s->inner->type, StatementType::kSet);
  EXPECT_EQ(s->inner->value, "b");
  EXPECT_EQ(s->inner->text, "SET a = b");
  s = *ParseStatement("RESET");
  EXPECT_EQ(s->type, StatementType::kReset);
  EXPECT_EQ(s->key, "");
  s = *ParseStatement("reset spark.sql.shuffle.partitions");
  EXPECT_EQ(s->key, "spark.sql.shuffle.partitions");
  auto all = *ParseStatements("SET a = x y z; SELECT 1");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->value, "x y z");
  EXPECT_EQ(all[1]->type, StatementType::kQuery);
}

TEST(StatementParser, Views) {
  EXPECT_EQ(Stmt("CREATE TEMP VIEW v AS SELECT 1"), "CREATE TEMPORARY VIEW v AS SELECT 1");
  EXPECT_EQ(Stmt("CREATE OR REPLACE GLOBAL TEMPORARY VIEW v (a, b) AS SELECT 1, 2"),
            "CREATE OR REPLACE TEMPORARY VIEW v(a, b) AS SELECT 1, 2");
  EXPECT_EQ(Stmt("DROP VIEW v"), "DROP VIEW v");
  EXPECT_EQ(Stmt("DROP VIEW IF EXISTS db.v"), "DROP VIEW IF EXISTS db.v");
  auto s = *ParseStatement("CREATE OR REPLACE TEMPORARY VIEW v(x) AS SELECT 1");
  EXPECT_EQ(s->type, StatementType::kCreateView);
  EXPECT_TRUE(s->or_replace);
  EXPECT_EQ(s->name_parts, (std::vector<std::string>{"v"}));
  EXPECT_EQ(s->columns, (std::vector<std::string>{"x"}));
  ASSERT_TRUE(s->query);
}

TEST(StatementParser, CreateTableAs) {
  auto s = *ParseStatement(
      "CREATE OR REPLACE TABLE IF NOT EXISTS delta.`/tmp/out` USING delta PARTITIONED BY (a, b) "
      "TBLPROPERTIES ('delta.appendOnly' = 'true', delta.x = 1, 'k' 'v') AS SELECT 1 a, 2 b");
  EXPECT_EQ(s->type, StatementType::kCreateTableAs);
  EXPECT_TRUE(s->or_replace);
  EXPECT_TRUE(s->if_not_exists);
  EXPECT_EQ(s->name_parts, (std::vector<std::string>{"delta", "/tmp/out"}));
  EXPECT_EQ(s->using_format, "delta");
  EXPECT_EQ(s->partition_by, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(s->properties.size(), 3u);
  EXPECT_EQ(s->properties[0], (std::pair<std::string, std::string>{"delta.appendOnly", "true"}));
  EXPECT_EQ(s->properties[1], (std::pair<std::string, std::string>{"delta.x", "1"}));
  EXPECT_EQ(s->properties[2], (std::pair<std::string, std::string>{"k", "v"}));
  ASSERT_TRUE(s->query);
  EXPECT_EQ(Stmt("CREATE TABLE t AS SELECT 1"), "CREATE TABLE t AS SELECT 1");
  EXPECT_EQ(Stmt("CREATE TABLE t USING parquet LOCATION '/x' AS SELECT 1"),
            "CREATE TABLE t USING parquet LOCATION '/x' AS SELECT 1");
  EXPECT_EQ(Stmt("CREATE TABLE t AS (SELECT 1)"), "CREATE TABLE t AS (SELECT 1)");
}

TEST(StatementParser, CreateStreamingTable) {
  auto s = *ParseStatement(
      "CREATE OR REFRESH STREAMING TABLE bronze PARTITIONED BY (day) TBLPROPERTIES ('quality' = "
      "'bronze') "
      "AS SELECT * FROM STREAM read_files('/in', format => 'json')");
  EXPECT_EQ(s->type, StatementType::kCreateStreamingTable);
  EXPECT_TRUE(s->or_replace);
  EXPECT_EQ(s->partition_by, (std::vector<std::string>{"day"}));
  EXPECT_EQ(s->properties.size(), 1u);
  ASSERT_TRUE(s->query);
  EXPECT_TRUE(s->query->select->from[0]->stream);
  EXPECT_EQ(Stmt("CREATE STREAMING TABLE delta.`/o` AS SELECT * FROM STREAM t"),
            "CREATE STREAMING TABLE delta.`/o` AS SELECT * FROM STREAM t");
}

TEST(StatementParser, Insert) {
  EXPECT_EQ(Stmt("INSERT INTO t VALUES (1, 2)"), "INSERT INTO t VALUES (1, 2)");
  EXPECT_EQ(Stmt("INSERT INTO TABLE t SELECT * FROM u"), "INSERT INTO t SELECT * FROM u");
  EXPECT_EQ(Stmt("INSERT OVERWRITE delta.`/p` (a, b) SELECT 1, 2"),
            "INSERT OVERWRITE TABLE delta.`/p` (a, b) SELECT 1, 2");
  EXPECT_EQ(Stmt("INSERT INTO t (SELECT 1)"), "INSERT INTO t (SELECT 1)");
  EXPECT_EQ(Stmt("INSERT INTO t WITH c AS (SELECT 1) SELECT * FROM c"),
            "INSERT INTO t WITH c AS (SELECT 1) SELECT * FROM c");
  auto s = *ParseStatement("INSERT OVERWRITE TABLE t (x) VALUES (1)");
  EXPECT_EQ(s->type, StatementType::kInsert);
  EXPECT_TRUE(s->overwrite);
  EXPECT_EQ(s->columns, (std::vector<std::string>{"x"}));
}

TEST(StatementParser, DescribeAndShow) {
  auto s = *ParseStatement("DESCRIBE HISTORY delta.`/p`");
  EXPECT_EQ(s->type, StatementType::kDescribeHistory);
  EXPECT_EQ(s->name_parts, (std::vector<std::string>{"delta", "/p"}));
  ASSERT_TRUE(s->describe_target);
  s = *ParseStatement("DESC DETAIL t");
  EXPECT_EQ(s->type, StatementType::kDescribeDetail);
  s = *ParseStatement("DESCRIBE TABLE t VERSION AS OF 1");
  EXPECT_EQ(s->type, StatementType::kDescribe);
  ASSERT_TRUE(s->describe_target);
  EXPECT_EQ(s->describe_target->version_as_of, 1);
  s = *ParseStatement("DESCRIBE t");
  EXPECT_EQ(s->type, StatementType::kDescribe);
  EXPECT_EQ(s->name_parts, (std::vector<std::string>{"t"}));
  s = *ParseStatement("DESCRIBE QUERY SELECT 1");
  EXPECT_EQ(s->type, StatementType::kDescribe);
  ASSERT_TRUE(s->query);
  s = *ParseStatement("DESCRIBE SELECT 1");
  ASSERT_TRUE(s->query);
  s = *ParseStatement("SHOW TABLES");
  EXPECT_EQ(s->type, StatementType::kShowTables);
  EXPECT_EQ(s->key, "TABLES");
  s = *ParseStatement("SHOW VIEWS IN db LIKE 'v*'");
  EXPECT_EQ(s->type, StatementType::kShowTables);
  EXPECT_EQ(s->key, "VIEWS");
  EXPECT_EQ(s->name_parts, (std::vector<std::string>{"db"}));
  EXPECT_EQ(s->value, "v*");
  s = *ParseStatement("show functions");
  EXPECT_EQ(s->type, StatementType::kShowFunctions);
  EXPECT_EQ(Stmt("SHOW FUNCTIONS LIKE 'a*'"), "SHOW FUNCTIONS LIKE 'a*'");
}

TEST(StatementParser, MultipleStatementsAndText) {
  auto all = ParseStatements("SELECT 1; \n-- comment;\n SELECT 'a;b' ; ; /* ; */ SELECT 3");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0]->text, "SELECT 1");
  EXPECT_EQ((*all)[1]->text, "SELECT 'a;b'");
  EXPECT_EQ((*all)[1]->loc.line, 3);
  EXPECT_EQ((*all)[1]->loc.column, 2);
  EXPECT_EQ((*all)[2]->text, "SELECT 3");
  EXPECT_TRUE(ParseStatements("").ok());
  EXPECT_TRUE(ParseStatements("  ;; -- x").ValueOrDie().empty());
  EXPECT_FALSE(ParseStatement("SELECT 1; SELECT 2").ok());
  EXPECT_FALSE(ParseStatement("").ok());
}

TEST(StatementParser, LocationsInLaterStatements) {
  auto all = *ParseStatements("SELECT 1;\nSELECT a,\n       b FROM t");
  auto q = all[1]->query;
  EXPECT_EQ(q->select->items[1].expr->loc.line, 3);
  EXPECT_EQ(q->select->items[1].expr->loc.column, 8);
  EXPECT_EQ(q->select->from[0]->loc.line, 3);
  EXPECT_EQ(q->select->from[0]->loc.column, 15);
  std::string err = StmtError("SELECT 1;\nSELECT a FROM t WHERE");
  EXPECT_EQ(err,
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'end of input': line 2:22, expected an "
            "expression");
}

TEST(StatementParser, Errors) {
  EXPECT_EQ(StmtError("SELECT a b c FROM t"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'c': line 1:12, expected ',', FROM or "
            "end of statement");
  EXPECT_EQ(StmtError("SELECT a FROM t WHERE"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'end of input': line 1:22, expected an "
            "expression");
  EXPECT_EQ(StmtError("SELECT a FROM"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'end of input': line 1:14, expected a "
            "table name, a "
            "subquery or a table function");
  EXPECT_EQ(StmtError("SELECT * FROM a JOIN b ON"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'end of input': line 1:26, expected an "
            "expression");
  EXPECT_EQ(StmtError("SELECT * FROM a LEFT b"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'b': line 1:22, expected JOIN");
  EXPECT_EQ(StmtError("SELEC 1"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC': line 1:1, expected a statement "
            "(SELECT, WITH, "
            "VALUES, EXPLAIN, SET, CREATE, INSERT, DESCRIBE, SHOW, ...)");
  EXPECT_EQ(StmtError("SELECT 1 UNION"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'end of input': line 1:15, expected a "
            "query (SELECT, "
            "VALUES, WITH or '(')");
  EXPECT_EQ(StmtError("CREATE TABLE t (a INT)"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near '(': line 1:16, expected USING, "
            "PARTITIONED BY, "
            "TBLPROPERTIES or AS (CREATE TABLE with a column list is not supported; use CREATE "
            "TABLE ... AS "
            "SELECT)");
  EXPECT_EQ(StmtError("SELECT 'abc"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near ''abc': line 1:8, unterminated string "
            "literal: expected "
            "closing '");
  EXPECT_EQ(StmtError("SELECT 1 /* x"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near '/* x': line 1:10, unterminated comment: "
            "expected '*/'");
  EXPECT_EQ(StmtError("SELECT * FROM t GROUP BY"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'end of input': line 1:25, expected an "
            "expression");
  EXPECT_EQ(StmtError("SELECT (1"),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'end of input': line 1:10, expected ')'");
  EXPECT_EQ(
      StmtError("INSERT t SELECT 1"),
      "[PARSE_SYNTAX_ERROR] Syntax error at or near 't': line 1:8, expected INTO or OVERWRITE");
}

TEST(StatementParser, DeepQueriesFailCleanly) {
  std::string sql;
  for (int i = 0; i < 5000; ++i) sql += "SELECT * FROM (";
  sql += "SELECT 1";
  auto r = ParseStatements(sql);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too deeply nested"), std::string::npos);
  sql = "SELECT 1";
  for (int i = 0; i < 20000; ++i) sql += " UNION SELECT 1";
  r = ParseStatements(sql);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too deeply nested"), std::string::npos);
  sql = "SELECT * FROM t0";
  for (int i = 0; i < 20000; ++i) sql += " JOIN t ON true";
  EXPECT_FALSE(ParseStatements(sql).ok());
  // Wide but shallow inputs are fine.
  sql = "SELECT a FROM t WHERE a IN (";
  for (int i = 0; i < 20000; ++i) sql += (i ? ", " : "") + std::to_string(i);
  sql += ")";
  EXPECT_TRUE(ParseStatements(sql).ok());
}

TEST(SplitStatements, SplitsAndReportsIncomplete) {
  bool incomplete = false;
  auto parts = SplitStatements("SELECT 1; SELECT ';' ;", &incomplete);
  EXPECT_EQ(parts, (std::vector<std::string>{"SELECT 1", "SELECT ';'"}));
  EXPECT_FALSE(incomplete);
  parts = SplitStatements("SELECT 1; SELECT 2", &incomplete);
  EXPECT_EQ(parts.size(), 2u);
  EXPECT_TRUE(incomplete);
  SplitStatements("SELECT 'abc;", &incomplete);
  EXPECT_TRUE(incomplete);
  SplitStatements("SELECT 1 /* ; ", &incomplete);
  EXPECT_TRUE(incomplete);
  SplitStatements("SELECT `a;", &incomplete);
  EXPECT_TRUE(incomplete);
  parts = SplitStatements("SELECT 1; -- done", &incomplete);
  EXPECT_EQ(parts.size(), 1u);
  EXPECT_FALSE(incomplete);
  parts = SplitStatements("SELECT 'it\\'s;'; SELECT \"x;\";", &incomplete);
  EXPECT_EQ(parts, (std::vector<std::string>{"SELECT 'it\\'s;'", "SELECT \"x;\""}));
  EXPECT_FALSE(incomplete);
  parts = SplitStatements("  \n ", &incomplete);
  EXPECT_TRUE(parts.empty());
  EXPECT_FALSE(incomplete);
  parts = SplitStatements("SELECT /* a;\n b */ 1;", &incomplete);
  EXPECT_EQ(parts, (std::vector<std::string>{"SELECT /* a;\n b */ 1"}));
}

}  // namespace
}  // namespace lakestream::sql
