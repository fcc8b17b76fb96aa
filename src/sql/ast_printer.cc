// Canonical SQL printer for the syntax tree: see ast_printer.h.
#include "sql/ast_printer.h"

#include "sql/lexer.h"

namespace lakestream::sql {

namespace {

// Words whose bare use would parse as something else than a column.
bool NeedsQuotes(const std::string& name) {
  if (name.empty()) return true;
  char c0 = name[0];
  if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || c0 == '_')) return true;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return true;
  }
  std::string u = ToUpperAscii(name);
  if (IsReservedWord(u) || IsNoImplicitAliasWord(u)) return true;
  static const char* kOthers[] = {"NULL",          "TRUE",
                                  "FALSE",         "CASE",
                                  "CAST",          "TRY_CAST",
                                  "INTERVAL",      "DATE",
                                  "TIMESTAMP",     "TIMESTAMP_NTZ",
                                  "TIMESTAMP_LTZ", "EXISTS",
                                  "CURRENT_DATE",  "CURRENT_TIMESTAMP",
                                  "CURRENT_USER",  "CURRENT_TIME",
                                  "SESSION_USER",  "CURRENT_TIMEZONE",
                                  "DIV",           "STREAM",
                                  "VERSION",       "FOR"};
  for (const char* k : kOthers) {
    if (u == k) return true;
  }
  return false;
}

std::string QuoteString(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    switch (c) {
      case '\'':
        out += "\\'";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\0':
        out += "\\u0000";
        break;
      default:
        out += c;
    }
  }
  return out + "'";
}

// Strings from the lexer keep \% and \_ with their backslash, which must print back as-is.
std::string QuoteStringLiteral(const std::string& s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '%' || s[i + 1] == '_')) {
      out += c;
      out += s[++i];
      continue;
    }
    switch (c) {
      case '\'':
        out += "\\'";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\0':
        out += "\\u0000";
        break;
      default:
        out += c;
    }
  }
  return out + "'";
}

std::string Name(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "." : "") + QuoteIdentifier(parts[i]);
  return out;
}

// Function names are only quoted when a bare name would not parse as a call.
std::string FunctionName(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    bool plain = !p.empty() && !(p[0] >= '0' && p[0] <= '9');
    for (char c : p) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
        plain = false;
    }
    std::string u = ToUpperAscii(p);
    bool special = u == "CAST" || u == "TRY_CAST" || u == "CASE" || u == "NOT";
    bool reserved = IsReservedWord(u) && u != "LEFT" && u != "RIGHT";
    if (i == 0 && parts.size() == 1 && (special || reserved)) plain = false;
    if (parts.size() > 1 && IsReservedWord(u)) plain = false;
    out += (i ? "." : "") + (plain ? p : QuoteIdentifier(p));
  }
  return out;
}

std::string IdList(const std::vector<std::string>& ids) {
  std::string out = "(";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + QuoteIdentifier(ids[i]);
  return out + ")";
}

std::string List(const std::vector<AstExprPtr>& es, size_t from = 0) {
  std::string out;
  for (size_t i = from; i < es.size(); ++i) out += (i > from ? ", " : "") + ToString(*es[i]);
  return out;
}

// Function arguments may carry an alias: struct(a AS x).
std::string ArgList(const std::vector<AstExprPtr>& es) {
  std::string out;
  for (size_t i = 0; i < es.size(); ++i) {
    out += (i ? ", " : "") + ToString(*es[i]);
    if (!es[i]->alias.empty()) out += " AS " + QuoteIdentifier(es[i]->alias);
  }
  return out;
}

std::string OrderList(const std::vector<OrderItem>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& o = items[i];
    out += (i ? ", " : "") + ToString(*o.expr) + (o.ascending ? " ASC" : " DESC");
    if (o.nulls_first) out += *o.nulls_first ? " NULLS FIRST" : " NULLS LAST";
  }
  return out;
}

std::string Bound(const FrameBound& b) {
  switch (b.type) {
    case BoundType::kUnboundedPreceding:
      return "UNBOUNDED PRECEDING";
    case BoundType::kUnboundedFollowing:
      return "UNBOUNDED FOLLOWING";
    case BoundType::kCurrentRow:
      return "CURRENT ROW";
    case BoundType::kPreceding:
      return ToString(*b.offset) + " PRECEDING";
    case BoundType::kFollowing:
      return ToString(*b.offset) + " FOLLOWING";
  }
  return "";
}

