// Recursive-descent parser for Spark SQL (see parser.h). Expressions follow
// Spark's precedence (SqlBaseParser.g4): OR < AND < NOT < predicates <
// comparison < | < ^ < & < shifts < + - || < * / % DIV < unary < postfix.
// Every expression gets `sql_text`, the name Spark gives an unaliased column.
// Nesting is capped (kMaxNesting) so hostile input fails cleanly instead of
// exhausting the stack, and left-deep operator chains count toward the cap
// because destroying and naming them is recursive too.
#include "sql/parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>

#include "sql/lexer.h"

namespace lakestream::sql {

namespace {

constexpr int kMaxNesting = 256;

bool IsReservedToken(const Token& t) {
  return t.type == TokenType::kWord && IsReservedWord(ToUpperAscii(t.text));
}

bool IsIntervalUnit(const Token& t) {
  static const std::unordered_set<std::string> kUnits = {
      "YEAR",   "YEARS",   "MONTH",       "MONTHS",       "WEEK",        "WEEKS",
      "DAY",    "DAYS",    "HOUR",        "HOURS",        "MINUTE",      "MINUTES",
      "SECOND", "SECONDS", "MILLISECOND", "MILLISECONDS", "MICROSECOND", "MICROSECONDS"};
  return t.type == TokenType::kWord && kUnits.count(ToUpperAscii(t.text)) > 0;
}

// Java's Double.toString, which Spark uses to name double literals: shortest
// digits, plain notation in [1e-3, 1e7), else 1.5E10.
std::string FormatDouble(const std::string& digits) {
  double d = std::strtod(digits.c_str(), nullptr);
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (std::isnan(d)) return "NaN";
  char buf[64];
  double mag = std::fabs(d);
  if (d == 0 || (mag >= 1e-3 && mag < 1e7)) {
    auto r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
    std::string s(buf, r.ptr);
    if (s.find('.') == std::string::npos) s += ".0";
    return s;
  }
  auto r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string s(buf, r.ptr);  // e.g. 1.5e+10
  size_t e = s.find('e');
  std::string mant = s.substr(0, e);
  std::string exp = s.substr(e + 1);
  if (mant.find('.') == std::string::npos) mant += ".0";
  if (!exp.empty() && exp[0] == '+') exp = exp.substr(1);
  size_t nz = (exp[0] == '-') ? 1 : 0;
  while (exp.size() > nz + 1 && exp[nz] == '0') exp.erase(nz, 1);
  return mant + "E" + exp;
}

// Spark names `INTERVAL 10 SECONDS` as INTERVAL '10' SECOND; only the
// single-unit forms are normalized, others keep their text.
std::string IntervalSql(const std::vector<Token>& toks, size_t first, size_t last,
                        const std::string& text) {
  if (last - first == 2 || last - first == 3) {
    size_t i = first;
    std::string sign;
    if (toks[i].IsSymbol("-")) {
      sign = "-";
      ++i;
    }
    const Token& v = toks[i];
    if (i + 2 == last && (v.type == TokenType::kString || v.type == TokenType::kInteger) &&
        toks[i + 1].type == TokenType::kWord) {
      std::string unit = ToUpperAscii(toks[i + 1].text);
      if (unit.size() > 1 && unit.back() == 'S') unit.pop_back();
      return "INTERVAL '" + sign + v.text + "' " + unit;
    }
  }
  return "INTERVAL " + text;
}

std::string Join(const std::vector<AstExprPtr>& es, std::string_view sep = ", ") {
  std::string out;
  for (size_t i = 0; i < es.size(); ++i) {
    if (i) out += sep;
    out += es[i]->sql_text;
  }
  return out;
}

// Spark's SQL spelling of a simple type name, for CAST(...) column names.
std::string NormalizeTypeWord(const std::string& w) {
  std::string u = ToUpperAscii(w);
  if (u == "INTEGER") return "INT";
  if (u == "LONG") return "BIGINT";
  if (u == "SHORT") return "SMALLINT";
  if (u == "BYTE") return "TINYINT";
  if (u == "REAL") return "FLOAT";
  if (u == "DEC" || u == "NUMERIC") return "DECIMAL";
  if (u == "TIMESTAMP_LTZ") return "TIMESTAMP";
  return u;
}

class Parser {
 public:
  Parser(std::string_view sql, std::vector<Token> tokens) : sql_(sql), toks_(std::move(tokens)) {}

  Result<StatementPtr> ParseWholeStatement() {
    LS_ASSIGN_OR_RAISE(auto stmt, ParseStatement());
    if (Cur().type != TokenType::kEnd) {
      return Error(
          Cur(), pos_ == select_items_end_ ? "',', FROM or end of statement" : "end of statement");
    }
    return stmt;
  }

  Result<AstExprPtr> ParseWholeExpression() {
    LS_ASSIGN_OR_RAISE(auto e, ParseExpr());
    if (Cur().type != TokenType::kEnd) return Error(Cur(), "end of expression");
    return e;
  }

 private:
  // ------------------------------------------------------------ token helpers
  const Token& Peek(size_t k = 0) const {
    size_t i = pos_ + k;
    return i < toks_.size() ? toks_[i] : toks_.back();
  }
  const Token& Cur() const { return Peek(0); }
  const Token& Prev() const { return toks_[pos_ > 0 ? pos_ - 1 : 0]; }
  void Advance() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool AcceptWord(std::string_view kw) {
    if (!Cur().IsWord(kw)) return false;
    Advance();
    return true;
  }
  bool AcceptSymbol(std::string_view s) {
    if (!Cur().IsSymbol(s)) return false;
    Advance();
    return true;
  }
  Status ExpectWord(std::string_view kw) {
    if (AcceptWord(kw)) return Status::OK();
    return Error(Cur(), std::string(kw));
  }
  Status ExpectSymbol(std::string_view s) {
    if (AcceptSymbol(s)) return Status::OK();
    return Error(Cur(), "'" + std::string(s) + "'");
  }
  std::string TokenSource(const Token& t) const {
    if (t.type == TokenType::kEnd) return "end of input";
    return std::string(sql_.substr(t.begin, t.end - t.begin));
  }
  Status Error(const Token& t, std::string_view expected) const {
    return UserError("[PARSE_SYNTAX_ERROR] Syntax error at or near '{}': line {}:{}, expected {}",
                     TokenSource(t), t.loc.line, t.loc.column, expected);
  }
  std::string Slice(size_t b, size_t e) const {
    if (e < b) e = b;
    return std::string(sql_.substr(b, e - b));
  }

  // Nesting guard: every recursive production enters one.
  struct Nest {
    explicit Nest(Parser* p) : p(p) { ++p->depth_; }
    ~Nest() { --p->depth_; }
    Parser* p;
  };
  Status CheckDepth() const {
    if (depth_ > kMaxNesting) {
      return UserError(
          "[PARSE_SYNTAX_ERROR] Statement too deeply nested at line {}:{}: more than {} levels of "
          "nested expressions, subqueries or operator chains",
          Cur().loc.line, Cur().loc.column, kMaxNesting);
    }
    return Status::OK();
  }

  bool IsIdentToken(const Token& t, bool allow_reserved) const {
    if (t.type == TokenType::kQuotedIdent) return true;
    if (t.type != TokenType::kWord) return false;
    return allow_reserved || !IsReservedToken(t);
  }
  Result<std::string> ParseIdentifier(bool allow_reserved = false,
                                      std::string_view what = "an identifier") {
    if (!IsIdentToken(Cur(), allow_reserved)) return Error(Cur(), what);
    std::string s = Cur().text;
    Advance();
    return s;
  }
  // ident (',' ident)* inside parentheses.
  Result<std::vector<std::string>> ParseIdentifierList() {
    LS_RETURN_NOT_OK(ExpectSymbol("("));
    std::vector<std::string> out;
    do {
      LS_ASSIGN_OR_RAISE(auto id, ParseIdentifier(true, "a column name"));
      out.push_back(std::move(id));
    } while (AcceptSymbol(","));
    LS_RETURN_NOT_OK(ExpectSymbol(")"));
    return out;
  }
  Result<std::vector<std::string>> ParseQualifiedName(std::string_view what) {
    std::vector<std::string> parts;
    LS_ASSIGN_OR_RAISE(auto first, ParseIdentifier(false, what));
    parts.push_back(std::move(first));
    while (Cur().IsSymbol(".") && IsIdentToken(Peek(1), true)) {
      Advance();
      parts.push_back(Cur().text);
      Advance();
    }
    return parts;
  }

  // True if the tokens at offset k (after any '(') start a query.
  bool LooksLikeQuery(size_t k) const {
    while (Peek(k).IsSymbol("(")) ++k;
    const Token& t = Peek(k);
    return t.IsWord("SELECT") || t.IsWord("WITH") || t.IsWord("VALUES") || t.IsWord("FROM") ||
           (t.IsWord("TABLE") && IsIdentToken(Peek(k + 1), false));
  }

  // Parses `query )` at the cursor; on failure restores the cursor so the
  // caller can read the parentheses another way, e.g. ((SELECT 1) + 1) or
  // ((SELECT ...) AS x JOIN y ON ...).
  // Failures are remembered per position: without that, nested alternatives
  // would be retried exponentially often.
  Result<QueryPtr> TryQueryThenParen() {
    size_t save = pos_;
    if (auto it = failed_queries_.find(save); it != failed_queries_.end()) return it->second;
    auto q = ParseQuery();
    if (q.ok() && AcceptSymbol(")")) return q;
    Status st = q.ok() ? Error(Cur(), "')'") : q.status();
    pos_ = save;
    failed_queries_.emplace(save, st);
    return st;
  }

  AstExprPtr Make(ExprType type, Location loc) {
    auto e = std::make_shared<AstExpr>();
    e->type = type;
    e->loc = loc;
    return e;
  }

  // ---------------------------------------------------------------- statements
  Result<StatementPtr> ParseStatement() {
    Nest nest(this);
    LS_RETURN_NOT_OK(CheckDepth());
    auto stmt = std::make_shared<Statement>();
    const Token& first = Cur();
    stmt->loc = first.loc;
    if (AcceptWord("EXPLAIN")) {
      stmt->type = StatementType::kExplain;
      for (const char* mode : {"EXTENDED", "FORMATTED", "CODEGEN", "COST", "LOGICAL"}) {
        if (AcceptWord(mode)) {
          stmt->explain_mode = mode;
          break;
        }
      }
      size_t inner_begin = Cur().begin;
      LS_ASSIGN_OR_RAISE(stmt->inner, ParseStatement());
      stmt->inner->text = Slice(inner_begin, toks_.back().begin);
      while (!stmt->inner->text.empty() &&
             std::isspace(static_cast<unsigned char>(stmt->inner->text.back()))) {
        stmt->inner->text.pop_back();
      }
      return stmt;
    }
    if (first.IsWord("SET") || first.IsWord("RESET")) {
      size_t end = toks_.back().begin;
      Advance();
      ParseSetText(first.IsWord("SET"),
                   std::string_view(sql_).substr(Cur().begin, end - std::min(end, Cur().begin)),
                   stmt.get());
      pos_ = toks_.size() - 1;
      return stmt;
    }
    if (AcceptWord("CREATE")) return ParseCreate(stmt);
    if (AcceptWord("DROP")) {
      stmt->type = StatementType::kDropView;
      if (!AcceptWord("TEMPORARY")) AcceptWord("TEMP");
      if (!AcceptWord("VIEW")) return Error(Cur(), "VIEW (only DROP VIEW is supported)");
      if (AcceptWord("IF")) {
        LS_RETURN_NOT_OK(ExpectWord("EXISTS"));
        stmt->if_exists = true;
      }
      LS_ASSIGN_OR_RAISE(stmt->name_parts, ParseQualifiedName("a view name"));
      return stmt;
    }
    if (AcceptWord("INSERT")) return ParseInsert(stmt);
    if (AcceptWord("DESCRIBE") || AcceptWord("DESC")) return ParseDescribe(stmt);
    if (AcceptWord("SHOW")) {
      if (AcceptWord("TABLES") || AcceptWord("VIEWS")) {
        stmt->type = StatementType::kShowTables;
        stmt->key = ToUpperAscii(Prev().text);
        if (AcceptWord("IN") || AcceptWord("FROM")) {
          LS_ASSIGN_OR_RAISE(stmt->name_parts, ParseQualifiedName("a schema name"));
        }
      } else if (AcceptWord("FUNCTIONS") ||
                 (AcceptWord("USER") || AcceptWord("SYSTEM") || AcceptWord("ALL"))) {
        if (!Prev().IsWord("FUNCTIONS")) LS_RETURN_NOT_OK(ExpectWord("FUNCTIONS"));
        stmt->type = StatementType::kShowFunctions;
        stmt->key = "FUNCTIONS";
      } else {
        return Error(Cur(), "TABLES, VIEWS or FUNCTIONS");
      }
      AcceptWord("LIKE");
      if (Cur().type == TokenType::kString) {
        stmt->value = Cur().text;
        stmt->has_value = true;
        Advance();
      }
      return stmt;
    }
    stmt->type = StatementType::kQuery;
    if (!LooksLikeQuery(0) && !Cur().IsSymbol("(")) {
      return Error(
          Cur(),
          "a statement (SELECT, WITH, VALUES, EXPLAIN, SET, CREATE, INSERT, DESCRIBE, SHOW, ...)");
    }
    LS_ASSIGN_OR_RAISE(stmt->query, ParseQuery());
    return stmt;
  }

