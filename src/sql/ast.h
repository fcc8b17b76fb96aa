// The syntax tree of Spark SQL statements, as parsed and before any name is
// resolved. The binder (plan layer) turns it into a logical plan. Nodes keep
// the line:column where they start so errors can point at them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lakestream::sql {

struct Location {
  int line = 1;    // 1-based
  int column = 1;  // 1-based
};

struct Query;
struct Select;
using QueryPtr = std::shared_ptr<Query>;

// ---------------------------------------------------------------- expressions

enum class ExprType {
  kLiteral,       // literal_kind + text
  kColumn,        // name_parts: [a], [t, a], [db, t, a]; also struct field access a.b.c
  kStar,          // name_parts: [] for *, [t] for t.*
  kUnary,         // op: "-", "+", "NOT", "~"
  kBinary,        // op: "+", "-", "*", "/", "%", "DIV", "||", "=", "==", "<>", "!=", "<", "<=",
                  //     ">", ">=", "<=>", "AND", "OR", "&", "|", "^"
  kFunction,      // name (lower case; may be qualified a.b), args, distinct, filter, over, ignore_nulls
  kCase,          // operand (optional, simple CASE), whens (cond, result) pairs, else_expr
  kCast,          // args[0], type_text (DDL text), try_cast; also expr::TYPE
  kIsNull,        // args[0], negated (IS NOT NULL)
  kIsBool,        // args[0] IS [NOT] TRUE/FALSE/UNKNOWN: op "TRUE"/"FALSE"/"UNKNOWN", negated
  kIsDistinctFrom,// args[0], args[1], negated (IS NOT DISTINCT FROM)
  kBetween,       // args[0] BETWEEN args[1] AND args[2], negated
  kInList,        // args[0] IN (args[1..]), negated
  kInSubquery,    // args[0] IN (subquery), negated
  kExists,        // EXISTS (subquery), negated
  kScalarSubquery,// (subquery)
  kLike,          // args[0] LIKE/ILIKE/RLIKE args[1] [ESCAPE args[2]]; op "LIKE"/"ILIKE"/"RLIKE"; negated;
                  // quantifier "ANY"/"ALL" with args[1..] as the pattern list
  kSubscript,     // args[0][args[1]]
  kField,         // args[0].name (field of a computed struct)
  kInterval,      // INTERVAL literal: text holds the whole literal body ("1 DAY 2 HOURS", "'10' SECOND")
  kLambda,        // lambda_params -> args[0] (for higher-order functions)
  kNamedArgument, // name => args[0] (table function / function named arguments)
  kParameter,     // ? or :name (reserved)
};

enum class LiteralKind {
  kNull,
  kBoolean,     // text "true"/"false"
  kInteger,     // text digits, may carry suffix L/S/Y (bigint/smallint/tinyint) kept in `suffix`
  kDecimal,     // text "1.5", "1.5BD" (suffix BD), or exponent-less decimal literal
  kDouble,      // text "1.5e3" or suffix D; suffix F for float
  kString,      // text is the unescaped value
  kBinary,      // X'ABCD': text is the hex digits
  kDate,        // DATE 'yyyy-mm-dd': text is the quoted string
  kTimestamp,   // TIMESTAMP '...'
  kTimestampNtz,// TIMESTAMP_NTZ '...'
};

struct WindowSpec;
struct AstExpr;
using AstExprPtr = std::shared_ptr<AstExpr>;