std::string Literal(const AstExpr& e) {
  switch (e.literal_kind) {
    case LiteralKind::kNull:
      return "NULL";
    case LiteralKind::kBoolean:
      return e.text == "true" ? "TRUE" : "FALSE";
    case LiteralKind::kInteger:
    case LiteralKind::kDecimal:
    case LiteralKind::kDouble:
      return e.text + e.suffix;
    case LiteralKind::kString:
      return QuoteStringLiteral(e.text);
    case LiteralKind::kBinary:
      return "X'" + e.text + "'";
    case LiteralKind::kDate:
      return "DATE " + QuoteString(e.text);
    case LiteralKind::kTimestamp:
      return "TIMESTAMP " + QuoteString(e.text);
    case LiteralKind::kTimestampNtz:
      return "TIMESTAMP_NTZ " + QuoteString(e.text);
  }
  return "";
}

std::string JoinTypeSql(const TableRef& j) {
  std::string nat = j.natural ? "NATURAL " : "";
  switch (j.join_type) {
    case JoinType::kInner:
      return nat + "JOIN";
    case JoinType::kLeft:
      return nat + "LEFT JOIN";
    case JoinType::kRight:
      return nat + "RIGHT JOIN";
    case JoinType::kFull:
      return nat + "FULL JOIN";
    case JoinType::kCross:
      return nat + "CROSS JOIN";
    case JoinType::kLeftSemi:
      return nat + "LEFT SEMI JOIN";
    case JoinType::kLeftAnti:
      return nat + "LEFT ANTI JOIN";
  }
  return "JOIN";
}

std::string Alias(const TableRef& r) {
  if (r.alias.empty()) return "";
  std::string out = " AS " + QuoteIdentifier(r.alias);
  if (!r.column_aliases.empty()) out += IdList(r.column_aliases);
  return out;
}

std::string Properties(const std::vector<std::pair<std::string, std::string>>& props) {
  std::string out = "(";
  for (size_t i = 0; i < props.size(); ++i) {
    out += (i ? ", " : "") + QuoteString(props[i].first) + " = " + QuoteString(props[i].second);
  }
  return out + ")";
}

std::string SelectSql(const Select& s) {
  std::string out = s.distinct ? "SELECT DISTINCT " : "SELECT ";
  for (size_t i = 0; i < s.items.size(); ++i) {
    const auto& it = s.items[i];
    out += (i ? ", " : "") + ToString(*it.expr);
    if (!it.alias.empty()) out += " AS " + QuoteIdentifier(it.alias);
    if (!it.multi_alias.empty()) out += " AS " + IdList(it.multi_alias);
  }
  if (!s.from.empty()) {
    out += " FROM ";
    for (size_t i = 0; i < s.from.size(); ++i) out += (i ? ", " : "") + ToString(*s.from[i]);
  }
  if (s.where) out += " WHERE " + ToString(*s.where);
  switch (s.grouping) {
    case GroupingKind::kNone:
      break;
    case GroupingKind::kPlain:
      out += " GROUP BY " + List(s.group_by);
      break;
    case GroupingKind::kRollup:
      out += " GROUP BY ROLLUP(" + List(s.group_by) + ")";
      break;
    case GroupingKind::kCube:
      out += " GROUP BY CUBE(" + List(s.group_by) + ")";
      break;
    case GroupingKind::kAll:
      out += " GROUP BY ALL";
      break;
    case GroupingKind::kGroupingSets: {
      out += " GROUP BY ";
      if (!s.group_by.empty()) out += List(s.group_by) + " ";
      out += "GROUPING SETS (";
      for (size_t i = 0; i < s.grouping_sets.size(); ++i) {
        out += (i ? ", " : "") + std::string("(") + List(s.grouping_sets[i]) + ")";
      }
      out += ")";
      break;
    }
  }
  if (s.having) out += " HAVING " + ToString(*s.having);
  if (!s.windows.empty()) {
    out += " WINDOW ";
    for (size_t i = 0; i < s.windows.size(); ++i) {
      out += (i ? ", " : "") + QuoteIdentifier(s.windows[i].first) + " AS " +
             ToString(*s.windows[i].second);
    }
  }
  if (s.qualify) out += " QUALIFY " + ToString(*s.qualify);
  return out;
}

// A set operation's operand: bare when it is a plain SELECT/VALUES or already
// parenthesized, else in parentheses so the printed form shows the tree.
std::string SetOperand(const QueryPtr& q) {
  if (!q) return "?";
  bool organized = !q->with.empty() || !q->order_by.empty() || q->limit || q->offset;
  if (!organized && (q->select || q->values || q->nested)) return ToString(*q);
  return "(" + ToString(*q) + ")";
}

}  // namespace