 public:
  // SET / RESET bodies are raw text (values like America/Los_Angeles are not tokens).
  static void ParseSetText(bool is_set, std::string_view body, Statement* stmt) {
    auto trim = [](std::string_view s) {
      while (!s.empty() &&
             (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
        s.remove_prefix(1);
      while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                            s.back() == '\r' || s.back() == ';'))
        s.remove_suffix(1);
      return s;
    };
    auto unquote = [](std::string_view s) -> std::string {
      if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front()) {
        return UnescapeSqlString(s.substr(1, s.size() - 2));
      }
      if (s.size() >= 2 && s.front() == '`' && s.back() == '`')
        return std::string(s.substr(1, s.size() - 2));
      return std::string(s);
    };
    // Drop comments outside quotes (SET k = v -- why).
    std::string cleaned;
    {
      char q = 0;
      for (size_t i = 0; i < body.size(); ++i) {
        char c = body[i];
        if (q) {
          if (c == '\\' && q != '`' && i + 1 < body.size()) {
            cleaned += c;
            c = body[++i];
          } else if (c == q) {
            q = 0;
          }
        } else if (c == '\'' || c == '"' || c == '`') {
          q = c;
        } else if (c == '-' && i + 1 < body.size() && body[i + 1] == '-') {
          while (i < body.size() && body[i] != '\n') ++i;
          continue;
        } else if (c == '/' && i + 1 < body.size() && body[i + 1] == '*') {
          int depth = 0;
          for (; i < body.size(); ++i) {
            if (body[i] == '/' && i + 1 < body.size() && body[i + 1] == '*') {
              ++depth;
              ++i;
            } else if (body[i] == '*' && i + 1 < body.size() && body[i + 1] == '/') {
              ++i;
              if (--depth == 0) break;
            }
          }
          continue;
        }
        cleaned += c;
      }
    }
    body = trim(cleaned);
    stmt->type = is_set ? StatementType::kSet : StatementType::kReset;
    if (!is_set) {
      stmt->key = unquote(body);
      return;
    }
    // SET TIME ZONE 'x' | LOCAL
    std::string upper = ToUpperAscii(body.substr(0, 9));
    if (upper == "TIME ZONE" && (body.size() == 9 || body[9] == ' ' || body[9] == '\t')) {
      stmt->key = "spark.sql.session.timeZone";
      std::string v = unquote(trim(body.substr(9)));
      if (ToUpperAscii(v) == "LOCAL") v = "";
      stmt->value = v;
      stmt->has_value = true;
      return;
    }
    // Find the first '=' outside quotes.
    char quote = 0;
    size_t eq = std::string_view::npos;
    for (size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if (quote) {
        if (c == '\\' && quote != '`')
          ++i;
        else if (c == quote)
          quote = 0;
      } else if (c == '\'' || c == '"' || c == '`') {
        quote = c;
      } else if (c == '=') {
        eq = i;
        break;
      }
    }
    if (eq == std::string_view::npos) {
      stmt->key = unquote(body);
      stmt->has_value = false;
      return;
    }
    stmt->key = unquote(trim(body.substr(0, eq)));
    stmt->value = unquote(trim(body.substr(eq + 1)));
    stmt->has_value = true;
  }

 private:
  Result<StatementPtr> ParseCreate(StatementPtr stmt) {
    if (AcceptWord("OR")) {
      if (!AcceptWord("REPLACE") && !AcceptWord("REFRESH"))
        return Error(Cur(), "REPLACE or REFRESH");
      stmt->or_replace = true;
    }
    bool temp = false;
    AcceptWord("GLOBAL");
    if (AcceptWord("TEMPORARY") || AcceptWord("TEMP")) temp = true;
    if (AcceptWord("VIEW")) {
      (void)temp;
      stmt->type = StatementType::kCreateView;
      if (AcceptWord("IF")) {
        LS_RETURN_NOT_OK(ExpectWord("NOT"));
        LS_RETURN_NOT_OK(ExpectWord("EXISTS"));
        stmt->if_not_exists = true;
      }
      LS_ASSIGN_OR_RAISE(stmt->name_parts, ParseQualifiedName("a view name"));
      if (Cur().IsSymbol("(")) {
        Advance();
        do {
          LS_ASSIGN_OR_RAISE(auto c, ParseIdentifier(true, "a column name"));
          stmt->columns.push_back(c);
          if (AcceptWord("COMMENT")) {
            if (Cur().type != TokenType::kString) return Error(Cur(), "a string");
            Advance();
          }
        } while (AcceptSymbol(","));
        LS_RETURN_NOT_OK(ExpectSymbol(")"));
      }
      LS_RETURN_NOT_OK(ParseTableClauses(stmt.get(), /*allow_using=*/false));
      LS_RETURN_NOT_OK(ExpectWord("AS"));
      LS_ASSIGN_OR_RAISE(stmt->query, ParseQuery());
      return stmt;
    }
    bool streaming = AcceptWord("STREAMING");
    if (streaming) AcceptWord("LIVE");
    if (!AcceptWord("TABLE"))
      return Error(Cur(), streaming ? "TABLE" : "VIEW, TABLE or STREAMING TABLE");
    stmt->type = streaming ? StatementType::kCreateStreamingTable : StatementType::kCreateTableAs;
    if (AcceptWord("IF")) {
      LS_RETURN_NOT_OK(ExpectWord("NOT"));
      LS_RETURN_NOT_OK(ExpectWord("EXISTS"));
      stmt->if_not_exists = true;
    }
    LS_ASSIGN_OR_RAISE(stmt->name_parts, ParseQualifiedName("a table name"));
    if (Cur().IsSymbol("(") && !LooksLikeQuery(0)) {
      // Column definitions are only accepted as names (types come from the query).
      return Error(Cur(),
                   "USING, PARTITIONED BY, TBLPROPERTIES or AS (CREATE TABLE with a column list is "
                   "not supported; use CREATE TABLE ... AS SELECT)");
    }
    LS_RETURN_NOT_OK(ParseTableClauses(stmt.get(), /*allow_using=*/true));
    if (!AcceptWord("AS")) return Error(Cur(), "AS followed by a query");
    LS_ASSIGN_OR_RAISE(stmt->query, ParseQuery());
    return stmt;
  }

  // USING fmt, OPTIONS (...), PARTITIONED BY (...), LOCATION '...', COMMENT '...', TBLPROPERTIES
  // (...)
  Status ParseTableClauses(Statement* stmt, bool allow_using) {
    while (true) {
      if (allow_using && AcceptWord("USING")) {
        LS_ASSIGN_OR_RAISE(stmt->using_format, ParseIdentifier(true, "a format name"));
      } else if (AcceptWord("PARTITIONED") || AcceptWord("CLUSTER")) {
        LS_RETURN_NOT_OK(ExpectWord("BY"));
        LS_ASSIGN_OR_RAISE(stmt->partition_by, ParseIdentifierList());
      } else if (AcceptWord("TBLPROPERTIES") || AcceptWord("OPTIONS")) {
        LS_RETURN_NOT_OK(ParseProperties(&stmt->properties));
      } else if (AcceptWord("LOCATION")) {
        if (Cur().type != TokenType::kString) return Error(Cur(), "a path string");
        stmt->location = Cur().text;
        Advance();
      } else if (AcceptWord("COMMENT")) {
        if (Cur().type != TokenType::kString) return Error(Cur(), "a string");
        stmt->comment = Cur().text;
        Advance();
      } else {
        return Status::OK();
      }
    }
  }

  Status ParseProperties(std::vector<std::pair<std::string, std::string>>* out) {
    LS_RETURN_NOT_OK(ExpectSymbol("("));
    if (AcceptSymbol(")")) return Status::OK();
    do {
      std::string key;
      if (Cur().type == TokenType::kString) {
        key = Cur().text;
        Advance();
      } else {
        LS_ASSIGN_OR_RAISE(auto parts, ParseQualifiedNameAny());
        for (size_t i = 0; i < parts.size(); ++i) key += (i ? "." : "") + parts[i];
      }
      AcceptSymbol("=");
      std::string value;
      const Token& v = Cur();
      if (v.type == TokenType::kString || v.type == TokenType::kWord || v.IsNumber()) {
        value = v.type == TokenType::kString
                    ? v.text
                    : (v.IsNumber() ? v.text + v.suffix : ToLowerAscii(v.text));
        if (v.type == TokenType::kWord && !v.IsWord("TRUE") && !v.IsWord("FALSE")) value = v.text;
        Advance();
      } else if (v.IsSymbol("-") && Peek(1).IsNumber()) {
        value = "-" + Peek(1).text;
        Advance();
        Advance();
      } else {
        return Error(v, "a property value");
      }
      out->emplace_back(std::move(key), std::move(value));
    } while (AcceptSymbol(","));
    return ExpectSymbol(")");
  }

  Result<std::vector<std::string>> ParseQualifiedNameAny() {
    std::vector<std::string> parts;
    LS_ASSIGN_OR_RAISE(auto first, ParseIdentifier(true, "a property key"));
    parts.push_back(first);
    while (Cur().IsSymbol(".") && IsIdentToken(Peek(1), true)) {
      Advance();
      parts.push_back(Cur().text);
      Advance();
    }
    return parts;
  }

  Result<StatementPtr> ParseInsert(StatementPtr stmt) {
    stmt->type = StatementType::kInsert;
    if (AcceptWord("OVERWRITE")) {
      stmt->overwrite = true;
    } else if (!AcceptWord("INTO")) {
      return Error(Cur(), "INTO or OVERWRITE");
    }
    AcceptWord("TABLE");
    LS_ASSIGN_OR_RAISE(stmt->name_parts, ParseQualifiedName("a table name"));
    if (Cur().IsSymbol("(") && !LooksLikeQuery(0)) {
      LS_ASSIGN_OR_RAISE(stmt->columns, ParseIdentifierList());
    }
    if (!LooksLikeQuery(0)) return Error(Cur(), "a query (SELECT, VALUES, WITH or '(')");
    LS_ASSIGN_OR_RAISE(stmt->query, ParseQuery());
    return stmt;
  }

  Result<StatementPtr> ParseDescribe(StatementPtr stmt) {
    if (AcceptWord("HISTORY") || AcceptWord("DETAIL")) {
      stmt->type = Prev().IsWord("HISTORY") ? StatementType::kDescribeHistory
                                            : StatementType::kDescribeDetail;
      LS_ASSIGN_OR_RAISE(stmt->describe_target, ParseTableName());
      stmt->name_parts = stmt->describe_target->name_parts;
      if (stmt->type == StatementType::kDescribeHistory && AcceptWord("LIMIT")) {
        if (Cur().type != TokenType::kInteger) return Error(Cur(), "a number of versions");
        stmt->value = Cur().text;  // DESCRIBE HISTORY t LIMIT n: the newest n versions
        stmt->has_value = true;
        Advance();
      }
      return stmt;
    }
    stmt->type = StatementType::kDescribe;
    if (!AcceptWord("TABLE") && (AcceptWord("QUERY") || LooksLikeQuery(0))) {
      LS_ASSIGN_OR_RAISE(stmt->query, ParseQuery());
      return stmt;
    }
    if (AcceptWord("EXTENDED") || AcceptWord("FORMATTED"))
      stmt->explain_mode = ToUpperAscii(Prev().text);
    LS_ASSIGN_OR_RAISE(stmt->describe_target, ParseTableName());
    stmt->name_parts = stmt->describe_target->name_parts;
    return stmt;
  }

  // A table name with optional time travel (DESCRIBE targets).
  Result<TableRefPtr> ParseTableName() {
    auto ref = std::make_shared<TableRef>();
    ref->type = TableRefType::kTable;
    ref->loc = Cur().loc;
    LS_ASSIGN_OR_RAISE(ref->name_parts, ParseQualifiedName("a table name"));
    LS_RETURN_NOT_OK(ParseTimeTravel(ref.get()));
    return ref;
  }

  // ------------------------------------------------------------------ queries
  Result<QueryPtr> ParseQuery() {
    Nest nest(this);
    LS_RETURN_NOT_OK(CheckDepth());
    Location loc = Cur().loc;
    std::vector<CommonTableExpr> ctes;
    if (AcceptWord("WITH")) {
      AcceptWord("RECURSIVE");
      do {
        CommonTableExpr cte;
        LS_ASSIGN_OR_RAISE(cte.name, ParseIdentifier(false, "a common table expression name"));
        if (Cur().IsSymbol("(") && !LooksLikeQuery(1)) {
          LS_ASSIGN_OR_RAISE(cte.column_aliases, ParseIdentifierList());
        }
        AcceptWord("AS");
        LS_RETURN_NOT_OK(ExpectSymbol("("));
        LS_ASSIGN_OR_RAISE(cte.query, ParseQuery());
        LS_RETURN_NOT_OK(ExpectSymbol(")"));
        ctes.push_back(std::move(cte));
      } while (AcceptSymbol(","));
    }
    LS_ASSIGN_OR_RAISE(QueryPtr q, ParseSetOperations());
    q->loc = loc;
    q->with = std::move(ctes);
    LS_RETURN_NOT_OK(ParseQueryOrganization(q.get()));
    return q;
  }