struct AstExpr {
  ExprType type;
  Location loc;
  std::string op;
  std::string name;
  std::vector<std::string> name_parts;
  std::vector<AstExprPtr> args;
  bool negated = false;
  bool distinct = false;
  bool try_cast = false;
  bool ignore_nulls = false;  // first(x) IGNORE NULLS / lag(...) IGNORE NULLS
  LiteralKind literal_kind = LiteralKind::kNull;
  std::string text;    // literal text, cast target type text, interval body
  std::string suffix;  // numeric literal suffix (L, S, Y, D, F, BD), upper case
  std::string quantifier;                             // LIKE ANY/ALL
  AstExprPtr operand;                                 // simple CASE operand
  std::vector<std::pair<AstExprPtr, AstExprPtr>> whens;
  AstExprPtr else_expr;
  AstExprPtr filter;                                  // agg(...) FILTER (WHERE ...)
  std::shared_ptr<WindowSpec> over;                   // f(...) OVER (...)
  std::string window_name;                            // f(...) OVER w
  QueryPtr subquery;
  std::vector<std::string> lambda_params;
  /// Original SQL text of the expression (for default column names, as Spark
  /// names them, e.g. "(a + 1)" or "count(1)"). Filled by the parser.
  std::string sql_text;
  /// `expr AS name` inside a function's argument list, e.g. struct(a AS x).
  std::string alias;
};

struct OrderItem {
  AstExprPtr expr;
  bool ascending = true;
  std::optional<bool> nulls_first;  // unset: Spark default (NULLS FIRST for ASC, LAST for DESC)
};

enum class FrameType { kRows, kRange };
enum class BoundType { kUnboundedPreceding, kPreceding, kCurrentRow, kFollowing, kUnboundedFollowing };
struct FrameBound {
  BoundType type = BoundType::kCurrentRow;
  AstExprPtr offset;  // for kPreceding / kFollowing
};
struct WindowFrame {
  FrameType type = FrameType::kRange;
  FrameBound start;
  FrameBound end;
};

struct WindowSpec {
  std::string base_name;  // OVER (w ORDER BY ...) refers to WINDOW w AS (...)
  std::vector<AstExprPtr> partition_by;
  std::vector<OrderItem> order_by;
  std::optional<WindowFrame> frame;
};

// ------------------------------------------------------------------ relations

enum class TableRefType {
  kTable,          // name_parts (e.g. [t], [db, t], [delta, /path]); version/timestamp for time travel
  kSubquery,       // (query) alias
  kJoin,           // left join_type right ON condition | USING (cols) | NATURAL
  kTableFunction,  // name(args...) e.g. read_files('path', format => 'csv'), range(10)
  kValues,         // VALUES (...), (...) AS t(a, b)
  kLateralView,    // left LATERAL VIEW [OUTER] explode(expr) alias AS cols
};

enum class JoinType { kInner, kLeft, kRight, kFull, kCross, kLeftSemi, kLeftAnti };

struct TableRef;
using TableRefPtr = std::shared_ptr<TableRef>;

struct TableRef {
  TableRefType type;
  Location loc;
  std::vector<std::string> name_parts;  // kTable; kTableFunction: [name]
  std::string alias;
  std::vector<std::string> column_aliases;  // AS t(a, b)
  // time travel (kTable)
  std::optional<int64_t> version_as_of;
  std::optional<std::string> timestamp_as_of;
  bool stream = false;  // FROM STREAM <source> (streaming read)
  bool lateral = false; // FROM t, LATERAL (subquery) | LATERAL explode(t.arr): may reference earlier FROM items
  // WATERMARK col DELAY OF INTERVAL ... (streaming)
  AstExprPtr watermark_column;
  AstExprPtr watermark_delay;
  QueryPtr subquery;                  // kSubquery
  std::vector<AstExprPtr> args;       // kTableFunction (positional and kNamedArgument)
  std::vector<std::vector<AstExprPtr>> values_rows;  // kValues
  // kJoin
  JoinType join_type = JoinType::kInner;
  bool natural = false;
  TableRefPtr left;
  TableRefPtr right;
  AstExprPtr condition;
  std::vector<std::string> using_columns;
  // kLateralView (left = input)
  AstExprPtr generator;
  bool outer = false;
};

// -------------------------------------------------------------------- queries

struct SelectItem {
  AstExprPtr expr;
  std::string alias;  // empty if none
  std::vector<std::string> multi_alias;  // AS (a, b) for generators
};

enum class GroupingKind { kNone, kPlain, kRollup, kCube, kGroupingSets, kAll };