std::string QuoteIdentifier(const std::string& name) {
  if (!NeedsQuotes(name)) return name;
  std::string out = "`";
  for (char c : name) {
    out += c;
    if (c == '`') out += '`';
  }
  return out + "`";
}

std::string ToString(const WindowSpec& w) {
  std::string out = "(";
  auto sep = [&] {
    if (out.size() > 1) out += " ";
  };
  if (!w.base_name.empty()) out += QuoteIdentifier(w.base_name);
  if (!w.partition_by.empty()) {
    sep();
    out += "PARTITION BY " + List(w.partition_by);
  }
  if (!w.order_by.empty()) {
    sep();
    out += "ORDER BY " + OrderList(w.order_by);
  }
  if (w.frame) {
    sep();
    out += std::string(w.frame->type == FrameType::kRows ? "ROWS" : "RANGE") + " BETWEEN " +
           Bound(w.frame->start) + " AND " + Bound(w.frame->end);
  }
  return out + ")";
}

std::string ToString(const AstExpr& e) {
  const std::string neg = e.negated ? "NOT " : "";
  auto arg = [&](size_t i) {
    return i < e.args.size() && e.args[i] ? ToString(*e.args[i]) : std::string("?");
  };
  switch (e.type) {
    case ExprType::kLiteral:
      return Literal(e);
    case ExprType::kColumn:
      return Name(e.name_parts);
    case ExprType::kStar:
      return e.name_parts.empty() ? "*" : Name(e.name_parts) + ".*";
    case ExprType::kUnary: {
      // The parser folds "- <number>" into one negative literal (Spark's
      // `number` rule), which changes the type (-(2147483648) is a BIGINT,
      // -2147483648 an INT): keep a negated number literal parenthesized.
      const AstExpr* a = e.args.empty() ? nullptr : e.args[0].get();
      bool number = a != nullptr && a->type == ExprType::kLiteral &&
                    (a->literal_kind == LiteralKind::kInteger ||
                     a->literal_kind == LiteralKind::kDecimal ||
                     a->literal_kind == LiteralKind::kDouble);
      if (e.op == "-" && number) return "(- (" + arg(0) + "))";
      return "(" + e.op + " " + arg(0) + ")";
    }
    case ExprType::kBinary:
      return "(" + arg(0) + " " + e.op + " " + arg(1) + ")";
    case ExprType::kFunction: {
      std::vector<std::string> parts;
      std::string name;
      size_t start = 0;
      for (size_t i = 0; i <= e.name.size(); ++i) {
        if (i == e.name.size() || e.name[i] == '.') {
          parts.push_back(e.name.substr(start, i - start));
          start = i + 1;
        }
      }
      std::string out =
          FunctionName(parts) + "(" + (e.distinct ? "DISTINCT " : "") + ArgList(e.args) + ")";
      if (e.filter) out += " FILTER (WHERE " + ToString(*e.filter) + ")";
      if (e.ignore_nulls) out += " IGNORE NULLS";
      if (e.over) out += " OVER " + ToString(*e.over);
      if (!e.window_name.empty()) out += " OVER " + QuoteIdentifier(e.window_name);
      return out;
    }
    case ExprType::kCase: {
      std::string out = "CASE";
      if (e.operand) out += " " + ToString(*e.operand);
      for (const auto& [c, r] : e.whens) out += " WHEN " + ToString(*c) + " THEN " + ToString(*r);
      if (e.else_expr) out += " ELSE " + ToString(*e.else_expr);
      return out + " END";
    }
    case ExprType::kCast:
      return std::string(e.try_cast ? "TRY_CAST(" : "CAST(") + arg(0) + " AS " + e.text + ")";
    case ExprType::kIsNull:
      return "(" + arg(0) + " IS " + neg + "NULL)";
    case ExprType::kIsBool:
      return "(" + arg(0) + " IS " + neg + e.op + ")";
    case ExprType::kIsDistinctFrom:
      return "(" + arg(0) + " IS " + neg + "DISTINCT FROM " + arg(1) + ")";
    case ExprType::kBetween:
      return "(" + arg(0) + " " + neg + "BETWEEN " + arg(1) + " AND " + arg(2) + ")";
    case ExprType::kInList:
      return "(" + arg(0) + " " + neg + "IN (" + List(e.args, 1) + "))";
    case ExprType::kInSubquery:
      return "(" + arg(0) + " " + neg + "IN (" + (e.subquery ? ToString(*e.subquery) : "?") + "))";
    case ExprType::kExists:
      return "(" + neg + "EXISTS (" + (e.subquery ? ToString(*e.subquery) : "?") + "))";
    case ExprType::kScalarSubquery:
      return "(" + (e.subquery ? ToString(*e.subquery) : "?") + ")";
    case ExprType::kLike: {
      if (!e.quantifier.empty()) {
        return "(" + arg(0) + " " + neg + e.op + " " + e.quantifier + " (" + List(e.args, 1) + "))";
      }
      std::string out = "(" + arg(0) + " " + neg + e.op + " " + arg(1);
      if (e.args.size() > 2) out += " ESCAPE " + arg(2);
      return out + ")";
    }
    case ExprType::kSubscript:
      return arg(0) + "[" + arg(1) + "]";
    case ExprType::kField:
      return "(" + arg(0) + ")." + QuoteIdentifier(e.name);
    case ExprType::kInterval:
      return "INTERVAL " + e.text;
    case ExprType::kLambda: {
      std::string out = "(";
      for (size_t i = 0; i < e.lambda_params.size(); ++i)
        out += (i ? ", " : "") + QuoteIdentifier(e.lambda_params[i]);
      return out + ") -> " + arg(0);
    }
    case ExprType::kNamedArgument:
      return QuoteIdentifier(e.name) + " => " + arg(0);
    case ExprType::kParameter:
      return e.name.empty() ? "?" : ":" + e.name;
  }
  return "?";
}