  // ORDER BY / SORT BY / CLUSTER BY / DISTRIBUTE BY, WINDOW, LIMIT, OFFSET.
  Status ParseQueryOrganization(Query* q) {
    if (AcceptWord("ORDER") || AcceptWord("SORT")) {
      LS_RETURN_NOT_OK(ExpectWord("BY"));
      LS_ASSIGN_OR_RAISE(q->order_by, ParseOrderItems());
    }
    if (AcceptWord("CLUSTER") || AcceptWord("DISTRIBUTE")) {
      bool cluster = Prev().IsWord("CLUSTER");
      LS_RETURN_NOT_OK(ExpectWord("BY"));
      do {
        LS_ASSIGN_OR_RAISE(auto e, ParseExpr());
        if (cluster) q->order_by.push_back(OrderItem{e, true, std::nullopt});
      } while (AcceptSymbol(","));
      // DISTRIBUTE BY only repartitions; SORT BY may follow it.
      if (AcceptWord("SORT")) {
        LS_RETURN_NOT_OK(ExpectWord("BY"));
        LS_ASSIGN_OR_RAISE(q->order_by, ParseOrderItems());
      }
    }
    if (Cur().IsWord("WINDOW") && q->select) LS_RETURN_NOT_OK(ParseWindowClause(q->select.get()));
    for (int i = 0; i < 2; ++i) {
      if (AcceptWord("LIMIT")) {
        if (AcceptWord("ALL")) {
          q->limit = nullptr;
        } else {
          LS_ASSIGN_OR_RAISE(q->limit, ParseExpr());
        }
      }
      if (AcceptWord("OFFSET")) {
        LS_ASSIGN_OR_RAISE(q->offset, ParseExpr());
      }
    }
    return Status::OK();
  }

  Result<std::vector<OrderItem>> ParseOrderItems() {
    std::vector<OrderItem> items;
    do {
      OrderItem item;
      LS_ASSIGN_OR_RAISE(item.expr, ParseExpr());
      if (AcceptWord("DESC")) {
        item.ascending = false;
      } else {
        AcceptWord("ASC");
      }
      if (AcceptWord("NULLS")) {
        if (AcceptWord("FIRST")) {
          item.nulls_first = true;
        } else if (AcceptWord("LAST")) {
          item.nulls_first = false;
        } else {
          return Error(Cur(), "FIRST or LAST");
        }
      }
      items.push_back(std::move(item));
    } while (AcceptSymbol(","));
    return items;
  }

  Result<QueryPtr> ParseSetOperations() {
    LS_ASSIGN_OR_RAISE(QueryPtr left, ParseIntersections());
    int chain = 0;
    while (Cur().IsWord("UNION") || Cur().IsWord("EXCEPT") || Cur().IsWord("MINUS") ||
           Cur().IsWord("SETMINUS")) {
      SetOpType type = Cur().IsWord("UNION") ? SetOpType::kUnion : SetOpType::kExcept;
      Location loc = Cur().loc;
      Advance();
      bool all = AcceptWord("ALL");
      if (!all) AcceptWord("DISTINCT");
      ++chain;
      depth_ += 1;
      Status st = CheckDepth();
      if (!st.ok()) {
        depth_ -= chain;
        return st;
      }
      auto right_r = ParseIntersections();
      if (!right_r.ok()) {
        depth_ -= chain;
        return right_r.status();
      }
      left = MakeSetOp(type, all, left, *right_r, loc);
    }
    depth_ -= chain;
    return left;
  }

  Result<QueryPtr> ParseIntersections() {
    LS_ASSIGN_OR_RAISE(QueryPtr left, ParseQueryPrimary());
    int chain = 0;
    while (Cur().IsWord("INTERSECT")) {
      Location loc = Cur().loc;
      Advance();
      bool all = AcceptWord("ALL");
      if (!all) AcceptWord("DISTINCT");
      ++chain;
      depth_ += 1;
      Status st = CheckDepth();
      if (!st.ok()) {
        depth_ -= chain;
        return st;
      }
      auto right_r = ParseQueryPrimary();
      if (!right_r.ok()) {
        depth_ -= chain;
        return right_r.status();
      }
      left = MakeSetOp(SetOpType::kIntersect, all, left, *right_r, loc);
    }
    depth_ -= chain;
    return left;
  }

  QueryPtr MakeSetOp(SetOpType type, bool all, QueryPtr left, QueryPtr right, Location loc) {
    auto q = std::make_shared<Query>();
    q->loc = left->loc;
    q->set_op = std::make_shared<Query::SetOp>();
    q->set_op->type = type;
    q->set_op->all = all;
    q->set_op->left = std::move(left);
    q->set_op->right = std::move(right);
    (void)loc;
    return q;
  }

  Result<QueryPtr> ParseQueryPrimary() {
    Nest nest(this);
    LS_RETURN_NOT_OK(CheckDepth());
    auto q = std::make_shared<Query>();
    q->loc = Cur().loc;
    if (AcceptWord("SELECT")) {
      LS_ASSIGN_OR_RAISE(q->select, ParseSelectBody({}));
      return q;
    }
    if (Cur().IsWord("VALUES")) {
      LS_ASSIGN_OR_RAISE(q->values, ParseValues());
      return q;
    }
    if (AcceptWord("FROM")) {  // Spark's FROM-first form: FROM t SELECT ...
      LS_ASSIGN_OR_RAISE(auto from, ParseFromList());
      LS_RETURN_NOT_OK(ExpectWord("SELECT"));
      LS_ASSIGN_OR_RAISE(q->select, ParseSelectBody(std::move(from)));
      return q;
    }
    if (AcceptWord("TABLE")) {
      auto sel = std::make_shared<Select>();
      auto star = Make(ExprType::kStar, Prev().loc);
      star->sql_text = "*";
      sel->items.push_back(SelectItem{star, "", {}});
      LS_ASSIGN_OR_RAISE(auto t, ParseTableName());
      sel->from.push_back(t);
      q->select = sel;
      return q;
    }
    if (AcceptSymbol("(")) {
      LS_ASSIGN_OR_RAISE(q->nested, ParseQuery());
      LS_RETURN_NOT_OK(ExpectSymbol(")"));
      return q;
    }
    return Error(Cur(), "a query (SELECT, VALUES, WITH or '(')");
  }

  Result<std::shared_ptr<Select>> ParseSelectBody(std::vector<TableRefPtr> from_first) {
    auto sel = std::make_shared<Select>();
    if (AcceptWord("DISTINCT")) {
      sel->distinct = true;
    } else {
      AcceptWord("ALL");
    }
    do {
      LS_ASSIGN_OR_RAISE(auto item, ParseSelectItem());
      sel->items.push_back(std::move(item));
    } while (AcceptSymbol(","));
    select_items_end_ = pos_;
    if (!from_first.empty()) {
      sel->from = std::move(from_first);
    } else if (AcceptWord("FROM")) {
      LS_ASSIGN_OR_RAISE(sel->from, ParseFromList());
    }
    if (AcceptWord("WHERE")) {
      LS_ASSIGN_OR_RAISE(sel->where, ParseExpr());
    }
    if (Cur().IsWord("GROUP") && Peek(1).IsWord("BY")) {
      Advance();
      Advance();
      LS_RETURN_NOT_OK(ParseGroupBy(sel.get()));
    }
    if (AcceptWord("HAVING")) {
      LS_ASSIGN_OR_RAISE(sel->having, ParseExpr());
    }
    for (int i = 0; i < 2; ++i) {
      if (Cur().IsWord("WINDOW")) LS_RETURN_NOT_OK(ParseWindowClause(sel.get()));
      if (AcceptWord("QUALIFY")) {
        LS_ASSIGN_OR_RAISE(sel->qualify, ParseExpr());
      }
    }
    return sel;
  }

  Status ParseWindowClause(Select* sel) {
    LS_RETURN_NOT_OK(ExpectWord("WINDOW"));
    do {
      LS_ASSIGN_OR_RAISE(auto name, ParseIdentifier(false, "a window name"));
      LS_RETURN_NOT_OK(ExpectWord("AS"));
      std::shared_ptr<WindowSpec> spec;
      if (IsIdentToken(Cur(), false) && !Cur().IsSymbol("(")) {
        spec = std::make_shared<WindowSpec>();
        spec->base_name = Cur().text;
        Advance();
      } else {
        LS_ASSIGN_OR_RAISE(spec, ParseWindowSpec());
      }
      sel->windows.emplace_back(std::move(name), std::move(spec));
    } while (AcceptSymbol(","));
    return Status::OK();
  }

  Result<SelectItem> ParseSelectItem() {
    SelectItem item;
    LS_ASSIGN_OR_RAISE(item.expr, ParseExpr());
    if (AcceptWord("AS")) {
      if (Cur().IsSymbol("(")) {
        LS_ASSIGN_OR_RAISE(item.multi_alias, ParseIdentifierList());
      } else if (Cur().type == TokenType::kString) {  // Spark accepts AS 'alias' too
        item.alias = Cur().text;
        Advance();
      } else {
        LS_ASSIGN_OR_RAISE(item.alias, ParseIdentifier(true, "an alias"));
      }
    } else if (Cur().IsSymbol("(") && item.expr->type == ExprType::kFunction) {
      LS_ASSIGN_OR_RAISE(item.multi_alias, ParseIdentifierList());
    } else if (CanBeImplicitAlias(Cur())) {
      item.alias = Cur().text;
      Advance();
    }
    return item;
  }

  bool CanBeImplicitAlias(const Token& t) const {
    if (t.type == TokenType::kQuotedIdent) return true;
    if (t.type != TokenType::kWord) return false;
    std::string u = ToUpperAscii(t.text);
    return !IsReservedWord(u) && !IsNoImplicitAliasWord(u);
  }

  Status ParseGroupBy(Select* sel) {
    if (Cur().IsWord("ALL") && !Peek(1).IsSymbol("(") && !Peek(1).IsSymbol(",")) {
      Advance();
      sel->grouping = GroupingKind::kAll;
      return Status::OK();
    }
    // Each item is a list of alternative grouping sets; plain keys have one.
    struct Item {
      GroupingKind kind;
      std::vector<AstExprPtr> exprs;
      std::vector<std::vector<AstExprPtr>> sets;
    };
    std::vector<Item> items;
    do {
      if ((Cur().IsWord("ROLLUP") || Cur().IsWord("CUBE")) && Peek(1).IsSymbol("(")) {
        Item it{Cur().IsWord("ROLLUP") ? GroupingKind::kRollup : GroupingKind::kCube, {}, {}};
        Advance();
        Advance();
        if (!Cur().IsSymbol(")")) {
          do {
            LS_ASSIGN_OR_RAISE(auto e, ParseExpr());
            it.exprs.push_back(e);
          } while (AcceptSymbol(","));
        }
        LS_RETURN_NOT_OK(ExpectSymbol(")"));
        items.push_back(std::move(it));
      } else if (Cur().IsWord("GROUPING") && Peek(1).IsWord("SETS")) {
        Advance();
        Advance();
        Item it{GroupingKind::kGroupingSets, {}, {}};
        LS_RETURN_NOT_OK(ExpectSymbol("("));
        do {
          std::vector<AstExprPtr> set;
          if (AcceptSymbol("(")) {
            if (!Cur().IsSymbol(")")) {
              do {
                LS_ASSIGN_OR_RAISE(auto e, ParseExpr());
                set.push_back(e);
              } while (AcceptSymbol(","));
            }
            LS_RETURN_NOT_OK(ExpectSymbol(")"));
          } else {
            LS_ASSIGN_OR_RAISE(auto e, ParseExpr());
            set.push_back(e);
          }
          it.sets.push_back(std::move(set));
        } while (AcceptSymbol(","));
        LS_RETURN_NOT_OK(ExpectSymbol(")"));
        items.push_back(std::move(it));
      } else {
        LS_ASSIGN_OR_RAISE(auto e, ParseExpr());
        items.push_back(Item{GroupingKind::kPlain, {e}, {}});
      }
      // Spark's legacy form GROUP BY a, b GROUPING SETS (...) has no comma before GROUPING.
    } while (AcceptSymbol(",") || (Cur().IsWord("GROUPING") && Peek(1).IsWord("SETS")));
    // GROUP BY a, b WITH ROLLUP | CUBE
    if (Cur().IsWord("WITH") && (Peek(1).IsWord("ROLLUP") || Peek(1).IsWord("CUBE"))) {
      Advance();
      bool rollup = Cur().IsWord("ROLLUP");
      Advance();
      for (const auto& it : items) {
        if (it.kind != GroupingKind::kPlain)
          return Error(Prev(), "plain grouping expressions before WITH ROLLUP/CUBE");
      }
      sel->grouping = rollup ? GroupingKind::kRollup : GroupingKind::kCube;
      for (auto& it : items) sel->group_by.push_back(it.exprs[0]);
      return Status::OK();
    }
    bool all_plain = std::all_of(items.begin(), items.end(),
                                 [](const Item& i) { return i.kind == GroupingKind::kPlain; });
    if (all_plain) {
      sel->grouping = GroupingKind::kPlain;
      for (auto& it : items) sel->group_by.push_back(it.exprs[0]);
      return Status::OK();
    }
    if (items.size() == 1 && items[0].kind != GroupingKind::kGroupingSets) {
      sel->grouping = items[0].kind;
      sel->group_by = items[0].exprs;
      return Status::OK();
    }
    // Mixed forms, e.g. GROUP BY a, ROLLUP(b) or GROUP BY a, b GROUPING SETS ((a), (b)):
    // expand into one list of grouping sets as Spark does.
    bool legacy_sets = items.back().kind == GroupingKind::kGroupingSets &&
                       std::all_of(items.begin(), items.end() - 1,
                                   [](const Item& i) { return i.kind == GroupingKind::kPlain; });
    sel->grouping = GroupingKind::kGroupingSets;
    if (legacy_sets) {
      for (size_t i = 0; i + 1 < items.size(); ++i) sel->group_by.push_back(items[i].exprs[0]);
      sel->grouping_sets = items.back().sets;
      return Status::OK();
    }
    std::vector<std::vector<AstExprPtr>> product = {{}};
    for (auto& it : items) {
      std::vector<std::vector<AstExprPtr>> alts;
      if (it.kind == GroupingKind::kPlain) {
        alts = {it.exprs};
      } else if (it.kind == GroupingKind::kRollup) {
        for (size_t n = it.exprs.size() + 1; n-- > 0;)
          alts.emplace_back(it.exprs.begin(), it.exprs.begin() + n);
      } else if (it.kind == GroupingKind::kCube) {
        if (it.exprs.size() > 12) return Error(Cur(), "at most 12 CUBE columns");
        size_t n = it.exprs.size();
        for (size_t mask = (size_t{1} << n); mask-- > 0;) {
          std::vector<AstExprPtr> s;
          for (size_t b = 0; b < n; ++b) {
            if (mask & (size_t{1} << (n - 1 - b))) s.push_back(it.exprs[b]);
          }
          alts.push_back(std::move(s));
        }
      } else {
        alts = it.sets;
      }
      for (auto& e : it.exprs) sel->group_by.push_back(e);
      std::vector<std::vector<AstExprPtr>> next;
      if (product.size() * alts.size() > 4096) return Error(Cur(), "at most 4096 grouping sets");
      for (auto& p : product) {
        for (auto& a : alts) {
          auto s = p;
          s.insert(s.end(), a.begin(), a.end());
          next.push_back(std::move(s));
        }
      }
      product = std::move(next);
    }
    sel->grouping_sets = std::move(product);
    return Status::OK();
  }