struct Select {
  bool distinct = false;
  std::vector<SelectItem> items;
  std::vector<TableRefPtr> from;  // comma-separated FROM items (implicit cross join)
  AstExprPtr where;
  GroupingKind grouping = GroupingKind::kNone;
  std::vector<AstExprPtr> group_by;  // plain keys, or the ROLLUP/CUBE columns
  std::vector<std::vector<AstExprPtr>> grouping_sets;  // GROUPING SETS ((a, b), (a), ())
  AstExprPtr having;
  std::vector<std::pair<std::string, std::shared_ptr<WindowSpec>>> windows;  // WINDOW w AS (...)
  AstExprPtr qualify;
};

enum class SetOpType { kUnion, kIntersect, kExcept };

struct CommonTableExpr {
  std::string name;
  std::vector<std::string> column_aliases;
  QueryPtr query;
};

/// A query expression: a SELECT, VALUES, a set operation or a parenthesized
/// query, with optional WITH, ORDER BY, LIMIT, OFFSET.
struct Query {
  Location loc;
  std::vector<CommonTableExpr> with;
  // Exactly one of the following bodies:
  std::shared_ptr<Select> select;
  TableRefPtr values;  // a bare VALUES query (TableRefType::kValues)
  struct SetOp {
    SetOpType type;
    bool all = false;  // UNION ALL; UNION/INTERSECT/EXCEPT default DISTINCT
    QueryPtr left;
    QueryPtr right;
  };
  std::shared_ptr<SetOp> set_op;
  QueryPtr nested;  // ( query )
  std::vector<OrderItem> order_by;
  AstExprPtr limit;   // LIMIT n | LIMIT ALL (null)
  AstExprPtr offset;
};

// ----------------------------------------------------------------- statements

enum class StatementType {
  kQuery,              // query
  kExplain,            // EXPLAIN [EXTENDED|FORMATTED] statement (inner)
  kSet,                // SET key = value | SET key | SET
  kReset,              // RESET [key]
  kCreateView,         // CREATE [OR REPLACE] [GLOBAL] TEMP[ORARY] VIEW name [(cols)] AS query
  kDropView,           // DROP VIEW [IF EXISTS] name
  kCreateTableAs,      // CREATE [OR REPLACE] TABLE [IF NOT EXISTS] target [USING fmt] [PARTITIONED BY (cols)]
                       //   [TBLPROPERTIES (...)] AS query
  kCreateStreamingTable,  // CREATE [OR REFRESH] STREAMING TABLE target ... AS query
  kInsert,             // INSERT INTO|OVERWRITE [TABLE] target [(cols)] query
  kDescribeHistory,    // DESCRIBE HISTORY target
  kDescribeDetail,     // DESCRIBE DETAIL target
  kDescribe,           // DESCRIBE [TABLE|QUERY] target-or-query
  kShowTables,         // SHOW TABLES / SHOW VIEWS
  kShowFunctions,      // SHOW FUNCTIONS
};

struct Statement;
using StatementPtr = std::shared_ptr<Statement>;

struct Statement {
  StatementType type;
  Location loc;
  std::string text;  // the statement's own SQL text
  QueryPtr query;
  StatementPtr inner;       // kExplain
  std::string explain_mode; // "", "EXTENDED", "FORMATTED", "CODEGEN", "COST"
  std::string key;          // kSet/kReset; kShowTables: "TABLES" or "VIEWS"
  std::string value;        // kSet; empty with has_value false for SET key; SHOW ... LIKE 'pattern' (has_value)
  bool has_value = false;
  std::vector<std::string> name_parts;  // view / table target ([delta, /path] or [t])
  std::vector<std::string> columns;     // view column aliases, INSERT column list
  bool or_replace = false;
  bool if_not_exists = false;
  bool if_exists = false;
  bool overwrite = false;   // INSERT OVERWRITE
  std::string using_format; // USING delta
  std::vector<std::string> partition_by;
  std::vector<std::pair<std::string, std::string>> properties;  // TBLPROPERTIES / OPTIONS
  TableRefPtr describe_target;  // kDescribe* on a table (with time travel)
  std::string location;     // CREATE TABLE ... LOCATION 'path'
  std::string comment;      // CREATE TABLE/VIEW ... COMMENT '...'
};

}  // namespace lakestream::sql