static std::string ToStringNoLateral(const TableRef& r);

std::string ToString(const TableRef& r) {
  if (r.lateral) return "LATERAL " + ToStringNoLateral(r);
  return ToStringNoLateral(r);
}

static std::string ToStringNoLateral(const TableRef& r) {
  switch (r.type) {
    case TableRefType::kTable: {
      std::string out = (r.stream ? "STREAM " : "") + Name(r.name_parts);
      if (r.version_as_of) out += " VERSION AS OF " + std::to_string(*r.version_as_of);
      if (r.timestamp_as_of) out += " TIMESTAMP AS OF " + QuoteString(*r.timestamp_as_of);
      out += Alias(r);
      if (r.watermark_column) {
        out += " WATERMARK " + ToString(*r.watermark_column) + " DELAY OF " +
               (r.watermark_delay ? ToString(*r.watermark_delay) : "?");
      }
      return out;
    }
    case TableRefType::kTableFunction: {
      std::string out =
          (r.stream ? "STREAM " : "") + Name(r.name_parts) + "(" + ArgList(r.args) + ")" + Alias(r);
      if (r.watermark_column) {
        out += " WATERMARK " + ToString(*r.watermark_column) + " DELAY OF " +
               (r.watermark_delay ? ToString(*r.watermark_delay) : "?");
      }
      return out;
    }
    case TableRefType::kSubquery: {
      std::string out = "(" + (r.subquery ? ToString(*r.subquery) : "?") + ")" + Alias(r);
      if (r.watermark_column) {
        out += " WATERMARK " + ToString(*r.watermark_column) + " DELAY OF " +
               (r.watermark_delay ? ToString(*r.watermark_delay) : "?");
      }
      return out;
    }
    case TableRefType::kJoin: {
      std::string out = "(" + (r.left ? ToString(*r.left) : "?") + " " + JoinTypeSql(r) + " " +
                        (r.right ? ToString(*r.right) : "?");
      if (r.condition) out += " ON " + ToString(*r.condition);
      if (!r.using_columns.empty()) out += " USING " + IdList(r.using_columns);
      return out + ")" + Alias(r);
    }
    case TableRefType::kValues: {
      std::string out = "VALUES ";
      for (size_t i = 0; i < r.values_rows.size(); ++i)
        out += (i ? ", " : "") + std::string("(") + List(r.values_rows[i]) + ")";
      return out + Alias(r);
    }
    case TableRefType::kLateralView: {
      std::string out = (r.left ? ToString(*r.left) : "?") + " LATERAL VIEW " +
                        (r.outer ? "OUTER " : "") + (r.generator ? ToString(*r.generator) : "?");
      if (!r.alias.empty()) out += " " + QuoteIdentifier(r.alias);
      if (!r.column_aliases.empty()) {
        out += " AS ";
        for (size_t i = 0; i < r.column_aliases.size(); ++i)
          out += (i ? ", " : "") + QuoteIdentifier(r.column_aliases[i]);
      }
      return out;
    }
  }
  return "?";
}