  // ---------------------------------------------------------------- relations
  Result<std::vector<TableRefPtr>> ParseFromList() {
    std::vector<TableRefPtr> items;
    do {
      LS_ASSIGN_OR_RAISE(auto r, ParseJoinedRelation());
      items.push_back(r);
    } while (AcceptSymbol(","));
    if (Cur().IsWord("LATERAL") && Peek(1).IsWord("VIEW")) {
      // LATERAL VIEW applies to the whole FROM clause.
      TableRefPtr input = items[0];
      for (size_t i = 1; i < items.size(); ++i) {
        auto j = std::make_shared<TableRef>();
        j->type = TableRefType::kJoin;
        j->loc = input->loc;
        j->join_type = JoinType::kCross;
        j->left = input;
        j->right = items[i];
        input = j;
      }
      int chain = 0;
      while (Cur().IsWord("LATERAL") && Peek(1).IsWord("VIEW")) {
        ++chain;
        ++depth_;
        Status st = CheckDepth();
        if (!st.ok()) {
          depth_ -= chain;
          return st;
        }
        auto lv = std::make_shared<TableRef>();
        lv->type = TableRefType::kLateralView;
        lv->loc = Cur().loc;
        Advance();
        Advance();
        lv->outer = AcceptWord("OUTER");
        lv->left = input;
        auto gen = ParsePrimaryExpression();
        if (!gen.ok()) {
          depth_ -= chain;
          return gen.status();
        }
        lv->generator = *gen;
        if (lv->generator->type != ExprType::kFunction) {
          depth_ -= chain;
          return Error(Prev(), "a generator function call after LATERAL VIEW");
        }
        if (IsIdentToken(Cur(), false) && !Cur().IsWord("AS")) {
          lv->alias = Cur().text;
          Advance();
        }
        if (AcceptWord("AS") || IsIdentToken(Cur(), false)) {
          do {
            if (!IsIdentToken(Cur(), true)) {
              depth_ -= chain;
              return Error(Cur(), "a column alias");
            }
            lv->column_aliases.push_back(Cur().text);
            Advance();
          } while (AcceptSymbol(","));
        }
        input = lv;
      }
      depth_ -= chain;
      items = {input};
    }
    return items;
  }

  bool AtJoinKeyword() const {
    const Token& t = Cur();
    return t.IsWord("JOIN") || t.IsWord("INNER") || t.IsWord("CROSS") || t.IsWord("LEFT") ||
           t.IsWord("RIGHT") || t.IsWord("FULL") || t.IsWord("SEMI") || t.IsWord("ANTI") ||
           t.IsWord("NATURAL");
  }

  Result<TableRefPtr> ParseJoinedRelation() {
    LS_ASSIGN_OR_RAISE(TableRefPtr left, ParseRelationPrimary());
    int chain = 0;
    auto fail = [&](Status st) {
      depth_ -= chain;
      return st;
    };
    while (AtJoinKeyword()) {
      ++chain;
      ++depth_;
      if (Status st = CheckDepth(); !st.ok()) return fail(st);
      auto j = std::make_shared<TableRef>();
      j->type = TableRefType::kJoin;
      j->loc = Cur().loc;
      j->natural = AcceptWord("NATURAL");
      if (AcceptWord("INNER")) {
        j->join_type = JoinType::kInner;
      } else if (AcceptWord("CROSS")) {
        j->join_type = JoinType::kCross;
      } else if (AcceptWord("LEFT")) {
        if (AcceptWord("SEMI")) {
          j->join_type = JoinType::kLeftSemi;
        } else if (AcceptWord("ANTI")) {
          j->join_type = JoinType::kLeftAnti;
        } else {
          AcceptWord("OUTER");
          j->join_type = JoinType::kLeft;
        }
      } else if (AcceptWord("RIGHT")) {
        AcceptWord("OUTER");
        j->join_type = JoinType::kRight;
      } else if (AcceptWord("FULL")) {
        AcceptWord("OUTER");
        j->join_type = JoinType::kFull;
      } else if (AcceptWord("SEMI")) {
        j->join_type = JoinType::kLeftSemi;
      } else if (AcceptWord("ANTI")) {
        j->join_type = JoinType::kLeftAnti;
      }
      if (!AcceptWord("JOIN")) return fail(Error(Cur(), "JOIN"));
      auto right = ParseRelationPrimary();
      if (!right.ok()) return fail(right.status());
      j->left = left;
      j->right = *right;
      if (AcceptWord("ON")) {
        auto cond = ParseExpr();
        if (!cond.ok()) return fail(cond.status());
        j->condition = *cond;
      } else if (AcceptWord("USING")) {
        auto cols = ParseIdentifierList();
        if (!cols.ok()) return fail(cols.status());
        j->using_columns = *cols;
      }
      left = j;
    }
    depth_ -= chain;
    return left;
  }

  Result<TableRefPtr> ParseRelationPrimary() {
    Nest nest(this);
    LS_RETURN_NOT_OK(CheckDepth());
    TableRefPtr ref;
    Location loc = Cur().loc;
    if (Cur().IsWord("STREAM") && (Peek(1).IsSymbol("(") || IsIdentToken(Peek(1), false))) {
      Advance();
      if (AcceptSymbol("(")) {
        LS_ASSIGN_OR_RAISE(ref, ParseNamedRelation());
        LS_RETURN_NOT_OK(ExpectSymbol(")"));
      } else {
        LS_ASSIGN_OR_RAISE(ref, ParseNamedRelation());
      }
      ref->stream = true;
    } else if (Cur().IsSymbol("(")) {
      Advance();
      Status query_error;
      if (LooksLikeQuery(0)) {
        auto q = TryQueryThenParen();
        if (q.ok()) {
          ref = std::make_shared<TableRef>();
          ref->type = TableRefType::kSubquery;
          ref->subquery = *q;
        } else {
          query_error = q.status();
        }
      }
      if (!ref) {
        // A parenthesized join: (a JOIN b ON ...), ((SELECT ...) x JOIN y ON ...)
        auto r = ParseJoinedRelation();
        Status st = r.ok() ? ExpectSymbol(")") : r.status();
        if (!st.ok()) return query_error.ok() ? st : query_error;
        ref = *r;
      }
    } else if (Cur().IsWord("VALUES")) {
      LS_ASSIGN_OR_RAISE(ref, ParseValues());
      ref->loc = loc;
      return ref;  // ParseValues read the alias
    } else if (Cur().IsWord("LATERAL") && !Peek(1).IsWord("VIEW")) {
      // LATERAL (subquery) / LATERAL explode(arr): may refer to earlier FROM items.
      Advance();
      LS_ASSIGN_OR_RAISE(ref, ParseRelationPrimary());
      ref->lateral = true;
      return ref;
    } else {
      LS_ASSIGN_OR_RAISE(ref, ParseNamedRelation());
    }
    ref->loc = loc;
    LS_RETURN_NOT_OK(ParseWatermark(ref.get()));
    LS_RETURN_NOT_OK(ParseTableAlias(ref.get()));
    LS_RETURN_NOT_OK(ParseWatermark(ref.get()));
    return ref;
  }

  // A table name (with time travel) or a table-valued function call.
  Result<TableRefPtr> ParseNamedRelation() {
    auto ref = std::make_shared<TableRef>();
    ref->loc = Cur().loc;
    if (!IsIdentToken(Cur(), false))
      return Error(Cur(), "a table name, a subquery or a table function");
    LS_ASSIGN_OR_RAISE(ref->name_parts, ParseQualifiedName("a table name"));
    if (Cur().IsSymbol("(")) {
      ref->type = TableRefType::kTableFunction;
      Advance();
      if (!Cur().IsSymbol(")")) {
        do {
          LS_ASSIGN_OR_RAISE(auto arg, ParseFunctionArgument());
          ref->args.push_back(arg);
        } while (AcceptSymbol(","));
      }
      LS_RETURN_NOT_OK(ExpectSymbol(")"));
      return ref;
    }
    ref->type = TableRefType::kTable;
    LS_RETURN_NOT_OK(ParseTimeTravel(ref.get()));
    return ref;
  }

  Status ParseTimeTravel(TableRef* ref) {
    if (Cur().IsSymbol("@")) {
      // Delta's t@v3 / t@yyyyMMddHHmmssSSS
      Advance();
      const Token& t = Cur();
      if (t.type == TokenType::kWord && (t.text[0] == 'v' || t.text[0] == 'V') &&
          t.text.size() > 1 && std::all_of(t.text.begin() + 1, t.text.end(), [](char c) {
            return c >= '0' && c <= '9';
          })) {
        ref->version_as_of = std::strtoll(t.text.c_str() + 1, nullptr, 10);
      } else if (t.type == TokenType::kInteger && t.suffix.empty() && t.text.size() == 17) {
        const std::string& d = t.text;
        ref->timestamp_as_of = d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2) + " " +
                               d.substr(8, 2) + ":" + d.substr(10, 2) + ":" + d.substr(12, 2) +
                               "." + d.substr(14, 3);
      } else {
        return Error(t, "a version (v3) or a timestamp (yyyyMMddHHmmssSSS) after '@'");
      }
      Advance();
      return Status::OK();
    }
    bool version = false;
    if ((Cur().IsWord("VERSION") || Cur().IsWord("TIMESTAMP")) && Peek(1).IsWord("AS") &&
        Peek(2).IsWord("OF")) {
      version = Cur().IsWord("VERSION");
      Advance();
    } else if (Cur().IsWord("FOR") &&
               (Peek(1).IsWord("SYSTEM_VERSION") || Peek(1).IsWord("SYSTEM_TIME") ||
                Peek(1).IsWord("VERSION") || Peek(1).IsWord("TIMESTAMP"))) {
      Advance();
      version = Cur().IsWord("SYSTEM_VERSION") || Cur().IsWord("VERSION");
      Advance();
    } else {
      return Status::OK();
    }
    LS_RETURN_NOT_OK(ExpectWord("AS"));
    LS_RETURN_NOT_OK(ExpectWord("OF"));
    if (version) {
      const Token& t = Cur();
      if (t.type == TokenType::kInteger) {
        ref->version_as_of = std::strtoll(t.text.c_str(), nullptr, 10);
      } else if (t.type == TokenType::kString && !t.text.empty() &&
                 std::all_of(t.text.begin(), t.text.end(),
                             [](char c) { return c >= '0' && c <= '9'; })) {
        ref->version_as_of = std::strtoll(t.text.c_str(), nullptr, 10);
      } else {
        return Error(t, "a version number");
      }
      Advance();
      return Status::OK();
    }
    size_t begin = Cur().begin;
    LS_ASSIGN_OR_RAISE(auto ts, ParseValue(1));
    if (ts->type == ExprType::kLiteral && ts->literal_kind == LiteralKind::kString) {
      ref->timestamp_as_of = ts->text;
    } else {
      ref->timestamp_as_of = Slice(begin, Prev().end);  // an expression: kept as SQL text
    }
    return Status::OK();
  }

  // WATERMARK col DELAY OF INTERVAL ...
  Status ParseWatermark(TableRef* ref) {
    if (!Cur().IsWord("WATERMARK") || ref->watermark_column) return Status::OK();
    Advance();
    LS_ASSIGN_OR_RAISE(ref->watermark_column, ParseValue(1));
    if (AcceptWord("AS")) {
      LS_ASSIGN_OR_RAISE(auto alias, ParseIdentifier(true, "an alias"));
      (void)alias;
    }
    LS_RETURN_NOT_OK(ExpectWord("DELAY"));
    LS_RETURN_NOT_OK(ExpectWord("OF"));
    LS_ASSIGN_OR_RAISE(ref->watermark_delay, ParseValue(1));
    return Status::OK();
  }

  Status ParseTableAlias(TableRef* ref) {
    if (AcceptWord("AS")) {
      LS_ASSIGN_OR_RAISE(ref->alias, ParseIdentifier(true, "a table alias"));
    } else if (CanBeImplicitAlias(Cur()) && !(Cur().IsWord("FOR") || Cur().IsWord("LATERAL"))) {
      ref->alias = Cur().text;
      Advance();
    } else {
      return Status::OK();
    }
    if (Cur().IsSymbol("(")) {
      LS_ASSIGN_OR_RAISE(ref->column_aliases, ParseIdentifierList());
    }
    return Status::OK();
  }

  Result<TableRefPtr> ParseValues() {
    auto ref = std::make_shared<TableRef>();
    ref->type = TableRefType::kValues;
    ref->loc = Cur().loc;
    LS_RETURN_NOT_OK(ExpectWord("VALUES"));
    do {
      std::vector<AstExprPtr> row;
      if (Cur().IsSymbol("(") && !LooksLikeQuery(1)) {
        Advance();
        do {
          LS_ASSIGN_OR_RAISE(auto e, ParseExpr());
          row.push_back(e);
        } while (AcceptSymbol(","));
        LS_RETURN_NOT_OK(ExpectSymbol(")"));
      } else {
        LS_ASSIGN_OR_RAISE(auto e, ParseExpr());
        row.push_back(e);
      }
      ref->values_rows.push_back(std::move(row));
    } while (AcceptSymbol(","));
    LS_RETURN_NOT_OK(ParseTableAlias(ref.get()));
    return ref;
  }

  // -------------------------------------------------------------- expressions
  Result<AstExprPtr> ParseExpr() {
    Nest nest(this);
    LS_RETURN_NOT_OK(CheckDepth());
    return ParseOr();
  }

  // A left-associative chain of `op` (AND / OR); each link counts as nesting.
  template <typename Sub>
  Result<AstExprPtr> ParseBoolChain(std::string_view kw, Sub sub) {
    LS_ASSIGN_OR_RAISE(AstExprPtr left, sub());
    int chain = 0;
    while (Cur().IsWord(kw)) {
      Advance();
      ++chain;
      ++depth_;
      Status st = CheckDepth();
      if (!st.ok()) {
        depth_ -= chain;
        return st;
      }
      auto right = sub();
      if (!right.ok()) {
        depth_ -= chain;
        return right.status();
      }
      left = MakeBinary(std::string(kw), left, *right);
    }
    depth_ -= chain;
    return left;
  }

  Result<AstExprPtr> ParseOr() {
    return ParseBoolChain("OR", [this] { return ParseAnd(); });
  }
  Result<AstExprPtr> ParseAnd() {
    return ParseBoolChain("AND", [this] { return ParseNot(); });
  }

  Result<AstExprPtr> ParseNot() {
    if (Cur().IsWord("NOT") || Cur().IsSymbol("!")) {
      Nest nest(this);
      LS_RETURN_NOT_OK(CheckDepth());
      Location loc = Cur().loc;
      Advance();
      LS_ASSIGN_OR_RAISE(auto operand, ParseNot());
      auto e = Make(ExprType::kUnary, loc);
      e->op = "NOT";
      e->args = {operand};
      e->sql_text = "(NOT " + operand->sql_text + ")";
      return e;
    }
    LS_ASSIGN_OR_RAISE(auto value, ParseValue(1));
    return ParsePredicate(value);
  }

  Result<AstExprPtr> ParsePredicate(AstExprPtr v) {
    Location loc = v->loc;
    if (Cur().IsWord("IS")) {
      Advance();
      bool neg = AcceptWord("NOT");
      const std::string nots = neg ? "NOT " : "";
      if (AcceptWord("NULL")) {
        auto e = Make(ExprType::kIsNull, loc);
        e->args = {v};
        e->negated = neg;
        e->sql_text = "(" + v->sql_text + " IS " + nots + "NULL)";
        return e;
      }
      if (AcceptWord("TRUE") || AcceptWord("FALSE") || AcceptWord("UNKNOWN")) {
        auto e = Make(ExprType::kIsBool, loc);
        e->op = ToUpperAscii(Prev().text);
        e->args = {v};
        e->negated = neg;
        if (e->op == "UNKNOWN") {
          e->sql_text = "(" + v->sql_text + " IS " + nots + "NULL)";
        } else {
          std::string eq = "(" + v->sql_text + " <=> " + ToLowerAscii(e->op) + ")";
          e->sql_text = neg ? "(NOT " + eq + ")" : eq;
        }
        return e;
      }
      if (AcceptWord("DISTINCT")) {
        LS_RETURN_NOT_OK(ExpectWord("FROM"));
        LS_ASSIGN_OR_RAISE(auto right, ParseValue(1));
        auto e = Make(ExprType::kIsDistinctFrom, loc);
        e->args = {v, right};
        e->negated = neg;
        std::string eq = "(" + v->sql_text + " <=> " + right->sql_text + ")";
        e->sql_text = neg ? eq : "(NOT " + eq + ")";
        return e;
      }
      return Error(Cur(), "NULL, TRUE, FALSE, UNKNOWN or DISTINCT FROM after IS");
    }
    bool neg = false;
    if (Cur().IsWord("NOT") &&
        (Peek(1).IsWord("BETWEEN") || Peek(1).IsWord("IN") || Peek(1).IsWord("LIKE") ||
         Peek(1).IsWord("ILIKE") || Peek(1).IsWord("RLIKE") || Peek(1).IsWord("REGEXP"))) {
      Advance();
      neg = true;
    }
    auto negate = [neg](std::string s) { return neg ? "(NOT " + s + ")" : s; };
    if (AcceptWord("BETWEEN")) {
      LS_ASSIGN_OR_RAISE(auto lo, ParseValue(1));
      LS_RETURN_NOT_OK(ExpectWord("AND"));
      LS_ASSIGN_OR_RAISE(auto hi, ParseValue(1));
      auto e = Make(ExprType::kBetween, loc);
      e->args = {v, lo, hi};
      e->negated = neg;
      e->sql_text =
          negate("between(" + v->sql_text + ", " + lo->sql_text + ", " + hi->sql_text + ")");
      return e;
    }
    if (AcceptWord("IN")) {
      LS_RETURN_NOT_OK(ExpectSymbol("("));
      Status query_error;
      QueryPtr sub;
      if (LooksLikeQuery(0)) {
        auto q = TryQueryThenParen();
        if (q.ok())
          sub = *q;
        else
          query_error = q.status();
      }
      if (sub) {
        auto e = Make(ExprType::kInSubquery, loc);
        e->subquery = sub;
        e->args = {v};
        e->negated = neg;
        e->sql_text = negate("(" + v->sql_text + " IN (listquery()))");
        return e;
      }
      auto e = Make(ExprType::kInList, loc);
      e->args = {v};
      do {
        auto item = ParseExpr();
        if (!item.ok()) return query_error.ok() ? item.status() : query_error;
        e->args.push_back(*item);
      } while (AcceptSymbol(","));
      if (Status st = ExpectSymbol(")"); !st.ok()) return query_error.ok() ? st : query_error;
      e->negated = neg;
      std::vector<AstExprPtr> list(e->args.begin() + 1, e->args.end());
      e->sql_text = negate("(" + v->sql_text + " IN (" + Join(list) + "))");
      return e;
    }
    if (Cur().IsWord("LIKE") || Cur().IsWord("ILIKE") || Cur().IsWord("RLIKE") ||
        Cur().IsWord("REGEXP")) {
      std::string op = ToUpperAscii(Cur().text);
      if (op == "REGEXP") op = "RLIKE";
      Advance();
      auto e = Make(ExprType::kLike, loc);
      e->op = op;
      e->negated = neg;
      e->args = {v};
      if (op != "RLIKE" && (Cur().IsWord("ANY") || Cur().IsWord("ALL") || Cur().IsWord("SOME")) &&
          Peek(1).IsSymbol("(")) {
        e->quantifier = Cur().IsWord("ALL") ? "ALL" : "ANY";
        Advance();
        Advance();
        do {
          LS_ASSIGN_OR_RAISE(auto p, ParseExpr());
          e->args.push_back(p);
        } while (AcceptSymbol(","));
        LS_RETURN_NOT_OK(ExpectSymbol(")"));
        std::vector<AstExprPtr> list(e->args.begin() + 1, e->args.end());
        std::string subject = op == "ILIKE" ? "lower(" + v->sql_text + ")" : v->sql_text;
        e->sql_text = std::string(neg ? "not" : "") + "like" + ToLowerAscii(e->quantifier) + "(" +
                      subject + ")";
        return e;
      }
      LS_ASSIGN_OR_RAISE(auto pattern, ParseValue(1));
      e->args.push_back(pattern);
      if (op == "RLIKE") {
        e->sql_text = negate("RLIKE(" + v->sql_text + ", " + pattern->sql_text + ")");
        return e;
      }
      std::string esc;
      if (AcceptWord("ESCAPE")) {
        if (Cur().type != TokenType::kString) return Error(Cur(), "a string literal after ESCAPE");
        auto lit = Make(ExprType::kLiteral, Cur().loc);
        lit->literal_kind = LiteralKind::kString;
        lit->text = Cur().text;
        lit->sql_text = Cur().text;
        e->args.push_back(lit);
        Advance();
        esc = " ESCAPE '" + lit->text + "'";
      }
      if (op == "ILIKE") {
        e->sql_text = negate("ilike(" + v->sql_text + ", " + pattern->sql_text + ")");
      } else {
        e->sql_text = negate(v->sql_text + " LIKE " + pattern->sql_text + esc);
      }
      return e;
    }
    if (neg) return Error(Cur(), "BETWEEN, IN, LIKE, ILIKE or RLIKE after NOT");
    return v;
  }

  // Binary operator precedence inside valueExpression (0 = not an operator).
  static int BinaryPrecedence(const Token& t) {
    if (t.type == TokenType::kSymbol) {
      const std::string& s = t.text;
      if (s == "=" || s == "==" || s == "<>" || s == "!=" || s == "<" || s == "<=" || s == ">" ||
          s == ">=" || s == "<=>")
        return 1;
      if (s == "|") return 2;
      if (s == "^") return 3;
      if (s == "&") return 4;
      if (s == "<<" || s == ">>" || s == ">>>") return 5;
      if (s == "+" || s == "-" || s == "||") return 6;
      if (s == "*" || s == "/" || s == "%") return 7;
      return 0;
    }
    if (t.IsWord("DIV")) return 7;
    return 0;
  }

  Result<AstExprPtr> ParseValue(int min_prec) {
    LS_ASSIGN_OR_RAISE(AstExprPtr left, ParseUnary());
    int chain = 0;
    while (true) {
      int prec = BinaryPrecedence(Cur());
      if (prec == 0 || prec < min_prec) break;
      std::string op = Cur().type == TokenType::kWord ? "DIV" : Cur().text;
      Advance();
      ++chain;
      ++depth_;
      Status st = CheckDepth();
      if (!st.ok()) {
        depth_ -= chain;
        return st;
      }
      auto right = ParseValue(prec + 1);
      if (!right.ok()) {
        depth_ -= chain;
        return right.status();
      }
      left = MakeBinary(op, left, *right);
    }
    depth_ -= chain;
    return left;
  }

  AstExprPtr MakeBinary(const std::string& op, AstExprPtr l, AstExprPtr r) {
    if (op == "<<" || op == ">>" || op == ">>>") {
      auto f = Make(ExprType::kFunction, l->loc);
      f->name = op == "<<" ? "shiftleft" : (op == ">>" ? "shiftright" : "shiftrightunsigned");
      f->args = {l, r};
      f->sql_text = "(" + l->sql_text + " " + op + " " + r->sql_text + ")";
      return f;
    }
    auto e = Make(ExprType::kBinary, l->loc);
    e->op = op;
    e->args = {l, r};
    if (op == "==" || op == "=") {
      e->sql_text = "(" + l->sql_text + " = " + r->sql_text + ")";
    } else if (op == "<>" || op == "!=") {
      e->sql_text = "(NOT (" + l->sql_text + " = " + r->sql_text + "))";
    } else if (op == "||") {
      e->sql_text = "concat(" + l->sql_text + ", " + r->sql_text + ")";
    } else if (op == "DIV") {
      e->sql_text = "(" + l->sql_text + " div " + r->sql_text + ")";
    } else {
      e->sql_text = "(" + l->sql_text + " " + op + " " + r->sql_text + ")";
    }
    return e;
  }