std::string ToString(const Query& q) {
  std::string out;
  if (!q.with.empty()) {
    out += "WITH ";
    for (size_t i = 0; i < q.with.size(); ++i) {
      const auto& c = q.with[i];
      out += (i ? ", " : "") + QuoteIdentifier(c.name);
      if (!c.column_aliases.empty()) out += IdList(c.column_aliases);
      out += " AS (" + (c.query ? ToString(*c.query) : "?") + ")";
    }
    out += " ";
  }
  if (q.select) {
    out += SelectSql(*q.select);
  } else if (q.values) {
    out += ToString(*q.values);
  } else if (q.set_op) {
    const char* op = q.set_op->type == SetOpType::kUnion       ? "UNION"
                     : q.set_op->type == SetOpType::kIntersect ? "INTERSECT"
                                                               : "EXCEPT";
    out += SetOperand(q.set_op->left) + " " + op + (q.set_op->all ? " ALL" : "") + " " +
           SetOperand(q.set_op->right);
  } else if (q.nested) {
    out += "(" + ToString(*q.nested) + ")";
  }
  if (!q.order_by.empty()) out += " ORDER BY " + OrderList(q.order_by);
  if (q.limit) out += " LIMIT " + ToString(*q.limit);
  if (q.offset) out += " OFFSET " + ToString(*q.offset);
  return out;
}

std::string ToString(const Statement& s) {
  auto query = [&] { return s.query ? ToString(*s.query) : std::string("?"); };
  auto clauses = [&] {
    std::string out;
    if (!s.using_format.empty()) out += " USING " + QuoteIdentifier(s.using_format);
    if (!s.partition_by.empty()) out += " PARTITIONED BY " + IdList(s.partition_by);
    if (!s.location.empty()) out += " LOCATION " + QuoteString(s.location);
    if (!s.comment.empty()) out += " COMMENT " + QuoteString(s.comment);
    if (!s.properties.empty()) out += " TBLPROPERTIES " + Properties(s.properties);
    return out;
  };
  switch (s.type) {
    case StatementType::kQuery:
      return query();
    case StatementType::kExplain:
      return "EXPLAIN " + (s.explain_mode.empty() ? "" : s.explain_mode + " ") +
             (s.inner ? ToString(*s.inner) : "?");
    case StatementType::kSet:
      if (s.key.empty()) return "SET";
      return "SET " + s.key + (s.has_value ? " = " + s.value : "");
    case StatementType::kReset:
      return s.key.empty() ? "RESET" : "RESET " + s.key;
    case StatementType::kCreateView: {
      std::string out = std::string("CREATE ") + (s.or_replace ? "OR REPLACE " : "") +
                        "TEMPORARY VIEW " + (s.if_not_exists ? "IF NOT EXISTS " : "") +
                        Name(s.name_parts);
      if (!s.columns.empty()) out += IdList(s.columns);
      return out + clauses() + " AS " + query();
    }
    case StatementType::kDropView:
      return std::string("DROP VIEW ") + (s.if_exists ? "IF EXISTS " : "") + Name(s.name_parts);
    case StatementType::kCreateTableAs:
    case StatementType::kCreateStreamingTable: {
      bool streaming = s.type == StatementType::kCreateStreamingTable;
      std::string out = std::string("CREATE ") +
                        (s.or_replace ? (streaming ? "OR REFRESH " : "OR REPLACE ") : "") +
                        (streaming ? "STREAMING TABLE " : "TABLE ") +
                        (s.if_not_exists ? "IF NOT EXISTS " : "") + Name(s.name_parts);
      return out + clauses() + " AS " + query();
    }
    case StatementType::kInsert: {
      std::string out = std::string("INSERT ") + (s.overwrite ? "OVERWRITE TABLE " : "INTO ") +
                        Name(s.name_parts);
      if (!s.columns.empty()) out += " " + IdList(s.columns);
      return out + " " + query();
    }
    case StatementType::kDescribeHistory:
      return "DESCRIBE HISTORY " +
             (s.describe_target ? ToString(*s.describe_target) : Name(s.name_parts));
    case StatementType::kDescribeDetail:
      return "DESCRIBE DETAIL " +
             (s.describe_target ? ToString(*s.describe_target) : Name(s.name_parts));
    case StatementType::kDescribe:
      if (s.query) return "DESCRIBE QUERY " + query();
      return "DESCRIBE TABLE " + (s.explain_mode.empty() ? "" : s.explain_mode + " ") +
             (s.describe_target ? ToString(*s.describe_target) : Name(s.name_parts));
    case StatementType::kShowTables: {
      std::string out = "SHOW " + (s.key.empty() ? std::string("TABLES") : s.key);
      if (!s.name_parts.empty()) out += " IN " + Name(s.name_parts);
      if (s.has_value) out += " LIKE " + QuoteString(s.value);
      return out;
    }
    case StatementType::kShowFunctions:
      return std::string("SHOW FUNCTIONS") + (s.has_value ? " LIKE " + QuoteString(s.value) : "");
  }
  return "?";
}

}  // namespace lakestream::sql