  Result<AstExprPtr> ParseUnary() {
    const Token& t = Cur();
    if (t.IsSymbol("-") || t.IsSymbol("+") || t.IsSymbol("~")) {
      Nest nest(this);
      LS_RETURN_NOT_OK(CheckDepth());
      Location loc = t.loc;
      std::string op = t.text;
      Advance();
      if (op == "-" && Cur().IsNumber()) {
        // Spark's `number` rule folds the sign into the literal: -1 names itself "-1".
        AstExprPtr lit = MakeNumber(Cur(), true);
        lit->loc = loc;
        Advance();
        return ParsePostfix(lit);
      }
      LS_ASSIGN_OR_RAISE(auto operand, ParseUnary());
      auto e = Make(ExprType::kUnary, loc);
      e->op = op;
      e->args = {operand};
      e->sql_text = op == "~" ? "~" + operand->sql_text : "(" + op + " " + operand->sql_text + ")";
      return e;
    }
    LS_ASSIGN_OR_RAISE(auto primary, ParsePrimaryExpression());
    return ParsePostfix(primary);
  }

  Result<AstExprPtr> ParsePostfix(AstExprPtr e) {
    int chain = 0;
    auto done = [&](Result<AstExprPtr> r) {
      depth_ -= chain;
      return r;
    };
    while (true) {
      ++chain;
      ++depth_;
      if (Status st = CheckDepth(); !st.ok()) return done(st);
      if (Cur().IsSymbol("[")) {
        Location loc = Cur().loc;
        Advance();
        auto idx = ParseExpr();
        if (!idx.ok()) return done(idx.status());
        if (Status st = ExpectSymbol("]"); !st.ok()) return done(st);
        auto s = Make(ExprType::kSubscript, loc);
        s->args = {e, *idx};
        s->sql_text = e->sql_text + "[" + (*idx)->sql_text + "]";
        e = s;
      } else if (Cur().IsSymbol(".") && IsIdentToken(Peek(1), true)) {
        Advance();
        std::string name = Cur().text;
        Location loc = Cur().loc;
        Advance();
        if (e->type == ExprType::kColumn) {
          e->name_parts.push_back(name);
          e->sql_text = name;
        } else {
          auto f = Make(ExprType::kField, loc);
          f->name = name;
          f->args = {e};
          f->sql_text = name;
          e = f;
        }
      } else if (Cur().IsSymbol(".") && Peek(1).IsSymbol("*") && e->type == ExprType::kColumn) {
        Advance();
        Advance();
        auto s = Make(ExprType::kStar, e->loc);
        s->name_parts = e->name_parts;
        s->sql_text = "*";
        e = s;
      } else if (Cur().IsSymbol("::")) {
        Advance();
        auto type = ParseTypeText();
        if (!type.ok()) return done(type.status());
        e = MakeCast(e, *type, false, e->loc);
      } else if (Cur().IsWord("COLLATE") && IsIdentToken(Peek(1), true)) {
        // `expr COLLATE name` is Spark's Collate expression, collate(expr, 'name').
        Location loc = Cur().loc;
        Advance();
        std::string name = Cur().text;
        auto lit = MakeLiteral(LiteralKind::kString, name, name, Cur().loc);
        Advance();
        auto f = Make(ExprType::kFunction, loc);
        f->name = "collate";
        f->args = {e, lit};
        f->sql_text = "collate(" + e->sql_text + ", " + name + ")";
        e = f;
      } else {
        break;
      }
    }
    return done(e);
  }

  AstExprPtr MakeCast(AstExprPtr x, const std::pair<std::string, std::string>& type, bool try_cast,
                      Location loc) {
    auto c = Make(ExprType::kCast, loc);
    c->args = {x};
    c->text = type.first;
    c->try_cast = try_cast;
    // Note: Spark names a top-level select item that casts a plain column after
    // the column (SELECT CAST(a AS INT) -> "a"); that needs name resolution, so
    // the binder applies it. Elsewhere the name is CAST(a AS INT).
    c->sql_text =
        std::string(try_cast ? "TRY_CAST(" : "CAST(") + x->sql_text + " AS " + type.second + ")";
    return c;
  }

  // A data type; returns {verbatim text, Spark's SQL spelling}.
  Result<std::pair<std::string, std::string>> ParseTypeText() {
    const Token& first = Cur();
    if (first.type != TokenType::kWord && first.type != TokenType::kQuotedIdent)
      return Error(first, "a data type");
    size_t begin = first.begin;
    size_t type_start = pos_;
    std::string head = ToUpperAscii(first.text);
    Advance();
    if (head == "INTERVAL") {
      while (IsIntervalUnit(Cur()) || Cur().IsWord("TO")) Advance();
    } else if (head == "DOUBLE") {
      AcceptWord("PRECISION");
    } else if (head == "CHARACTER" || head == "CHAR") {
      AcceptWord("VARYING");
    } else if (head == "STRING" && Cur().IsWord("COLLATE") && IsIdentToken(Peek(1), true)) {
      Advance();  // STRING COLLATE name: the DDL parser checks the name
      Advance();
    }
    if (Cur().IsSymbol("<")) {
      int depth = 0;
      while (true) {
        const Token& t = Cur();
        if (t.type == TokenType::kEnd) return Error(t, "'>' closing the type");
        if (t.IsSymbol("<"))
          depth += 1;
        else if (t.IsSymbol(">"))
          depth -= 1;
        else if (t.IsSymbol(">>"))
          depth -= 2;
        else if (t.IsSymbol(">>>"))
          depth -= 3;
        else if (t.IsSymbol("<=") || t.IsSymbol(">=") || t.IsSymbol("<>") || t.IsSymbol("<=>"))
          return Error(t, "a data type");
        Advance();
        if (depth < 0) return Error(Prev(), "a data type with balanced '<' '>'");
        if (depth == 0) break;
      }
    }
    if (Cur().IsSymbol("(")) {
      int depth = 0;
      while (true) {
        const Token& t = Cur();
        if (t.type == TokenType::kEnd) return Error(t, "')' closing the type");
        if (t.IsSymbol("("))
          ++depth;
        else if (t.IsSymbol(")"))
          --depth;
        Advance();
        if (depth == 0) break;
      }
    }
    size_t end = Prev().end;
    // Spark's spelling: type words upper case and normalized, field names kept.
    std::string sql;
    int paren = 0;
    for (size_t i = type_start; i < pos_; ++i) {
      const Token& t = toks_[i];
      if (t.type == TokenType::kWord || t.type == TokenType::kQuotedIdent) {
        bool field =
            toks_[i + 1].IsSymbol(":") ||
            (i > type_start && (toks_[i - 1].IsSymbol("<") || toks_[i - 1].IsSymbol(",")) &&
             paren == 0 && (toks_[i + 1].type == TokenType::kWord));
        if (!sql.empty() && sql.back() != '<' && sql.back() != '(' && sql.back() != ' ') sql += ' ';
        sql += field ? t.text : NormalizeTypeWord(t.text);
      } else if (t.IsSymbol(",")) {
        sql += paren > 0 ? "," : ", ";
      } else if (t.IsSymbol(":")) {
        sql += ": ";
      } else if (t.IsSymbol("(")) {
        ++paren;
        sql += "(";
      } else if (t.IsSymbol(")")) {
        --paren;
        sql += ")";
      } else if (t.type == TokenType::kString) {
        sql += "'" + t.text + "'";
      } else {
        sql += TokenSource(t);
      }
    }
    if (sql == "DECIMAL") sql = "DECIMAL(10,0)";
    return std::make_pair(Slice(begin, end), sql);
  }

  AstExprPtr MakeNumber(const Token& t, bool negative) {
    auto e = Make(ExprType::kLiteral, t.loc);
    std::string digits = (negative ? "-" : "") + t.text;
    e->text = digits;
    e->suffix = t.suffix;
    if (t.type == TokenType::kInteger) {
      e->literal_kind = LiteralKind::kInteger;
      e->sql_text = digits;
    } else if (t.type == TokenType::kDecimal) {
      e->literal_kind = LiteralKind::kDecimal;
      e->sql_text = digits;
      if (!digits.empty() && digits.back() == '.')
        e->sql_text = digits.substr(0, digits.size() - 1);
      if (e->sql_text.size() > 0 && e->sql_text[negative ? 1 : 0] == '.') {
        e->sql_text.insert(negative ? 1 : 0, "0");
      }
    } else {
      e->literal_kind = LiteralKind::kDouble;
      e->sql_text = FormatDouble(digits);
    }
    return e;
  }

  AstExprPtr MakeLiteral(LiteralKind kind, std::string text, std::string sql, Location loc) {
    auto e = Make(ExprType::kLiteral, loc);
    e->literal_kind = kind;
    e->text = std::move(text);
    e->sql_text = std::move(sql);
    return e;
  }

  Result<AstExprPtr> ParseFunctionArgument() {
    if (IsIdentToken(Cur(), true) && Peek(1).IsSymbol("=>")) {
      auto e = Make(ExprType::kNamedArgument, Cur().loc);
      e->name = Cur().text;
      Advance();
      Advance();
      LS_ASSIGN_OR_RAISE(auto v, ParseExpr());
      e->args = {v};
      e->sql_text = e->name + " => " + v->sql_text;
      return e;
    }
    LS_ASSIGN_OR_RAISE(auto arg, ParseExpr());
    if (AcceptWord("AS")) {  // struct(a AS x, ...)
      LS_ASSIGN_OR_RAISE(arg->alias, ParseIdentifier(true, "an alias"));
      arg->sql_text += " AS " + arg->alias;
    }
    return arg;
  }

  // Lambda parameters at the cursor: `x ->` or `(x, y) ->`; returns count of tokens, 0 if none.
  size_t LambdaLength() const {
    if (IsIdentToken(Cur(), false) && Peek(1).IsSymbol("->")) return 2;
    if (!Cur().IsSymbol("(")) return 0;
    size_t k = 1;
    if (Peek(k).IsSymbol(")")) return Peek(k + 1).IsSymbol("->") ? k + 2 : 0;
    while (true) {
      if (!IsIdentToken(Peek(k), false)) return 0;
      ++k;
      if (Peek(k).IsSymbol(",")) {
        ++k;
        continue;
      }
      if (Peek(k).IsSymbol(")") && Peek(k + 1).IsSymbol("->")) return k + 2;
      return 0;
    }
  }

  Result<AstExprPtr> ParseLambda() {
    auto e = Make(ExprType::kLambda, Cur().loc);
    if (AcceptSymbol("(")) {
      while (!Cur().IsSymbol(")")) {
        e->lambda_params.push_back(Cur().text);
        Advance();
        AcceptSymbol(",");
      }
      Advance();
    } else {
      e->lambda_params.push_back(Cur().text);
      Advance();
    }
    LS_RETURN_NOT_OK(ExpectSymbol("->"));
    size_t scope = lambda_vars_.size();
    for (const auto& p : e->lambda_params) lambda_vars_.push_back(ToLowerAscii(p));
    auto body_r = ParseExpr();
    lambda_vars_.resize(scope);
    LS_ASSIGN_OR_RAISE(auto body, std::move(body_r));
    e->args = {body};
    std::string params;
    for (size_t i = 0; i < e->lambda_params.size(); ++i) params += ", namedlambdavariable()";
    e->sql_text = "lambdafunction(" + body->sql_text + params + ")";
    return e;
  }

  Result<AstExprPtr> ParsePrimaryExpression() {
    const Token& t = Cur();
    Location loc = t.loc;
    switch (t.type) {
      case TokenType::kEnd:
        return Error(t, "an expression");
      case TokenType::kString: {
        std::string value;
        while (Cur().type == TokenType::kString) {  // 'a' 'b' is 'ab'
          value += Cur().text;
          Advance();
        }
        return MakeLiteral(LiteralKind::kString, value, value, loc);
      }
      case TokenType::kInteger:
      case TokenType::kDecimal:
      case TokenType::kDouble: {
        auto e = MakeNumber(t, false);
        Advance();
        return e;
      }
      case TokenType::kBinaryString: {
        std::string hex = ToUpperAscii(t.text);
        Advance();
        return MakeLiteral(LiteralKind::kBinary, hex, "X'" + hex + "'", loc);
      }
      case TokenType::kSymbol:
        return ParseSymbolPrimary();
      case TokenType::kQuotedIdent:
      case TokenType::kWord:
        break;
    }
    if (size_t n = LambdaLength(); n > 0) return ParseLambda();
    if (t.type == TokenType::kWord) {
      std::string u = ToUpperAscii(t.text);
      const Token& next = Peek(1);
      if (u == "NULL") {
        Advance();
        return MakeLiteral(LiteralKind::kNull, "", "NULL", loc);
      }
      if (u == "TRUE" || u == "FALSE") {
        Advance();
        std::string v = ToLowerAscii(u);
        return MakeLiteral(LiteralKind::kBoolean, v, v, loc);
      }
      if ((u == "DATE" || u == "TIMESTAMP" || u == "TIMESTAMP_NTZ" || u == "TIMESTAMP_LTZ") &&
          next.type == TokenType::kString) {
        Advance();
        std::string v = Cur().text;
        Advance();
        LiteralKind kind = u == "DATE"            ? LiteralKind::kDate
                           : u == "TIMESTAMP_NTZ" ? LiteralKind::kTimestampNtz
                                                  : LiteralKind::kTimestamp;
        std::string prefix = u == "TIMESTAMP_LTZ" ? "TIMESTAMP" : u;
        return MakeLiteral(kind, v, prefix + " '" + v + "'", loc);
      }
      if (u == "INTERVAL" && (next.type == TokenType::kString || next.IsNumber() ||
                              ((next.IsSymbol("-") || next.IsSymbol("+")) &&
                               (Peek(2).IsNumber() || Peek(2).type == TokenType::kString)))) {
        return ParseInterval();
      }
      if (u == "CASE") return ParseCase();
      if ((u == "CAST" || u == "TRY_CAST") && next.IsSymbol("(")) {
        Advance();
        Advance();
        LS_ASSIGN_OR_RAISE(auto x, ParseExpr());
        LS_RETURN_NOT_OK(ExpectWord("AS"));
        LS_ASSIGN_OR_RAISE(auto type, ParseTypeText());
        LS_RETURN_NOT_OK(ExpectSymbol(")"));
        return MakeCast(x, type, u == "TRY_CAST", loc);
      }
      if (u == "EXISTS" && next.IsSymbol("(") && LooksLikeQuery(2)) {
        Advance();
        Advance();
        auto e = Make(ExprType::kExists, loc);
        LS_ASSIGN_OR_RAISE(e->subquery, ParseQuery());
        LS_RETURN_NOT_OK(ExpectSymbol(")"));
        e->sql_text = "exists()";
        return e;
      }
      if (u == "EXTRACT" && next.IsSymbol("(") && IsIdentToken(Peek(2), true) &&
          Peek(3).IsWord("FROM")) {
        Advance();
        Advance();
        std::string field = Cur().text;
        auto f = MakeLiteral(LiteralKind::kString, field, field, Cur().loc);
        Advance();
        Advance();  // FROM
        LS_ASSIGN_OR_RAISE(auto x, ParseExpr());
        LS_RETURN_NOT_OK(ExpectSymbol(")"));
        auto e = Make(ExprType::kFunction, loc);
        e->name = "extract";
        e->args = {f, x};
        e->sql_text = "extract(" + field + " FROM " + x->sql_text + ")";
        return e;
      }
      if ((u == "SUBSTRING" || u == "SUBSTR") && next.IsSymbol("(")) {
        return ParseSubstring();
      }
      if (u == "TRIM" && next.IsSymbol("(")) return ParseTrim();
      if (u == "OVERLAY" && next.IsSymbol("(")) {
        // OVERLAY(input PLACING replace FROM pos [FOR len]) -> overlay(input, replace, pos[, len])
        size_t save = pos_;
        Advance();
        Advance();
        LS_ASSIGN_OR_RAISE(auto input, ParseValue(1));
        if (AcceptWord("PLACING")) {
          auto e = Make(ExprType::kFunction, loc);
          e->name = "overlay";
          LS_ASSIGN_OR_RAISE(auto repl, ParseValue(1));
          LS_RETURN_NOT_OK(ExpectWord("FROM"));
          LS_ASSIGN_OR_RAISE(auto from, ParseValue(1));
          e->args = {input, repl, from};
          if (AcceptWord("FOR")) {
            LS_ASSIGN_OR_RAISE(auto len, ParseValue(1));
            e->args.push_back(len);
          }
          LS_RETURN_NOT_OK(ExpectSymbol(")"));
          e->sql_text = "overlay(" + Join(e->args) + ")";
          return e;
        }
        pos_ = save;
      }
      if (u == "POSITION" && next.IsSymbol("(")) {
        // POSITION(a IN b) -> position(a, b); otherwise an ordinary call.
        size_t save = pos_;
        Advance();
        Advance();
        LS_ASSIGN_OR_RAISE(auto needle, ParseValue(1));
        if (AcceptWord("IN")) {
          LS_ASSIGN_OR_RAISE(auto hay, ParseValue(1));
          LS_RETURN_NOT_OK(ExpectSymbol(")"));
          auto e = Make(ExprType::kFunction, loc);
          e->name = "position";
          e->args = {needle, hay};
          e->sql_text = "locate(" + needle->sql_text + ", " + hay->sql_text + ", 1)";
          return e;
        }
        pos_ = save;
      }
      if ((u == "CURRENT_DATE" || u == "CURRENT_TIMESTAMP" || u == "CURRENT_USER" ||
           u == "CURRENT_TIME" || u == "SESSION_USER" || u == "CURRENT_TIMEZONE") &&
          !next.IsSymbol("(") && !next.IsSymbol(".")) {
        Advance();
        auto e = Make(ExprType::kFunction, loc);
        e->name = ToLowerAscii(u);
        e->sql_text = e->name + "()";
        return e;
      }
      if (next.IsSymbol("(") && (u == "NOT")) {
        return Error(t, "an expression");
      }
      if (IsReservedToken(t) && !next.IsSymbol("(")) return Error(t, "an expression");
      if (IsReservedToken(t) && next.IsSymbol("(") &&
          !(u == "LEFT" || u == "RIGHT" || u == "IF" || u == "REPLACE" || u == "IN" ||
            u == "LIKE" || u == "ILIKE" || u == "RLIKE" || u == "REGEXP")) {
        return Error(t, "an expression");
      }
    }
    // Column reference or function call: a.b.c / a.b(...)
    std::vector<std::string> parts = {t.text};
    Advance();
    while (Cur().IsSymbol(".") && IsIdentToken(Peek(1), true) && !Peek(2).IsSymbol("->")) {
      Advance();
      parts.push_back(Cur().text);
      Advance();
    }
    if (Cur().IsSymbol("(")) return ParseFunctionCall(std::move(parts), loc);
    auto e = Make(ExprType::kColumn, loc);
    e->sql_text = parts.back();
    if (parts.size() == 1 && std::find(lambda_vars_.begin(), lambda_vars_.end(),
                                       ToLowerAscii(parts[0])) != lambda_vars_.end()) {
      e->sql_text = "namedlambdavariable()";
    }
    e->name_parts = std::move(parts);
    return e;
  }

  Result<AstExprPtr> ParseSymbolPrimary() {
    const Token& t = Cur();
    Location loc = t.loc;
    if (t.IsSymbol("(")) {
      Status query_error;
      if (LooksLikeQuery(1)) {
        Advance();
        auto q = TryQueryThenParen();
        if (q.ok()) {
          auto e = Make(ExprType::kScalarSubquery, loc);
          e->subquery = *q;
          e->sql_text = "scalarsubquery()";
          return e;
        }
        query_error = q.status();
        pos_ -= 1;  // back to '('
      }
      if (LambdaLength() > 0) return ParseLambda();
      // Else a parenthesized expression, which may start with a subquery:
      // ((SELECT 1) + 1). If that fails too, the subquery's error is the useful one.
      Advance();
      auto inner_r = ParseExpr();
      if (!inner_r.ok()) return query_error.ok() ? inner_r.status() : query_error;
      AstExprPtr inner = *inner_r;
      if (Cur().IsSymbol(",")) {
        // (a, b): a row constructor, i.e. struct(a, b).
        auto e = Make(ExprType::kFunction, loc);
        e->name = "struct";
        e->args = {inner};
        while (AcceptSymbol(",")) {
          LS_ASSIGN_OR_RAISE(auto x, ParseExpr());
          e->args.push_back(x);
        }
        LS_RETURN_NOT_OK(ExpectSymbol(")"));
        std::string sql;
        for (const auto& a : e->args)
          sql += (sql.empty() ? "" : ", ") + a->sql_text + ", " + a->sql_text;
        e->sql_text = "named_struct(" + sql + ")";
        return e;
      }
      if (Status st = ExpectSymbol(")"); !st.ok()) return query_error.ok() ? st : query_error;
      return inner;
    }
    if (t.IsSymbol("*")) {
      Advance();
      auto e = Make(ExprType::kStar, loc);
      e->sql_text = "*";
      return e;
    }
    if (t.IsSymbol("?")) {
      Advance();
      auto e = Make(ExprType::kParameter, loc);
      e->sql_text = "?";
      return e;
    }
    if (t.IsSymbol(":") && IsIdentToken(Peek(1), true)) {
      Advance();
      auto e = Make(ExprType::kParameter, loc);
      e->name = Cur().text;
      e->sql_text = ":" + e->name;
      Advance();
      return e;
    }
    return Error(t, "an expression");
  }

  Result<AstExprPtr> ParseInterval() {
    Location loc = Cur().loc;
    Advance();  // INTERVAL
    size_t begin = Cur().begin;
    size_t first_tok = pos_;
    bool any = false;
    while (true) {
      size_t k = 0;
      if (Peek(k).IsSymbol("-") || Peek(k).IsSymbol("+")) ++k;
      const Token& v = Peek(k);
      bool is_value = v.type == TokenType::kString || v.IsNumber();
      if (!is_value) break;
      // After the first pair, continue only when a unit follows (else it is an operator).
      if (any && !IsIntervalUnit(Peek(k + 1))) break;
      for (size_t i = 0; i <= k; ++i) Advance();
      any = true;
      if (IsIntervalUnit(Cur())) {
        Advance();
        if (Cur().IsWord("TO") && IsIntervalUnit(Peek(1))) {
          Advance();
          Advance();
        }
      } else if (v.type != TokenType::kString) {
        return Error(Cur(), "an interval unit (YEAR, MONTH, WEEK, DAY, HOUR, MINUTE, SECOND, ...)");
      } else {
        break;  // INTERVAL '1 day 2 hours'
      }
    }
    auto e = Make(ExprType::kInterval, loc);
    e->text = Slice(begin, Prev().end);
    e->sql_text = IntervalSql(toks_, first_tok, pos_, e->text);
    return e;
  }

  Result<AstExprPtr> ParseCase() {
    auto e = Make(ExprType::kCase, Cur().loc);
    Advance();  // CASE
    if (!Cur().IsWord("WHEN")) {
      LS_ASSIGN_OR_RAISE(e->operand, ParseExpr());
    }
    std::string sql = "CASE";
    if (!Cur().IsWord("WHEN")) return Error(Cur(), "WHEN");
    while (AcceptWord("WHEN")) {
      LS_ASSIGN_OR_RAISE(auto cond, ParseExpr());
      LS_RETURN_NOT_OK(ExpectWord("THEN"));
      LS_ASSIGN_OR_RAISE(auto result, ParseExpr());
      std::string cond_sql =
          e->operand ? "(" + e->operand->sql_text + " = " + cond->sql_text + ")" : cond->sql_text;
      sql += " WHEN " + cond_sql + " THEN " + result->sql_text;
      e->whens.emplace_back(cond, result);
    }
    if (AcceptWord("ELSE")) {
      LS_ASSIGN_OR_RAISE(e->else_expr, ParseExpr());
      sql += " ELSE " + e->else_expr->sql_text;
    }
    LS_RETURN_NOT_OK(ExpectWord("END"));
    e->sql_text = sql + " END";
    return e;
  }

  Result<AstExprPtr> ParseSubstring() {
    Location loc = Cur().loc;
    std::string name = ToLowerAscii(Cur().text);
    Advance();
    Advance();  // (
    auto e = Make(ExprType::kFunction, loc);
    e->name = name;
    LS_ASSIGN_OR_RAISE(auto str, ParseExpr());
    e->args.push_back(str);
    if (AcceptWord("FROM")) {
      LS_ASSIGN_OR_RAISE(auto from, ParseValue(1));
      e->args.push_back(from);
      if (AcceptWord("FOR")) {
        LS_ASSIGN_OR_RAISE(auto len, ParseValue(1));
        e->args.push_back(len);
      }
    } else {
      while (AcceptSymbol(",")) {
        LS_ASSIGN_OR_RAISE(auto a, ParseExpr());
        e->args.push_back(a);
      }
    }
    LS_RETURN_NOT_OK(ExpectSymbol(")"));
    e->sql_text = name + "(" + Join(e->args) + ")";
    return e;
  }

  Result<AstExprPtr> ParseTrim() {
    Location loc = Cur().loc;
    Advance();
    Advance();  // (
    auto e = Make(ExprType::kFunction, loc);
    std::string direction = "BOTH";
    bool has_option = false;
    if (AcceptWord("BOTH") || AcceptWord("LEADING") || AcceptWord("TRAILING")) {
      direction = ToUpperAscii(Prev().text);
      has_option = true;
    }
    e->name = direction == "BOTH" ? "trim" : direction == "LEADING" ? "ltrim" : "rtrim";
    AstExprPtr chars, src;
    if (AcceptWord("FROM")) {
      LS_ASSIGN_OR_RAISE(src, ParseValue(1));
    } else {
      LS_ASSIGN_OR_RAISE(auto first, ParseValue(1));
      if (AcceptWord("FROM")) {
        chars = first;
        LS_ASSIGN_OR_RAISE(src, ParseValue(1));
      } else if (!has_option && Cur().IsSymbol(",")) {
        // trim(trimStr, str): the function form.
        Advance();
        chars = first;
        LS_ASSIGN_OR_RAISE(src, ParseExpr());
      } else {
        if (has_option) return Error(Cur(), "FROM");
        src = first;
      }
    }
    LS_RETURN_NOT_OK(ExpectSymbol(")"));
    // Spark's function form takes (trimStr, str).
    if (chars)
      e->args = {chars, src};
    else
      e->args = {src};
    if (chars) {
      e->sql_text = "TRIM(" + direction + " " + chars->sql_text + " FROM " + src->sql_text + ")";
    } else {
      e->sql_text = e->name + "(" + src->sql_text + ")";
    }
    return e;
  }

  Result<AstExprPtr> ParseFunctionCall(std::vector<std::string> parts, Location loc) {
    auto e = Make(ExprType::kFunction, loc);
    std::string name;
    for (size_t i = 0; i < parts.size(); ++i) name += (i ? "." : "") + ToLowerAscii(parts[i]);
    e->name = name;
    LS_RETURN_NOT_OK(ExpectSymbol("("));
    bool count_star = false;
    if (AcceptWord("DISTINCT")) {
      e->distinct = true;
    } else if (Cur().IsWord("ALL") && !Peek(1).IsSymbol(")") && !Peek(1).IsSymbol(",")) {
      Advance();
    }
    if (Cur().IsSymbol("*") && Peek(1).IsSymbol(")")) {
      auto star = Make(ExprType::kStar, Cur().loc);
      star->sql_text = "*";
      e->args.push_back(star);
      count_star = true;
      Advance();
    } else if (!Cur().IsSymbol(")")) {
      do {
        LS_ASSIGN_OR_RAISE(auto arg, ParseFunctionArgument());
        e->args.push_back(arg);
      } while (AcceptSymbol(","));
    }
    if ((Cur().IsWord("IGNORE") || Cur().IsWord("RESPECT")) && Peek(1).IsWord("NULLS")) {
      e->ignore_nulls = Cur().IsWord("IGNORE");
      Advance();
      Advance();
    }
    LS_RETURN_NOT_OK(ExpectSymbol(")"));
    std::string sql =
        name + "(" + (e->distinct ? "DISTINCT " : "") + (count_star ? "1" : Join(e->args)) + ")";
    if (Cur().IsWord("WITHIN") && Peek(1).IsWord("GROUP")) {
      return Error(Cur(),
                   "FILTER, OVER or the end of the function call (WITHIN GROUP is not supported)");
    }
    if (Cur().IsWord("FILTER") && Peek(1).IsSymbol("(")) {
      Advance();
      Advance();
      LS_RETURN_NOT_OK(ExpectWord("WHERE"));
      LS_ASSIGN_OR_RAISE(e->filter, ParseExpr());
      LS_RETURN_NOT_OK(ExpectSymbol(")"));
      sql += " FILTER (WHERE " + e->filter->sql_text + ")";
    }
    if ((Cur().IsWord("IGNORE") || Cur().IsWord("RESPECT")) && Peek(1).IsWord("NULLS")) {
      e->ignore_nulls = Cur().IsWord("IGNORE");
      Advance();
      Advance();
    }
    if (name == "if" && !e->distinct) sql = "(IF(" + Join(e->args) + "))";
    if (AcceptWord("OVER")) {
      if (IsIdentToken(Cur(), false)) {
        e->window_name = Cur().text;
        Advance();
        sql += " OVER " + e->window_name;
      } else {
        LS_ASSIGN_OR_RAISE(e->over, ParseWindowSpec());
        sql += " OVER (" + WindowSql(*e->over, name) + ")";
      }
    }
    e->sql_text = sql;
    return e;
  }

  static std::string BoundSql(const FrameBound& b) {
    switch (b.type) {
      case BoundType::kUnboundedPreceding:
        return "UNBOUNDED PRECEDING";
      case BoundType::kUnboundedFollowing:
        return "UNBOUNDED FOLLOWING";
      case BoundType::kCurrentRow:
        return "CURRENT ROW";
      case BoundType::kPreceding:
        return b.offset->sql_text + " PRECEDING";
      case BoundType::kFollowing:
        return b.offset->sql_text + " FOLLOWING";
    }
    return "";
  }

  // Spark's spelling of a window specification (with the default frame).
  static std::string WindowSql(const WindowSpec& w, const std::string& fn = "") {
    std::vector<std::string> parts;
    if (!w.base_name.empty()) parts.push_back(w.base_name);
    if (!w.partition_by.empty()) parts.push_back("PARTITION BY " + Join(w.partition_by));
    if (!w.order_by.empty()) {
      std::string s = "ORDER BY ";
      for (size_t i = 0; i < w.order_by.size(); ++i) {
        const auto& o = w.order_by[i];
        bool nf = o.nulls_first.value_or(o.ascending);
        s += (i ? ", " : "") + o.expr->sql_text + (o.ascending ? " ASC" : " DESC") +
             (nf ? " NULLS FIRST" : " NULLS LAST");
      }
      parts.push_back(s);
    }
    if (w.frame) {
      parts.push_back(std::string(w.frame->type == FrameType::kRows ? "ROWS" : "RANGE") +
                      " BETWEEN " + BoundSql(w.frame->start) + " AND " + BoundSql(w.frame->end));
    } else if (w.base_name.empty() &&
               (fn == "row_number" || fn == "rank" || fn == "dense_rank" || fn == "percent_rank" ||
                fn == "cume_dist" || fn == "ntile")) {
      parts.push_back("ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW");
    } else if (w.base_name.empty()) {
      parts.push_back(w.order_by.empty()
                          ? "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
                          : "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW");
    }
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? " " : "") + parts[i];
    return out;
  }

  Result<std::shared_ptr<WindowSpec>> ParseWindowSpec() {
    LS_RETURN_NOT_OK(ExpectSymbol("("));
    auto w = std::make_shared<WindowSpec>();
    if (IsIdentToken(Cur(), false) && !Cur().IsWord("PARTITION") && !Cur().IsWord("ROWS") &&
        !Cur().IsWord("RANGE") && !Cur().IsWord("DISTRIBUTE")) {
      w->base_name = Cur().text;
      Advance();
    }
    if (AcceptWord("PARTITION") || AcceptWord("DISTRIBUTE")) {
      LS_RETURN_NOT_OK(ExpectWord("BY"));
      do {
        LS_ASSIGN_OR_RAISE(auto e, ParseExpr());
        w->partition_by.push_back(e);
      } while (AcceptSymbol(","));
    } else if (AcceptWord("CLUSTER")) {
      LS_RETURN_NOT_OK(ExpectWord("BY"));
      do {
        LS_ASSIGN_OR_RAISE(auto e, ParseExpr());
        w->partition_by.push_back(e);
      } while (AcceptSymbol(","));
    }
    if (AcceptWord("ORDER") || AcceptWord("SORT")) {
      LS_RETURN_NOT_OK(ExpectWord("BY"));
      LS_ASSIGN_OR_RAISE(w->order_by, ParseOrderItems());
    }
    if (Cur().IsWord("ROWS") || Cur().IsWord("RANGE")) {
      WindowFrame frame;
      frame.type = Cur().IsWord("ROWS") ? FrameType::kRows : FrameType::kRange;
      Advance();
      if (AcceptWord("BETWEEN")) {
        LS_ASSIGN_OR_RAISE(frame.start, ParseFrameBound());
        LS_RETURN_NOT_OK(ExpectWord("AND"));
        LS_ASSIGN_OR_RAISE(frame.end, ParseFrameBound());
      } else {
        LS_ASSIGN_OR_RAISE(frame.start, ParseFrameBound());
        frame.end.type = BoundType::kCurrentRow;
      }
      w->frame = frame;
    }
    LS_RETURN_NOT_OK(ExpectSymbol(")"));
    return w;
  }

  Result<FrameBound> ParseFrameBound() {
    FrameBound b;
    if (AcceptWord("UNBOUNDED")) {
      if (AcceptWord("PRECEDING")) {
        b.type = BoundType::kUnboundedPreceding;
      } else if (AcceptWord("FOLLOWING")) {
        b.type = BoundType::kUnboundedFollowing;
      } else {
        return Error(Cur(), "PRECEDING or FOLLOWING");
      }
      return b;
    }
    if (AcceptWord("CURRENT")) {
      LS_RETURN_NOT_OK(ExpectWord("ROW"));
      b.type = BoundType::kCurrentRow;
      return b;
    }
    LS_ASSIGN_OR_RAISE(b.offset, ParseValue(1));
    if (AcceptWord("PRECEDING")) {
      b.type = BoundType::kPreceding;
    } else if (AcceptWord("FOLLOWING")) {
      b.type = BoundType::kFollowing;
    } else {
      return Error(Cur(), "PRECEDING or FOLLOWING");
    }
    return b;
  }

  std::string_view sql_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  size_t select_items_end_ = static_cast<size_t>(-1);  // token after the last select list
  std::vector<std::string> lambda_vars_;               // lambda parameters in scope (lower case)
  std::unordered_map<size_t, Status> failed_queries_;  // see TryQueryThenParen
};

// A statement's byte range in the script and where it starts.
struct StatementRange {
  size_t begin;
  size_t end;
  Location loc;
};

// Splits at top-level ';' honoring quotes and comments. `incomplete` is set when
// the text ends inside a quote or comment or the last statement lacks ';'.
std::vector<StatementRange> SplitRanges(std::string_view sql, bool* incomplete) {
  std::vector<StatementRange> out;
  size_t i = 0, start = 0;
  Location loc, start_loc;
  bool has_content = false;  // non-space, non-comment text since `start`
  bool open = false;         // ended inside a quote/comment
  auto advance_to = [&](size_t to) {
    AdvanceLocation(&loc, sql.substr(i, to - i));
    i = to;
  };
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\'' || c == '"' || c == '`') {
      if (!has_content) {
        start = i;
        start_loc = loc;
      }
      has_content = true;
      size_t e = i + 1;
      while (e < sql.size() && sql[e] != c) {
        if (c != '`' && sql[e] == '\\') ++e;
        ++e;
      }
      if (e >= sql.size()) {
        open = true;
        advance_to(sql.size());
        break;
      }
      advance_to(e + 1);
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t e = sql.find('\n', i);
      advance_to(e == std::string_view::npos ? sql.size() : e);
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      size_t e = i + 2;
      int depth = 1;
      while (e < sql.size() && depth > 0) {
        if (sql[e] == '/' && e + 1 < sql.size() && sql[e + 1] == '*') {
          ++depth;
          e += 2;
        } else if (sql[e] == '*' && e + 1 < sql.size() && sql[e + 1] == '/') {
          --depth;
          e += 2;
        } else {
          ++e;
        }
      }
      if (depth > 0) open = true;
      advance_to(e);
    } else if (c == ';') {
      if (has_content) out.push_back({start, i, start_loc});
      advance_to(i + 1);
      start = i;
      start_loc = loc;
      has_content = false;
    } else {
      if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')) {
        if (!has_content) {
          start = i;
          start_loc = loc;
        }
        has_content = true;
      }
      advance_to(i + 1);
    }
  }
  if (has_content) out.push_back({start, sql.size(), start_loc});
  if (incomplete) *incomplete = open || has_content;
  return out;
}

std::string_view TrimSpace(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

Result<StatementPtr> ParseRange(std::string_view sql, const StatementRange& r) {
  // SET / RESET take raw text, so do not tokenize their values.
  std::string_view text = sql.substr(r.begin, r.end - r.begin);
  std::string head = ToUpperAscii(text.substr(0, 6));
  auto is_kw = [&](std::string_view kw) {
    return head.compare(0, kw.size(), kw) == 0 &&
           (text.size() == kw.size() ||
            !(std::isalnum(static_cast<unsigned char>(text[kw.size()])) || text[kw.size()] == '_'));
  };
  StatementPtr stmt;
  if (is_kw("SET") || is_kw("RESET")) {
    stmt = std::make_shared<Statement>();
    stmt->loc = r.loc;
    bool set = is_kw("SET");
    Parser::ParseSetText(set, text.substr(set ? 3 : 5), stmt.get());
  } else {
    LS_ASSIGN_OR_RAISE(auto tokens, Tokenize(sql, r.begin, r.end, r.loc));
    Parser parser(sql, std::move(tokens));
    LS_ASSIGN_OR_RAISE(stmt, parser.ParseWholeStatement());
  }
  stmt->text = std::string(TrimSpace(text));
  return stmt;
}

}  // namespace

Result<std::vector<StatementPtr>> ParseStatements(std::string_view sql) {
  std::vector<StatementPtr> out;
  for (const auto& r : SplitRanges(sql, nullptr)) {
    LS_ASSIGN_OR_RAISE(auto stmt, ParseRange(sql, r));
    out.push_back(std::move(stmt));
  }
  return out;
}

Result<StatementPtr> ParseStatement(std::string_view sql) {
  auto ranges = SplitRanges(sql, nullptr);
  if (ranges.empty()) {
    return UserError(
        "[PARSE_EMPTY_STATEMENT] Syntax error, unexpected empty statement: line 1:1, expected a "
        "statement");
  }
  if (ranges.size() > 1) {
    return UserError(
        "[PARSE_SYNTAX_ERROR] Syntax error at or near ';': line {}:{}, expected one statement but "
        "found {}",
        ranges[1].loc.line, ranges[1].loc.column, ranges.size());
  }
  return ParseRange(sql, ranges[0]);
}

Result<AstExprPtr> ParseExpression(std::string_view sql) {
  LS_ASSIGN_OR_RAISE(auto tokens, Tokenize(sql));
  Parser parser(sql, std::move(tokens));
  return parser.ParseWholeExpression();
}

std::vector<std::string> SplitStatements(std::string_view sql, bool* incomplete) {
  std::vector<std::string> out;
  for (const auto& r : SplitRanges(sql, incomplete)) {
    out.emplace_back(TrimSpace(sql.substr(r.begin, r.end - r.begin)));
  }
  return out;
}

}  // namespace lakestream::sql
