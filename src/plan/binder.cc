// Binding: AST -> logical plan. Spark's analyzer rules that matter for results
// are reproduced here: name resolution (case-insensitive, qualified, struct
// fields), implicit casts through the function registry, GROUP BY / HAVING /
// ORDER BY resolution against aggregates and aliases, window functions, set
// operations with type widening, and subqueries rewritten into joins.
#include "plan/binder.h"

#include <arrow/array/concatenate.h>

#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/util/decimal.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <sstream>

#include "expr/cast.h"
#include "expr/evaluator.h"
#include "sql/parser.h"
#include "types/types.h"

namespace lakestream::plan {

using expr::ExprKind;
using expr::ExprPtr;
using sql::AstExpr;
using sql::AstExprPtr;
using sql::ExprType;
using types::TypePtr;

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Where(const sql::Location& loc) { return fmt::format("line {}:{}", loc.line, loc.column); }

Status AtLoc(const Status& st, const sql::Location& loc) {
  if (st.ok()) return st;
  if (st.message().find("line ") != std::string::npos) return st;
  return st.WithMessage(st.message() + " (" + Where(loc) + ")");
}

struct ScopeColumn {
  std::string qualifier;  // lower case table alias, may be empty
  std::string name;       // as written
  TypePtr type;
  bool nullable = true;
};

struct Scope {
  std::vector<ScopeColumn> cols;

  std::shared_ptr<arrow::Schema> ToSchema() const {
    arrow::FieldVector f;
    for (const auto& c : cols) f.push_back(arrow::field(c.name, c.type, c.nullable));
    return arrow::schema(std::move(f));
  }
  static Scope FromSchema(const arrow::Schema& s, const std::string& qualifier) {
    Scope sc;
    for (const auto& f : s.fields()) sc.cols.push_back({qualifier, f->name(), f->type(), f->nullable()});
    return sc;
  }
  // -1: not found; -2: ambiguous.
  int Find(const std::string& qualifier, const std::string& name) const {
    int found = -1;
    auto lq = Lower(qualifier), ln = Lower(name);
    for (size_t i = 0; i < cols.size(); ++i) {
      if (Lower(cols[i].name) != ln) continue;
      if (!lq.empty() && cols[i].qualifier != lq) continue;
      if (found >= 0) return -2;
      found = static_cast<int>(i);
    }
    return found;
  }
};

ExprPtr ColumnOf(const Scope& s, int i) {
  return expr::MakeColumn(i, s.cols[i].name, s.cols[i].type, s.cols[i].nullable);
}

LogicalPtr MakeNode(plan::LogicalKind kind, std::vector<LogicalPtr> children, std::shared_ptr<arrow::Schema> schema) {
  auto n = std::make_shared<LogicalNode>();
  n->kind = kind;
  n->children = std::move(children);
  n->schema = std::move(schema);
  return n;
}

LogicalPtr MakeProject(LogicalPtr child, std::vector<ExprPtr> exprs, std::vector<std::string> names) {
  arrow::FieldVector f;
  for (size_t i = 0; i < exprs.size(); ++i) f.push_back(arrow::field(names[i], exprs[i]->type, exprs[i]->nullable));
  auto n = MakeNode(LogicalKind::kProject, {std::move(child)}, arrow::schema(std::move(f)));
  n->exprs = std::move(exprs);
  return n;
}

LogicalPtr MakeFilter(LogicalPtr child, ExprPtr pred) {
  auto schema = child->schema;
  auto n = MakeNode(LogicalKind::kFilter, {std::move(child)}, std::move(schema));
  n->predicate = std::move(pred);
  return n;
}

bool IsAggregateName(const std::string& name) {
  return expr::FunctionRegistry::Default().FindAggregate(name) != nullptr;
}

bool IsRankingWindowFunction(const std::string& n) {
  static const std::set<std::string> k = {"row_number", "rank",  "dense_rank", "percent_rank", "cume_dist",
                                          "ntile",      "lag",   "lead",       "nth_value",    "first_value",
                                          "last_value"};
  return k.count(n) > 0;
}

bool ContainsAggregate(const AstExpr& e) {
  if (e.type == ExprType::kFunction && !e.over && e.window_name.empty() && IsAggregateName(Lower(e.name))) return true;
  // An aggregate inside a lambda body does not make the query aggregate; binding
  // it then fails with MISSING_GROUP_BY, as in Spark.
  if (e.type == ExprType::kLambda) return false;
  if (e.type == ExprType::kScalarSubquery || e.type == ExprType::kExists || e.type == ExprType::kInSubquery) {
    if (!e.args.empty() && ContainsAggregate(*e.args[0])) return true;
    return false;
  }
  for (const auto& a : e.args)
    if (a && ContainsAggregate(*a)) return true;
  if (e.operand && ContainsAggregate(*e.operand)) return true;
  for (const auto& [w, t] : e.whens) {
    if (ContainsAggregate(*w) || ContainsAggregate(*t)) return true;
  }
  if (e.else_expr && ContainsAggregate(*e.else_expr)) return true;
  return false;
}

bool IsWindowCall(const AstExpr& e) {
  return e.type == ExprType::kFunction && (e.over || !e.window_name.empty());
}

// ------------------------------------------------------------ literal parsing

Result<std::shared_ptr<arrow::Scalar>> IntervalLiteral(const std::string& body_in, const sql::Location& loc) {
  // Forms: "10 SECONDS", "'10' SECOND", "1 DAY 2 HOURS", "'1-2' YEAR TO MONTH",
  // "'1 02:03:04' DAY TO SECOND", "'10:20' MINUTE TO SECOND".
  std::string body = body_in;
  std::vector<std::string> tok;
  {
    size_t i = 0;
    while (i < body.size()) {
      if (isspace(static_cast<unsigned char>(body[i]))) {
        ++i;
        continue;
      }
      if (body[i] == '\'' || body[i] == '"') {
        char q = body[i];
        size_t j = body.find(q, i + 1);
        if (j == std::string::npos) j = body.size();
        tok.push_back(body.substr(i + 1, j - i - 1));
        i = j + 1;
        continue;
      }
      size_t j = i;
      while (j < body.size() && !isspace(static_cast<unsigned char>(body[j]))) ++j;
      tok.push_back(body.substr(i, j - i));
      i = j;
    }
  }
  auto bad = [&]() { return UserError("[INVALID_INTERVAL_FORMAT] cannot parse interval literal '{}' at {}", body_in, Where(loc)); };
  auto unit_of = [](std::string u) {
    u = Lower(u);
    if (!u.empty() && u.back() == 's' && u != "s") u.pop_back();
    return u;
  };
  // TO forms.
  if (tok.size() == 4 && Lower(tok[2]) == "to") {
    std::string from = unit_of(tok[1]), to = unit_of(tok[3]), v = tok[0];
    bool neg = !v.empty() && v[0] == '-';
    if (neg || (!v.empty() && v[0] == '+')) v = v.substr(1);
    if (from == "year" && to == "month") {
      auto dash = v.find('-');
      if (dash == std::string::npos) return bad();
      int y = std::atoi(v.substr(0, dash).c_str()), m = std::atoi(v.substr(dash + 1).c_str());
      int total = y * 12 + m;
      return std::make_shared<arrow::MonthIntervalScalar>(neg ? -total : total);
    }
    // Day-time: [d ][h:]m:s[.f] in the shape the units say.
    int64_t days = 0, h = 0, m = 0;
    double s = 0;
    std::string rest = v;
    if (from == "day") {
      auto sp = rest.find(' ');
      days = std::atoll(rest.substr(0, sp).c_str());
      rest = sp == std::string::npos ? "" : rest.substr(sp + 1);
    }
    std::vector<std::string> parts;
    size_t p = 0;
    while (!rest.empty() && p <= rest.size()) {
      size_t c = rest.find(':', p);
      parts.push_back(rest.substr(p, c == std::string::npos ? std::string::npos : c - p));
      if (c == std::string::npos) break;
      p = c + 1;
    }
    std::vector<std::string> units;
    static const std::vector<std::string> order = {"day", "hour", "minute", "second"};
    auto fi = std::find(order.begin(), order.end(), from), ti = std::find(order.begin(), order.end(), to);
    if (fi == order.end() || ti == order.end() || ti < fi) return bad();
    for (auto it = (from == "day" ? fi + 1 : fi); it <= ti; ++it) units.push_back(*it);
    if (parts.size() != units.size()) return bad();
    for (size_t i = 0; i < units.size(); ++i) {
      if (units[i] == "hour") h = std::atoll(parts[i].c_str());
      if (units[i] == "minute") m = std::atoll(parts[i].c_str());
      if (units[i] == "second") s = std::atof(parts[i].c_str());
    }
    int64_t us = ((days * 24 + h) * 60 + m) * 60 * 1000000 + static_cast<int64_t>(s * 1e6 + (s >= 0 ? 0.5 : -0.5));
    return std::make_shared<arrow::DurationScalar>(
        neg ? -us : us,
        types::DayTimeInterval(static_cast<types::DayTimeField>(fi - order.begin()),
                               static_cast<types::DayTimeField>(ti - order.begin())));
  }
  if (tok.size() < 2 || tok.size() % 2 != 0) return bad();
  int64_t months = 0, micros = 0;
  bool has_months = false, has_micros = false;
  // The day-time fields the units span (Spark's DAY = 0 .. SECOND = 3).
  int first_field = 3, last_field = 0;
  for (size_t i = 0; i < tok.size(); i += 2) {
    char* end = nullptr;
    double v = std::strtod(tok[i].c_str(), &end);
    if (end == tok[i].c_str()) return bad();
    std::string u = unit_of(tok[i + 1]);
    const int field = u == "week" || u == "day" ? 0 : u == "hour" ? 1 : u == "minute" ? 2 : 3;
    first_field = std::min(first_field, field), last_field = std::max(last_field, field);
    if (u == "year") months += static_cast<int64_t>(v * 12), has_months = true;
    else if (u == "month") months += static_cast<int64_t>(v), has_months = true;
    else if (u == "week") micros += static_cast<int64_t>(v * 7 * 86400e6), has_micros = true;
    else if (u == "day") micros += static_cast<int64_t>(v * 86400e6), has_micros = true;
    else if (u == "hour") micros += static_cast<int64_t>(v * 3600e6), has_micros = true;
    else if (u == "minute") micros += static_cast<int64_t>(v * 60e6), has_micros = true;
    else if (u == "second") micros += static_cast<int64_t>(v * 1e6 + (v >= 0 ? 0.5 : -0.5)), has_micros = true;
    else if (u == "millisecond") micros += static_cast<int64_t>(v * 1e3), has_micros = true;
    else if (u == "microsecond") micros += static_cast<int64_t>(v), has_micros = true;
    else return bad();
  }
  if (has_months && has_micros) {
    arrow::MonthDayNanoIntervalType::MonthDayNanos mdn{static_cast<int32_t>(months),
                                                       static_cast<int32_t>(micros / 86400000000LL),
                                                       (micros % 86400000000LL) * 1000};
    return std::make_shared<arrow::MonthDayNanoIntervalScalar>(mdn);
  }
  if (has_months) return std::make_shared<arrow::MonthIntervalScalar>(static_cast<int32_t>(months));
  return std::make_shared<arrow::DurationScalar>(
      micros, types::DayTimeInterval(static_cast<types::DayTimeField>(first_field),
                                     static_cast<types::DayTimeField>(last_field)));
}

// The parts of an IN's left side: (a, b) is a row constructor of two, anything
// else is one.
std::vector<AstExprPtr> RowParts(const AstExprPtr& lhs) {
  // The parser spells a row constructor's text named_struct(...); an explicit
  // struct(a, b) call stays one value.
  if (lhs->type == ExprType::kFunction && Lower(lhs->name) == "struct" && lhs->args.size() > 1 &&
      lhs->sql_text.rfind("named_struct(", 0) == 0) {
    bool aliased = false;
    for (const auto& a : lhs->args) aliased = aliased || !a->alias.empty();
    if (!aliased) return lhs->args;
  }
  return {lhs};
}

// Rewrites `x [NOT] IN (SELECT agg(...) ...)` (one aggregate item, no GROUP
// BY, HAVING or LIMIT: exactly one row) into `[NOT] (x = (SELECT ...))`,
// through AND, OR and NOT; other expressions are returned as they are.
AstExprPtr InToScalarComparison(const AstExprPtr& e) {
  if (!e) return e;
  if (e->type == ExprType::kInSubquery && e->subquery && e->args.size() == 1 && RowParts(e->args[0]).size() == 1) {
    const auto& q = *e->subquery;
    const auto* sel = q.select.get();
    bool one_row = sel && q.with.empty() && !q.limit && !q.offset && sel->items.size() == 1 &&
                   sel->grouping == sql::GroupingKind::kNone && sel->group_by.empty() && !sel->having &&
                   sel->items[0].expr && sel->items[0].expr->type != ExprType::kStar &&
                   ContainsAggregate(*sel->items[0].expr);
    if (one_row) {
      auto sub = std::make_shared<AstExpr>();
      sub->type = ExprType::kScalarSubquery;
      sub->loc = e->loc;
      sub->subquery = e->subquery;
      sub->sql_text = "scalarsubquery()";
      auto eq = std::make_shared<AstExpr>();
      eq->type = ExprType::kBinary;
      eq->op = "=";
      eq->loc = e->loc;
      eq->args = {e->args[0], sub};
      eq->sql_text = e->sql_text;
      if (!e->negated) return eq;
      auto n = std::make_shared<AstExpr>();
      n->type = ExprType::kUnary;
      n->op = "NOT";
      n->loc = e->loc;
      n->args = {eq};
      n->sql_text = e->sql_text;
      return n;
    }
    return e;
  }
  bool logical = (e->type == ExprType::kBinary && (Lower(e->op) == "and" || Lower(e->op) == "or")) ||
                 (e->type == ExprType::kUnary && Lower(e->op) == "not");
  if (!logical) return e;
  auto copy = std::make_shared<AstExpr>(*e);
  for (auto& a : copy->args) a = InToScalarComparison(a);
  return copy;
}

// The day count of an interval literal written in days only ("3 DAYS",
// "'3' DAY", "-1 day"): Spark types it INTERVAL DAY, which keeps a DATE a DATE.
std::optional<int32_t> WholeDaysInterval(const std::string& body) {
  std::string b;
  for (char c : body) {
    if (c != '\'' && c != '"') b += c;
  }
  std::istringstream in(b);
  std::string num, unit, extra;
  if (!(in >> num >> unit) || (in >> extra)) return std::nullopt;
  unit = Lower(unit);
  if (unit != "day" && unit != "days") return std::nullopt;
  int32_t v = 0;
  const char* begin = num.data() + (num[0] == '+' ? 1 : 0);
  auto [ptr, ec] = std::from_chars(begin, num.data() + num.size(), v);
  if (ec != std::errc() || ptr != num.data() + num.size()) return std::nullopt;
  return v;
}

Result<std::shared_ptr<arrow::Scalar>> DecimalLiteral(const std::string& text, const sql::Location& loc) {
  int32_t precision = 0, scale = 0;
  arrow::Decimal128 v;
  auto st = arrow::Decimal128::FromString(text, &v, &precision, &scale);
  if (!st.ok() || precision > 38) {
    return UserError("[INVALID_NUMERIC_LITERAL] decimal literal {} exceeds DECIMAL(38) at {}", text, Where(loc));
  }
  if (scale < 0) {  // 1E+3 style: Spark keeps it as a decimal with scale 0
    ARROW_ASSIGN_OR_RAISE(v, v.Rescale(scale, 0));
    precision -= scale;
    scale = 0;
  }
  precision = std::max(precision, scale);
  if (precision == 0) precision = 1;
  return std::make_shared<arrow::Decimal128Scalar>(v, arrow::decimal128(precision, scale));
}

Result<std::shared_ptr<arrow::Scalar>> BindLiteral(const AstExpr& e, const expr::EvalContext& ctx) {
  using sql::LiteralKind;
  switch (e.literal_kind) {
    case LiteralKind::kNull:
      return std::make_shared<arrow::NullScalar>();
    case LiteralKind::kBoolean:
      return std::make_shared<arrow::BooleanScalar>(Lower(e.text) == "true");
    case LiteralKind::kInteger: {
      std::string digits = e.text;
      if (e.suffix == "BD") return DecimalLiteral(digits, e.loc);
      if (e.suffix == "D") return std::make_shared<arrow::DoubleScalar>(std::strtod(digits.c_str(), nullptr));
      if (e.suffix == "F") return std::make_shared<arrow::FloatScalar>(std::strtof(digits.c_str(), nullptr));
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      bool fits64 = ec == std::errc() && ptr == digits.data() + digits.size();
      if (e.suffix == "L") {
        if (!fits64) return UserError("[INVALID_NUMERIC_LITERAL] {}L is out of BIGINT range at {}", digits, Where(e.loc));
        return std::make_shared<arrow::Int64Scalar>(v);
      }
      if (e.suffix == "S") {
        if (!fits64 || v < INT16_MIN || v > INT16_MAX)
          return UserError("[INVALID_NUMERIC_LITERAL] {}S is out of SMALLINT range at {}", digits, Where(e.loc));
        return std::make_shared<arrow::Int16Scalar>(static_cast<int16_t>(v));
      }
      if (e.suffix == "Y") {
        if (!fits64 || v < INT8_MIN || v > INT8_MAX)
          return UserError("[INVALID_NUMERIC_LITERAL] {}Y is out of TINYINT range at {}", digits, Where(e.loc));
        return std::make_shared<arrow::Int8Scalar>(static_cast<int8_t>(v));
      }
      if (fits64 && v >= INT32_MIN && v <= INT32_MAX) return std::make_shared<arrow::Int32Scalar>(static_cast<int32_t>(v));
      if (fits64) return std::make_shared<arrow::Int64Scalar>(v);
      return DecimalLiteral(digits, e.loc);
    }
    case LiteralKind::kDecimal:
      if (e.suffix == "D") return std::make_shared<arrow::DoubleScalar>(std::strtod(e.text.c_str(), nullptr));
      if (e.suffix == "F") return std::make_shared<arrow::FloatScalar>(std::strtof(e.text.c_str(), nullptr));
      return DecimalLiteral(e.text, e.loc);
    case LiteralKind::kDouble:
      if (e.suffix == "F") return std::make_shared<arrow::FloatScalar>(std::strtof(e.text.c_str(), nullptr));
      if (e.suffix == "BD") return DecimalLiteral(e.text, e.loc);
      return std::make_shared<arrow::DoubleScalar>(std::strtod(e.text.c_str(), nullptr));
    case LiteralKind::kString:
      return std::make_shared<arrow::StringScalar>(e.text);
    case LiteralKind::kBinary: {
      std::string bytes;
      if (e.text.size() % 2 != 0) return UserError("binary literal X'{}' has an odd number of hex digits at {}", e.text, Where(e.loc));
      for (size_t i = 0; i + 1 < e.text.size(); i += 2) {
        bytes.push_back(static_cast<char>(std::stoi(e.text.substr(i, 2), nullptr, 16)));
      }
      return std::make_shared<arrow::BinaryScalar>(bytes);
    }
    case LiteralKind::kDate:
    case LiteralKind::kTimestamp:
    case LiteralKind::kTimestampNtz: {
      TypePtr to = e.literal_kind == LiteralKind::kDate ? arrow::date32()
                   : e.literal_kind == LiteralKind::kTimestamp ? types::Timestamp()
                                                                : types::TimestampNtz();
      auto s = std::make_shared<arrow::StringScalar>(e.text);
      auto r = expr::Cast(arrow::Datum(s), to, expr::CastMode::kTry, ctx);
      if (!r.ok() || !r->scalar()->is_valid) {
        return UserError("[INVALID_TYPED_LITERAL] The value of the typed literal \"{}\" is invalid: '{}' at {}",
                         types::ToDDL(*to), e.text, Where(e.loc));
      }
      return r->scalar();
    }
  }
  return InternalError("unknown literal kind");
}

}  // namespace

namespace {

using Hook = std::function<Result<std::optional<ExprPtr>>(const AstExpr&)>;

struct CteDef {
  const sql::CommonTableExpr* cte;
};

class Binder {
 public:
  explicit Binder(Session* session) : session_(session), ctx_(session->MakeEvalContext()) {}

  Result<std::pair<LogicalPtr, Scope>> BindQuery(const sql::Query& q);

  // ------------------------------------------------------------ expressions
  Result<ExprPtr> Bind(const AstExpr& e, const Scope& scope, const Hook* hook = nullptr) {
    // A lambda parameter shadows select aliases and grouping expressions alike.
    bool lambda_param = e.type == ExprType::kColumn && !e.name_parts.empty() && IsLambdaVariable(e.name_parts[0]);
    if (hook && !lambda_param) {
      ARROW_ASSIGN_OR_RAISE(auto h, (*hook)(e));
      if (h) return *h;
    }
    auto r = BindInner(e, scope, hook);
    if (!r.ok()) return AtLoc(r.status(), e.loc);
    return r;
  }

  Result<ExprPtr> Call(const std::string& name, std::vector<ExprPtr> args, const sql::Location& loc) {
    const auto* fn = expr::FunctionRegistry::Default().FindScalar(name);
    if (!fn) {
      if (IsAggregateName(name)) {
        return UserError("[UNSUPPORTED_EXPR_FOR_OPERATOR] aggregate function {}() is not allowed here at {}", name, Where(loc));
      }
      return UserError("[UNRESOLVED_ROUTINE] Cannot resolve routine `{}` at {}", name, Where(loc));
    }
    expr::CallSite site;
    site.config = &session_->config();
    for (const auto& a : args) {
      site.arg_types.push_back(a->type);
      site.literal_args.push_back(a->kind == ExprKind::kLiteral ? a->value : nullptr);
    }
    auto resolved = fn->resolve(site);
    if (!resolved.ok()) return AtLoc(resolved.status(), loc);
    auto rc = std::make_shared<expr::ResolvedCall>(std::move(*resolved));
    for (size_t i = 0; i < args.size() && i < rc->arg_types.size(); ++i) {
      if (rc->arg_types[i] && !rc->arg_types[i]->Equals(*args[i]->type)) {
        args[i] = ImplicitCast(args[i], rc->arg_types[i]);
      }
    }
    auto e = expr::MakeCall(name, rc, std::move(args));
    return FoldIfConstant(e);
  }

  ExprPtr ImplicitCast(const ExprPtr& e, const TypePtr& to) {
    if (e->type->Equals(*to)) return e;
    if (e->kind == ExprKind::kLiteral && !e->value->is_valid) return expr::MakeLiteral(arrow::MakeNullScalar(to));
    auto c = expr::MakeCast(e, to, expr::CastMode::kAnsi);
    auto folded = FoldIfConstant(c);
    return folded.ok() ? *folded : c;
  }

  // Constant subtrees are evaluated once here; a constant that fails (1/0 in a
  // branch that may never run) stays unevaluated so the error surfaces only if
  // the row reaches it, as in Spark.
  Result<ExprPtr> FoldIfConstant(const ExprPtr& e) {
    if (e->kind == ExprKind::kLiteral || !expr::IsConstant(*e)) return e;
    if (e->kind == ExprKind::kCall && !e->call->deterministic) return e;
    auto v = expr::EvaluateConstant(*e, ctx_);
    if (!v.ok()) return e;
    auto s = *v;
    if (!s->type->Equals(*e->type)) return e;
    return expr::MakeLiteral(s);
  }

  Result<TypePtr> Common(const std::vector<ExprPtr>& es, const sql::Location& loc) {
    std::vector<TypePtr> ts;
    for (const auto& e : es) ts.push_back(e->type);
    auto r = expr::CommonType(ts, session_->config().ansi);
    if (!r.ok()) return AtLoc(r.status(), loc);
    return r;
  }

  Result<ExprPtr> Boolean(ExprPtr e, const sql::Location& loc, const char* what) {
    if (e->type->id() == arrow::Type::NA) return expr::MakeLiteral(arrow::MakeNullScalar(arrow::boolean()));
    if (e->type->id() != arrow::Type::BOOL) {
      return UserError("[DATATYPE_MISMATCH] {} must be BOOLEAN but is {} at {}", what, types::ToDDL(*e->type), Where(loc));
    }
    return e;
  }

  Result<ExprPtr> BindInner(const AstExpr& e, const Scope& scope, const Hook* hook);
  Result<ExprPtr> BindColumn(const AstExpr& e, const Scope& scope);
  Result<ExprPtr> BindFunction(const AstExpr& e, const Scope& scope, const Hook* hook);
  Result<std::vector<ExprPtr>> BindArgs(const std::vector<AstExprPtr>& args, const Scope& scope, const Hook* hook) {
    std::vector<ExprPtr> out;
    for (const auto& a : args) {
      ARROW_ASSIGN_OR_RAISE(auto b, Bind(*a, scope, hook));
      out.push_back(std::move(b));
    }
    return out;
  }

  // Runs an uncorrelated subquery now and returns its value(s).
  Result<QueryResult> RunSubquery(const sql::Query& q) {
    Binder sub(session_);
    sub.ctes_ = ctes_;
    ARROW_ASSIGN_OR_RAISE(auto bound, sub.BindQuery(q));
    return session_->Run(bound.first);
  }

  // ------------------------------------------------------------ relations
  Result<std::pair<LogicalPtr, Scope>> BindTableRef(const sql::TableRef& t);

  // `(subquery) WATERMARK col DELAY OF ...`: traces `col` down through
  // projections and filters to the one streaming source it is computed from
  // and hands the expression to the stream layer (Spark's withWatermark on a
  // derived DataFrame). Anything else is refused, never silently ignored.
  Status BindSubqueryWatermark(const sql::TableRef& t, const LogicalPtr& plan) {
    const auto& w = *t.watermark_column;
    if (w.type != ExprType::kColumn || w.name_parts.empty()) {
      return UserError("WATERMARK expects a column of the subquery, e.g. WATERMARK event_time DELAY OF "
                       "INTERVAL 10 SECONDS, at {}", Where(t.loc));
    }
    if (!session_->stream_watermark) {
      return UserError("WATERMARK is only allowed in streaming queries (FROM STREAM ...), at {}", Where(t.loc));
    }
    const std::string& name = w.name_parts.back();
    int idx = -1;
    for (int i = 0; i < plan->schema->num_fields(); ++i) {
      if (Lower(plan->schema->field(i)->name()) == Lower(name)) idx = i;
    }
    if (idx < 0) {
      return UserError("WATERMARK column `{}` is not a column of the subquery ({}), at {}", name,
                       plan->schema->ToString(), Where(t.loc));
    }
    const auto& type = plan->schema->field(idx)->type();
    if (type->id() != arrow::Type::TIMESTAMP) {
      return UserError("WATERMARK column `{}` must be a TIMESTAMP, got {}, at {}", name, types::ToDDL(*type),
                       Where(t.loc));
    }
    const auto* d = t.watermark_delay.get();
    if (!d || (d->type != ExprType::kInterval && d->type != ExprType::kLiteral)) {
      return UserError("WATERMARK ... DELAY OF expects an interval such as INTERVAL 10 SECONDS, at {}", Where(t.loc));
    }
    ARROW_ASSIGN_OR_RAISE(int64_t delay_us, types::ParseDurationMicros(d->text));
    if (delay_us < 0) return UserError("WATERMARK delay must not be negative, at {}", Where(t.loc));
    ExprPtr e = expr::MakeColumn(idx, plan->schema->field(idx)->name(), type);
    LogicalPtr n = plan;
    while (true) {
      if (n->kind == LogicalKind::kProject) {
        std::function<ExprPtr(const ExprPtr&)> inline_refs = [&](const ExprPtr& x) -> ExprPtr {
          if (x->kind == ExprKind::kColumn) return n->exprs[x->column_index];
          if (x->args.empty()) return x;
          auto copy = std::make_shared<expr::Expr>(*x);
          for (auto& a : copy->args) a = inline_refs(a);
          return copy;
        };
        e = inline_refs(e);
        n = n->children[0];
      } else if (n->kind == LogicalKind::kFilter) {
        n = n->children[0];
      } else if (n->kind == LogicalKind::kScan && n->scan) {
        return session_->stream_watermark(n->scan.get(), e, plan->schema->field(idx)->name(), delay_us);
      } else {
        return UserError("WATERMARK on a subquery: its column `{}` must come from one streaming source through "
                         "projections and filters (put the WATERMARK on the source or on a simpler subquery), at {}",
                         name, Where(t.loc));
      }
    }
  }
  Result<std::pair<LogicalPtr, Scope>> BindLateral(const sql::TableRef& t, LogicalPtr input_plan,
                                                   const Scope& input_scope);
  Result<std::pair<LogicalPtr, Scope>> BindSelect(const sql::Select& s, const std::vector<sql::OrderItem>* order,
                                                  std::vector<SortKey>* sort_keys, int* hidden);
  Result<std::pair<LogicalPtr, Scope>> BindValues(const sql::TableRef& t);
  Result<std::pair<LogicalPtr, Scope>> ApplyWhere(LogicalPtr plan, const Scope& scope, const AstExpr& where);
  Result<std::pair<LogicalPtr, Scope>> BindSetOp(const sql::Query::SetOp& op);

  Result<ExprPtr> BindHigherOrder(const AstExpr& e, const std::string& name, const Scope& scope, const Hook* hook);
  // (a, b) IN (SELECT x, y ...) with an uncorrelated subquery: run it and test
  // each row as a conjunction of equalities.
  Result<ExprPtr> BindMultiColumnIn(const AstExpr& e, const std::vector<AstExprPtr>& lhs_parts, const Scope& scope,
                                    const Hook* hook) {
    std::vector<ExprPtr> lhs;
    for (const auto& p : lhs_parts) {
      ARROW_ASSIGN_OR_RAISE(auto b, Bind(*p, scope, hook));
      lhs.push_back(std::move(b));
    }
    ARROW_ASSIGN_OR_RAISE(auto res, RunSubquery(*e.subquery));
    if (static_cast<size_t>(res.schema->num_fields()) != lhs.size()) {
      return UserError("[INVALID_SUBQUERY_EXPRESSION] IN subquery must return {} columns, as many as the left side "
                       "has, not {}", lhs.size(), res.schema->num_fields());
    }
    ExprPtr any;
    for (const auto& b : res.batches) {
      for (int64_t i = 0; i < b->num_rows(); ++i) {
        ExprPtr all;
        for (size_t k = 0; k < lhs.size(); ++k) {
          ARROW_ASSIGN_OR_RAISE(auto v, b->column(static_cast<int>(k))->GetScalar(i));
          ARROW_ASSIGN_OR_RAISE(auto eq, Call("equal", {lhs[k], expr::MakeLiteral(v)}, e.loc));
          all = all ? expr::MakeSpecial(ExprKind::kAnd, arrow::boolean(), {all, eq}) : eq;
        }
        any = any ? expr::MakeSpecial(ExprKind::kOr, arrow::boolean(), {any, all}) : all;
      }
    }
    if (!any) return expr::MakeLiteral(std::make_shared<arrow::BooleanScalar>(e.negated));
    if (e.negated) return Call("not", {any}, e.loc);
    return any;
  }
  // Binds lambda `l` (an AST kLambda) with parameters of `param_types`; at most
  // `max_params` and at least `min_params` of them may be named.
  Result<ExprPtr> BindLambda(const AstExpr& l, const std::string& fn, const std::vector<TypePtr>& param_types,
                             size_t min_params, const Scope& scope, const Hook* hook);

  bool IsLambdaVariable(const std::string& name) const {
    for (const auto& v : lambda_vars_) {
      if (v.name == Lower(name)) return true;
    }
    return false;
  }
  // A lambda parameter in scope: its name (lower case), type and slot.
  struct LambdaVar {
    std::string name;
    TypePtr type;
    int slot;
  };

  Session* session_;
  expr::EvalContext ctx_;
  std::vector<LambdaVar> lambda_vars_;  // innermost last
  std::vector<std::map<std::string, const sql::CommonTableExpr*>> ctes_;
  std::shared_ptr<Hook> alias_hook_holder;
  // Correlated scalar subqueries rewritten into joins: their value over the
  // extended FROM scope.
  std::map<const AstExpr*, ExprPtr> subquery_values_;
  Status RewriteCorrelatedSubquery(const AstExprPtr& sub, LogicalPtr* plan, Scope* scope);

  // Identity of an aggregate call: its name and bound arguments, so that
  // sum(t1.a) and sum(t2.a) (both "sum(a)" as text) stay apart.
  std::string AggKey(const AstExpr& e, const Scope& scope) {
    std::string key = Lower(e.name) + (e.distinct ? "(DISTINCT " : "(");
    for (const auto& a : e.args) {
      auto b = a->type == ExprType::kStar ? Result<ExprPtr>(Status::Invalid("")) : Bind(*a, scope);
      key += (b.ok() ? (*b)->ToString() : Lower(a->sql_text)) + ",";
    }
    if (e.filter) {
      auto f = Bind(*e.filter, scope);
      key += " FILTER " + (f.ok() ? (*f)->ToString() : Lower(e.filter->sql_text));
    }
    return key + (e.ignore_nulls ? ") IGNORE NULLS" : ")");
  }
};

Result<ExprPtr> Binder::BindColumn(const AstExpr& e, const Scope& scope) {
  const auto& parts = e.name_parts;
  if (parts.empty()) return UserError("empty column reference");
  // Lambda parameters shadow columns (innermost lambda first).
  const LambdaVar* lambda_var = nullptr;
  for (auto it = lambda_vars_.rbegin(); it != lambda_vars_.rend() && !lambda_var; ++it) {
    if (it->name == Lower(parts[0])) lambda_var = &*it;
  }
  auto with_fields = [&](ExprPtr base, size_t from) -> Result<ExprPtr> {
    for (size_t i = from; i < parts.size(); ++i) {
      if (base->type->id() != arrow::Type::STRUCT) {
        return UserError("[INVALID_EXTRACT_BASE_FIELD_TYPE] cannot access field `{}` of non-struct type {}", parts[i],
                         types::ToDDL(*base->type));
      }
      const auto& st = static_cast<const arrow::StructType&>(*base->type);
      int idx = -1;
      for (int f = 0; f < st.num_fields(); ++f) {
        if (Lower(st.field(f)->name()) == Lower(parts[i])) idx = f;
      }
      if (idx < 0) return UserError("[FIELD_NOT_FOUND] No such struct field `{}` in {}", parts[i], types::ToDDL(st));
      ARROW_ASSIGN_OR_RAISE(
          base, Call("get_field", {base, expr::MakeLiteral(std::make_shared<arrow::StringScalar>(st.field(idx)->name()))}, e.loc));
    }
    return base;
  };
  if (lambda_var) return with_fields(expr::MakeLambdaVariable(lambda_var->slot, parts[0], lambda_var->type), 1);
  if (parts.size() >= 2) {
    // t.a[.field...] first, then a.field...
    for (size_t q = std::min<size_t>(parts.size() - 1, 2); q >= 1; --q) {
      std::string qual = Lower(parts[q - 1]);
      int i = scope.Find(qual, parts[q]);
      if (i == -2) return UserError("[AMBIGUOUS_REFERENCE] Reference `{}` is ambiguous", fmt::join(parts, "."));
      if (i >= 0) return with_fields(ColumnOf(scope, i), q + 1);
    }
  }
  int i = scope.Find("", parts[0]);
  if (i == -2) return UserError("[AMBIGUOUS_REFERENCE] Reference `{}` is ambiguous", parts[0]);
  if (i < 0) {
    std::vector<std::string> names;
    for (const auto& c : scope.cols) names.push_back("`" + (c.qualifier.empty() ? "" : c.qualifier + "`.`") + c.name + "`");
    if (names.size() > 12) names.resize(12);
    return UserError("[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column or function parameter with name `{}` cannot be resolved. Did you mean one of the following? [{}]",
                     fmt::join(parts, "`.`"), fmt::join(names, ", "));
  }
  return with_fields(ColumnOf(scope, i), 1);
}

Result<ExprPtr> Binder::BindInner(const AstExpr& e, const Scope& scope, const Hook* hook) {
  switch (e.type) {
    case ExprType::kLiteral: {
      ARROW_ASSIGN_OR_RAISE(auto s, BindLiteral(e, ctx_));
      return expr::MakeLiteral(s);
    }
    case ExprType::kInterval: {
      ARROW_ASSIGN_OR_RAISE(auto s, IntervalLiteral(e.text, e.loc));
      return expr::MakeLiteral(s);
    }
    case ExprType::kColumn:
      return BindColumn(e, scope);
    case ExprType::kStar:
      return UserError("[INVALID_USAGE_OF_STAR] `*` is not allowed here");
    case ExprType::kUnary: {
      ARROW_ASSIGN_OR_RAISE(auto a, Bind(*e.args[0], scope, hook));
      auto op = Lower(e.op);
      if (op == "not") {
        ARROW_ASSIGN_OR_RAISE(a, Boolean(a, e.loc, "the operand of NOT"));
        return Call("not", {a}, e.loc);
      }
      if (op == "-") {
        // -2147483648 and friends: fold the sign into the literal before typing it.
        if (e.args[0]->type == ExprType::kLiteral && e.args[0]->literal_kind == sql::LiteralKind::kInteger &&
            e.args[0]->text.rfind("-", 0) != 0) {
          auto neg = *e.args[0];
          neg.text = "-" + neg.text;
          ARROW_ASSIGN_OR_RAISE(auto s, BindLiteral(neg, ctx_));
          return expr::MakeLiteral(s);
        }
        return Call("negative", {a}, e.loc);
      }
      if (op == "+") return Call("positive", {a}, e.loc);
      if (op == "~") return Call("bitwise_not", {a}, e.loc);
      return UserError("unknown unary operator {}", e.op);
    }
    case ExprType::kBinary: {
      auto op = Lower(e.op);
      ARROW_ASSIGN_OR_RAISE(auto l, Bind(*e.args[0], scope, hook));
      ARROW_ASSIGN_OR_RAISE(auto r, Bind(*e.args[1], scope, hook));
      if (op == "and" || op == "or") {
        ARROW_ASSIGN_OR_RAISE(l, Boolean(l, e.args[0]->loc, "a logical operand"));
        ARROW_ASSIGN_OR_RAISE(r, Boolean(r, e.args[1]->loc, "a logical operand"));
        // Spark's BooleanSimplification: x AND FALSE is FALSE, x OR TRUE is TRUE,
        // whatever x is (x is never evaluated, so it cannot raise).
        bool dominant = op == "or";
        for (const auto& side : {l, r}) {
          if (side->kind == ExprKind::kLiteral && side->value->is_valid &&
              static_cast<const arrow::BooleanScalar&>(*side->value).value == dominant) {
            return side;
          }
        }
        auto n = expr::MakeSpecial(op == "and" ? ExprKind::kAnd : ExprKind::kOr, arrow::boolean(), {l, r});
        return FoldIfConstant(n);
      }
      static const std::map<std::string, std::string> ops = {
          {"+", "add"},         {"-", "subtract"},    {"*", "multiply"},       {"/", "divide"},
          {"%", "mod"},         {"div", "div"},       {"||", "concat"},        {"=", "equal"},
          {"==", "equal"},      {"<>", "not_equal"},  {"!=", "not_equal"},     {"<", "less"},
          {"<=", "less_equal"}, {">", "greater"},     {">=", "greater_equal"}, {"<=>", "equal_null_safe"},
          {"&", "bitwise_and"}, {"|", "bitwise_or"},  {"^", "bitwise_xor"}};
      auto it = ops.find(op);
      if (it == ops.end()) return UserError("unknown operator {}", e.op);
      // DATE +/- an interval of whole days (INTERVAL 3 DAYS, Spark's
      // INTERVAL DAY) stays a DATE; other day-time intervals give a TIMESTAMP.
      if (op == "+" || op == "-") {
        for (int side = 0; side < 2; ++side) {
          const auto& iv = *e.args[side];
          const auto& other = side == 0 ? r : l;
          if (iv.type != ExprType::kInterval || other->type->id() != arrow::Type::DATE32) continue;
          if (op == "-" && side == 0) continue;
          if (auto days = WholeDaysInterval(iv.text)) {
            arrow::MonthDayNanoIntervalType::MonthDayNanos mdn{0, *days, 0};
            (side == 0 ? l : r) = expr::MakeLiteral(std::make_shared<arrow::MonthDayNanoIntervalScalar>(mdn));
          }
        }
      }
      return Call(it->second, {l, r}, e.loc);
    }
    case ExprType::kFunction:
      return BindFunction(e, scope, hook);
    case ExprType::kCase: {
      std::vector<ExprPtr> conds, vals;
      ExprPtr operand;
      if (e.operand) {
        ARROW_ASSIGN_OR_RAISE(operand, Bind(*e.operand, scope, hook));
      }
      for (const auto& [w, t] : e.whens) {
        ARROW_ASSIGN_OR_RAISE(auto c, Bind(*w, scope, hook));
        if (operand) {
          ARROW_ASSIGN_OR_RAISE(c, Call("equal", {operand, c}, w->loc));
        }
        if (c->type->id() == arrow::Type::NA) {
          return UserError("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] a WHEN condition must be BOOLEAN, not VOID at {}", Where(w->loc));
        }
        ARROW_ASSIGN_OR_RAISE(c, Boolean(c, w->loc, "a WHEN condition"));
        conds.push_back(c);
        ARROW_ASSIGN_OR_RAISE(auto v, Bind(*t, scope, hook));
        vals.push_back(v);
      }
      if (e.else_expr) {
        ARROW_ASSIGN_OR_RAISE(auto v, Bind(*e.else_expr, scope, hook));
        vals.push_back(v);
      }
      ARROW_ASSIGN_OR_RAISE(auto type, Common(vals, e.loc));
      std::vector<ExprPtr> args;
      for (size_t i = 0; i < conds.size(); ++i) {
        args.push_back(conds[i]);
        args.push_back(ImplicitCast(vals[i], type));
      }
      if (e.else_expr) args.push_back(ImplicitCast(vals.back(), type));
      return expr::MakeSpecial(ExprKind::kCase, type, std::move(args), e.else_expr != nullptr);
    }
    case ExprType::kCast: {
      ARROW_ASSIGN_OR_RAISE(auto a, Bind(*e.args[0], scope, hook));
      auto parsed = types::ParseDDLType(e.text);
      if (!parsed.ok()) return UserError("[UNSUPPORTED_DATATYPE] Unsupported data type \"{}\": {}", e.text, parsed.status().message());
      auto to = *parsed;
      if (!expr::CanCast(*a->type, *to, session_->config().ansi) && a->type->id() != arrow::Type::NA) {
        return UserError("[DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION] cannot cast {} to {}", types::ToDDL(*a->type),
                         types::ToDDL(*to));
      }
      if (a->type->id() == arrow::Type::NA) return expr::MakeLiteral(arrow::MakeNullScalar(to));
      auto c = expr::MakeCast(a, to, e.try_cast ? expr::CastMode::kTry : expr::CastMode::kAnsi);
      return FoldIfConstant(c);
    }
    case ExprType::kIsNull: {
      ARROW_ASSIGN_OR_RAISE(auto a, Bind(*e.args[0], scope, hook));
      return Call(e.negated ? "is_not_null" : "is_null", {a}, e.loc);
    }
    case ExprType::kIsBool: {
      ARROW_ASSIGN_OR_RAISE(auto a, Bind(*e.args[0], scope, hook));
      ARROW_ASSIGN_OR_RAISE(a, Boolean(a, e.loc, "the operand of IS TRUE/FALSE"));
      auto what = Lower(e.op);
      ExprPtr r;
      if (what == "unknown") {
        ARROW_ASSIGN_OR_RAISE(r, Call("is_null", {a}, e.loc));
      } else {
        auto lit = expr::MakeLiteral(std::make_shared<arrow::BooleanScalar>(what == "true"));
        ARROW_ASSIGN_OR_RAISE(r, Call("equal_null_safe", {a, lit}, e.loc));
      }
      if (e.negated) return Call("not", {r}, e.loc);
      return r;
    }
    case ExprType::kIsDistinctFrom: {
      ARROW_ASSIGN_OR_RAISE(auto a, Bind(*e.args[0], scope, hook));
      ARROW_ASSIGN_OR_RAISE(auto b, Bind(*e.args[1], scope, hook));
      ARROW_ASSIGN_OR_RAISE(auto eq, Call("equal_null_safe", {a, b}, e.loc));
      if (e.negated) return eq;  // IS NOT DISTINCT FROM
      return Call("not", {eq}, e.loc);
    }
    case ExprType::kBetween: {
      ARROW_ASSIGN_OR_RAISE(auto a, Bind(*e.args[0], scope, hook));
      ARROW_ASSIGN_OR_RAISE(auto lo, Bind(*e.args[1], scope, hook));
      ARROW_ASSIGN_OR_RAISE(auto hi, Bind(*e.args[2], scope, hook));
      ARROW_ASSIGN_OR_RAISE(auto ge, Call("greater_equal", {a, lo}, e.loc));
      ARROW_ASSIGN_OR_RAISE(auto le, Call("less_equal", {a, hi}, e.loc));
      auto both = expr::MakeSpecial(ExprKind::kAnd, arrow::boolean(), {ge, le});
      if (e.negated) return Call("not", {both}, e.loc);
      return both;
    }
    case ExprType::kInList: {
      ARROW_ASSIGN_OR_RAISE(auto args, BindArgs(e.args, scope, hook));
      ARROW_ASSIGN_OR_RAISE(auto in, Call("in", std::move(args), e.loc));
      if (e.negated) return Call("not", {in}, e.loc);
      return in;
    }
    case ExprType::kLike: {
      ARROW_ASSIGN_OR_RAISE(auto a, Bind(*e.args[0], scope, hook));
      auto fname = Lower(e.op);
      if (fname == "regexp" || fname == "regexp_like") fname = "rlike";
      if (!e.quantifier.empty()) {
        // LIKE ANY/ALL (p1, p2, ...): OR / AND of the single matches.
        bool any = Lower(e.quantifier) == "any" || Lower(e.quantifier) == "some";
        ExprPtr acc;
        for (size_t i = 1; i < e.args.size(); ++i) {
          ARROW_ASSIGN_OR_RAISE(auto p, Bind(*e.args[i], scope, hook));
          ARROW_ASSIGN_OR_RAISE(auto m, Call(fname, {a, p}, e.loc));
          acc = acc ? expr::MakeSpecial(any ? ExprKind::kOr : ExprKind::kAnd, arrow::boolean(), {acc, m}) : m;
        }
        if (e.negated) return Call("not", {acc}, e.loc);
        return acc;
      }
      std::vector<ExprPtr> args = {a};
      for (size_t i = 1; i < e.args.size(); ++i) {
        ARROW_ASSIGN_OR_RAISE(auto p, Bind(*e.args[i], scope, hook));
        args.push_back(p);
      }
      ARROW_ASSIGN_OR_RAISE(auto m, Call(fname, std::move(args), e.loc));
      if (e.negated) return Call("not", {m}, e.loc);
      return m;
    }
    case ExprType::kSubscript: {
      ARROW_ASSIGN_OR_RAISE(auto a, Bind(*e.args[0], scope, hook));
      ARROW_ASSIGN_OR_RAISE(auto i, Bind(*e.args[1], scope, hook));
      if (a->type->id() == arrow::Type::STRUCT && i->kind == ExprKind::kLiteral) {
        return Call("get_field", {a, i}, e.loc);
      }
      return Call("subscript", {a, i}, e.loc);
    }
    case ExprType::kField: {
      ARROW_ASSIGN_OR_RAISE(auto a, Bind(*e.args[0], scope, hook));
      if (a->type->id() != arrow::Type::STRUCT) {
        return UserError("[INVALID_EXTRACT_BASE_FIELD_TYPE] cannot access field `{}` of {}", e.name, types::ToDDL(*a->type));
      }
      const auto& st = static_cast<const arrow::StructType&>(*a->type);
      for (const auto& f : st.fields()) {
        if (Lower(f->name()) == Lower(e.name)) {
          return Call("get_field", {a, expr::MakeLiteral(std::make_shared<arrow::StringScalar>(f->name()))}, e.loc);
        }
      }
      return UserError("[FIELD_NOT_FOUND] No such struct field `{}` in {}", e.name, types::ToDDL(st));
    }
    case ExprType::kScalarSubquery: {
      if (auto it = subquery_values_.find(&e); it != subquery_values_.end()) return it->second;
      ARROW_ASSIGN_OR_RAISE(auto res, RunSubquery(*e.subquery));
      if (res.schema->num_fields() != 1) {
        return UserError("[INVALID_SUBQUERY_EXPRESSION] a scalar subquery must return one column, not {}", res.schema->num_fields());
      }
      auto type = res.schema->field(0)->type();
      if (res.num_rows() > 1) {
        return ExecutionError("[SCALAR_SUBQUERY_TOO_MANY_ROWS] More than one row returned by a subquery used as an expression");
      }
      for (const auto& b : res.batches) {
        if (b->num_rows() == 1) {
          ARROW_ASSIGN_OR_RAISE(auto s, b->column(0)->GetScalar(0));
          return expr::MakeLiteral(s);
        }
      }
      return expr::MakeLiteral(arrow::MakeNullScalar(type));
    }
    case ExprType::kInSubquery:
    case ExprType::kExists: {
      // Only reached outside a WHERE conjunct (where they become joins):
      // uncorrelated subqueries are run now and turned into a value list.
      if (e.type == ExprType::kExists) {
        ARROW_ASSIGN_OR_RAISE(auto res, RunSubquery(*e.subquery));
        bool exists = res.num_rows() > 0;
        return expr::MakeLiteral(std::make_shared<arrow::BooleanScalar>(e.negated ? !exists : exists));
      }
      auto lhs_parts = RowParts(e.args[0]);
      if (lhs_parts.size() > 1) return BindMultiColumnIn(e, lhs_parts, scope, hook);
      ARROW_ASSIGN_OR_RAISE(auto lhs, Bind(*e.args[0], scope, hook));
      ARROW_ASSIGN_OR_RAISE(auto res, RunSubquery(*e.subquery));
      if (res.schema->num_fields() != 1) {
        return UserError("[INVALID_SUBQUERY_EXPRESSION] IN subquery must return one column, not {}",
                         res.schema->num_fields());
      }
      std::vector<ExprPtr> args = {lhs};
      for (const auto& b : res.batches) {
        for (int64_t i = 0; i < b->num_rows(); ++i) {
          ARROW_ASSIGN_OR_RAISE(auto s, b->column(0)->GetScalar(i));
          args.push_back(expr::MakeLiteral(s));
        }
      }
      if (args.size() == 1) {
        return expr::MakeLiteral(std::make_shared<arrow::BooleanScalar>(e.negated));
      }
      ARROW_ASSIGN_OR_RAISE(auto in, Call("in", std::move(args), e.loc));
      if (e.negated) return Call("not", {in}, e.loc);
      return in;
    }
    case ExprType::kLambda:
      return UserError("[INVALID_LAMBDA_FUNCTION_CALL.NON_HIGHER_ORDER_FUNCTION] A lambda function ({} -> ...) is only "
                       "allowed as an argument of a higher-order function such as transform or filter",
                       fmt::join(e.lambda_params, ", "));
    case ExprType::kNamedArgument:
      return UserError("named argument {} => is only allowed in table functions", e.name);
    case ExprType::kParameter:
      return Unsupported("query parameters are not supported");
  }
  return InternalError("unknown expression");
}

Result<ExprPtr> Binder::BindFunction(const AstExpr& e, const Scope& scope, const Hook* hook) {
  auto name = Lower(e.name);
  if (e.over || !e.window_name.empty()) {
    return UserError("[UNSUPPORTED_EXPR_FOR_OPERATOR] window function {}() is only allowed in SELECT and ORDER BY", name);
  }
  if (IsAggregateName(name) && !expr::FunctionRegistry::Default().FindScalar(name)) {
    return UserError("[MISSING_GROUP_BY] aggregate function {}() is not allowed here", name);
  }
  if (IsRankingWindowFunction(name) && name != "first_value" && name != "last_value") {
    return UserError("[WINDOW_FUNCTION_WITHOUT_OVER_CLAUSE] Window function \"{}\" requires an OVER clause", name);
  }
  if (name == "coalesce" || name == "nvl" || name == "ifnull") {
    if (e.args.empty()) return UserError("[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `coalesce` requires at least 1 parameters but the actual number is 0.");
    ARROW_ASSIGN_OR_RAISE(auto args, BindArgs(e.args, scope, hook));
    if ((name != "coalesce") && args.size() != 2) return UserError("{} requires 2 arguments", name);
    ARROW_ASSIGN_OR_RAISE(auto type, Common(args, e.loc));
    for (auto& a : args) a = ImplicitCast(a, type);
    return expr::MakeSpecial(ExprKind::kCoalesce, type, std::move(args));
  }
  if (name == "if" || name == "iff") {
    if (e.args.size() != 3) return UserError("if requires 3 arguments");
    ARROW_ASSIGN_OR_RAISE(auto args, BindArgs(e.args, scope, hook));
    ARROW_ASSIGN_OR_RAISE(args[0], Boolean(args[0], e.loc, "the condition of if"));
    ARROW_ASSIGN_OR_RAISE(auto type, Common({args[1], args[2]}, e.loc));
    return expr::MakeSpecial(ExprKind::kIf, type, {args[0], ImplicitCast(args[1], type), ImplicitCast(args[2], type)});
  }
  if (name == "nvl2") {
    if (e.args.size() != 3) return UserError("nvl2 requires 3 arguments");
    ARROW_ASSIGN_OR_RAISE(auto args, BindArgs(e.args, scope, hook));
    ARROW_ASSIGN_OR_RAISE(auto cond, Call("is_not_null", {args[0]}, e.loc));
    ARROW_ASSIGN_OR_RAISE(auto type, Common({args[1], args[2]}, e.loc));
    return expr::MakeSpecial(ExprKind::kIf, type, {cond, ImplicitCast(args[1], type), ImplicitCast(args[2], type)});
  }
  if (name == "nullif") {
    if (e.args.size() != 2) return UserError("nullif requires 2 arguments");
    ARROW_ASSIGN_OR_RAISE(auto args, BindArgs(e.args, scope, hook));
    ARROW_ASSIGN_OR_RAISE(auto eq, Call("equal", {args[0], args[1]}, e.loc));
    return expr::MakeSpecial(ExprKind::kCase, args[0]->type,
                             {eq, expr::MakeLiteral(arrow::MakeNullScalar(args[0]->type)), args[0]}, true);
  }
  if (name == "typeof") {
    if (e.args.size() != 1) return UserError("[WRONG_NUM_ARGS] typeof requires 1 argument");
    ARROW_ASSIGN_OR_RAISE(auto a, Bind(*e.args[0], scope, hook));
    return expr::MakeLiteral(std::make_shared<arrow::StringScalar>(types::SimpleString(*a->type)));
  }
  {
    // Spark's cast functions: string(x), int(x), double(x), ...
    static const std::map<std::string, std::string> casts = {
        {"string", "STRING"}, {"int", "INT"},         {"bigint", "BIGINT"},   {"smallint", "SMALLINT"},
        {"tinyint", "TINYINT"}, {"double", "DOUBLE"}, {"float", "FLOAT"},     {"boolean", "BOOLEAN"},
        {"date", "DATE"},     {"timestamp", "TIMESTAMP"}, {"binary", "BINARY"}, {"decimal", "DECIMAL(10,0)"}};
    auto c = casts.find(name);
    if (c != casts.end() && e.args.size() == 1) {
      ARROW_ASSIGN_OR_RAISE(auto a, Bind(*e.args[0], scope, hook));
      ARROW_ASSIGN_OR_RAISE(auto to, types::ParseDDLType(c->second));
      if (a->type->id() == arrow::Type::NA) return expr::MakeLiteral(arrow::MakeNullScalar(to));
      return FoldIfConstant(expr::MakeCast(a, to, expr::CastMode::kAnsi));
    }
  }
  if (name == "struct") {
    // Field names: the alias, a column's name, else colN (Spark's CreateStruct).
    std::vector<ExprPtr> args;
    arrow::FieldVector fields;
    for (size_t i = 0; i < e.args.size(); ++i) {
      ARROW_ASSIGN_OR_RAISE(auto b, Bind(*e.args[i], scope, hook));
      std::string fname = !e.args[i]->alias.empty()                      ? e.args[i]->alias
                          : e.args[i]->type == ExprType::kColumn ? e.args[i]->name_parts.back()
                                                                 : fmt::format("col{}", i + 1);
      fields.push_back(arrow::field(fname, b->type, true));
      args.push_back(b);
    }
    ARROW_ASSIGN_OR_RAISE(auto call, Call("struct", std::move(args), e.loc));
    auto want = arrow::struct_(fields);
    if (call->type->Equals(*want)) return call;
    return expr::MakeCast(call, want, expr::CastMode::kAnsi);
  }
  {
    static const std::set<std::string> kHigherOrder = {"transform", "filter",    "exists",         "forall",
                                                       "aggregate", "reduce",    "map_filter",     "transform_values",
                                                       "transform_keys", "zip_with"};
    if (kHigherOrder.count(name)) return BindHigherOrder(e, name == "reduce" ? "aggregate" : name, scope, hook);
  }
  if (name == "isnull") name = "is_null";
  if (name == "isnotnull") name = "is_not_null";
  std::vector<ExprPtr> args;
  for (const auto& a : e.args) {
    if (a->type == ExprType::kStar) continue;
    ARROW_ASSIGN_OR_RAISE(auto b, Bind(*a, scope, hook));
    args.push_back(b);
  }
  return Call(name, std::move(args), e.loc);
}

// Spark's higher-order functions: the array/map inputs are bound as usual, each
// lambda with its parameters typed from the inputs (element, index, key,
// value, accumulator). The evaluator runs a body once over all elements.
Result<ExprPtr> Binder::BindHigherOrder(const AstExpr& e, const std::string& name, const Scope& scope,
                                        const Hook* hook) {
  struct Shape {
    size_t min_args, max_args;  // total arguments
    size_t num_inputs;          // leading non-lambda arguments
    const char* signature;
  };
  static const std::map<std::string, Shape> kShapes = {
      {"transform", {2, 2, 1, "(ARRAY, x [, i] -> ...)"}},
      {"filter", {2, 2, 1, "(ARRAY, x [, i] -> BOOLEAN)"}},
      {"exists", {2, 2, 1, "(ARRAY, x -> BOOLEAN)"}},
      {"forall", {2, 2, 1, "(ARRAY, x -> BOOLEAN)"}},
      {"aggregate", {3, 4, 2, "(ARRAY, zero, (acc, x) -> ... [, acc -> ...])"}},
      {"map_filter", {2, 2, 1, "(MAP, (k, v) -> BOOLEAN)"}},
      {"transform_values", {2, 2, 1, "(MAP, (k, v) -> ...)"}},
      {"transform_keys", {2, 2, 1, "(MAP, (k, v) -> ...)"}},
      {"zip_with", {3, 3, 2, "(ARRAY, ARRAY, (x, y) -> ...)"}},
  };
  const Shape& shape = kShapes.at(name);
  if (e.args.size() < shape.min_args || e.args.size() > shape.max_args) {
    return UserError("[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires {} parameters but the actual number is {}. "
                     "Expected {}{}",
                     name, shape.min_args == shape.max_args ? fmt::format("{}", shape.min_args)
                                                            : fmt::format("[{}, {}]", shape.min_args, shape.max_args),
                     e.args.size(), name, shape.signature);
  }
  std::vector<ExprPtr> inputs;
  for (size_t i = 0; i < shape.num_inputs; ++i) {
    if (e.args[i]->type == ExprType::kLambda) {
      return UserError("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] argument {} of {} must not be a lambda function; "
                       "expected {}{}", i + 1, name, name, shape.signature);
    }
    ARROW_ASSIGN_OR_RAISE(auto b, Bind(*e.args[i], scope, hook));
    inputs.push_back(std::move(b));
  }
  for (size_t i = shape.num_inputs; i < e.args.size(); ++i) {
    if (e.args[i]->type != ExprType::kLambda) {
      return UserError("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] argument {} of {} must be a lambda function such as "
                       "x -> x + 1, not `{}`; expected {}{}", i + 1, name, e.args[i]->sql_text, name, shape.signature);
    }
  }
  bool wants_map = name == "map_filter" || name == "transform_values" || name == "transform_keys";
  size_t num_collections = name == "zip_with" ? 2 : 1;
  for (size_t i = 0; i < num_collections; ++i) {
    auto& in = inputs[i];
    bool ok = wants_map ? in->type->id() == arrow::Type::MAP : in->type->id() == arrow::Type::LIST;
    if (!ok) {
      return UserError("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: "
                       "parameter {} requires the \"{}\" type, however \"{}\" has the type \"{}\"",
                       e.sql_text, i + 1, wants_map ? "MAP" : "ARRAY", e.args[i]->sql_text, types::ToDDL(*in->type));
    }
  }
  auto element = [](const ExprPtr& x) { return static_cast<const arrow::BaseListType&>(*x->type).value_type(); };
  int slot = static_cast<int>(lambda_vars_.size());
  const AstExpr& lambda = *e.args[shape.num_inputs];
  auto must_be_boolean = [&](const ExprPtr& body) -> Status {
    if (body->type->id() == arrow::Type::BOOL || body->type->id() == arrow::Type::NA) return Status::OK();
    return UserError("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: the "
                     "lambda function must return \"BOOLEAN\", however \"{}\" has the type \"{}\"",
                     e.sql_text, lambda.args[0]->sql_text, types::ToDDL(*body->type));
  };
  auto as_boolean = [&](ExprPtr body) {
    return body->type->id() == arrow::Type::NA ? expr::MakeLiteral(arrow::MakeNullScalar(arrow::boolean())) : body;
  };
  if (name == "transform" || name == "filter") {
    ARROW_ASSIGN_OR_RAISE(auto body, BindLambda(lambda, name, {element(inputs[0]), arrow::int32()}, 1, scope, hook));
    if (name == "transform") {
      return expr::MakeHigherOrder(name, arrow::list(body->type), inputs, {body}, slot);
    }
    LS_RETURN_NOT_OK(must_be_boolean(body));
    return expr::MakeHigherOrder(name, inputs[0]->type, inputs, {as_boolean(body)}, slot);
  }
  if (name == "exists" || name == "forall") {
    ARROW_ASSIGN_OR_RAISE(auto body, BindLambda(lambda, name, {element(inputs[0])}, 1, scope, hook));
    LS_RETURN_NOT_OK(must_be_boolean(body));
    return expr::MakeHigherOrder(name, arrow::boolean(), inputs, {as_boolean(body)}, slot);
  }
  if (name == "zip_with") {
    ARROW_ASSIGN_OR_RAISE(auto body,
                          BindLambda(lambda, name, {element(inputs[0]), element(inputs[1])}, 2, scope, hook));
    return expr::MakeHigherOrder(name, arrow::list(body->type), inputs, {body}, slot);
  }
  if (wants_map) {
    const auto& mt = static_cast<const arrow::MapType&>(*inputs[0]->type);
    ARROW_ASSIGN_OR_RAISE(auto body, BindLambda(lambda, name, {mt.key_type(), mt.item_type()}, 2, scope, hook));
    if (name == "map_filter") {
      LS_RETURN_NOT_OK(must_be_boolean(body));
      return expr::MakeHigherOrder(name, inputs[0]->type, inputs, {as_boolean(body)}, slot);
    }
    if (name == "transform_keys") {
      if (body->type->id() == arrow::Type::NA) {
        return UserError("[NULL_MAP_KEY] Cannot use null as map key: the lambda of transform_keys returns NULL");
      }
      return expr::MakeHigherOrder(name, arrow::map(body->type, mt.item_type()), inputs, {body}, slot);
    }
    return expr::MakeHigherOrder(name, arrow::map(mt.key_type(), body->type), inputs, {body}, slot);
  }
  // aggregate(array, zero, (acc, x) -> merge [, acc -> finish])
  TypePtr acc_type = inputs[1]->type;
  ARROW_ASSIGN_OR_RAISE(auto merge, BindLambda(lambda, name, {acc_type, element(inputs[0])}, 2, scope, hook));
  if (!merge->type->Equals(*acc_type)) {
    if (acc_type->id() == arrow::Type::NA) {
      // aggregate(arr, NULL, ...): the zero takes the merge's type.
      acc_type = merge->type;
      inputs[1] = ImplicitCast(inputs[1], acc_type);
      ARROW_ASSIGN_OR_RAISE(merge, BindLambda(lambda, name, {acc_type, element(inputs[0])}, 2, scope, hook));
    }
    if (merge->type->id() == arrow::Type::NA) merge = expr::MakeLiteral(arrow::MakeNullScalar(acc_type));
    if (!merge->type->Equals(*acc_type)) {
      return UserError("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: "
                       "the merge lambda must return the type of the zero value \"{}\", however \"{}\" has the type "
                       "\"{}\" (cast the zero value, e.g. CAST(0 AS {}))",
                       e.sql_text, types::ToDDL(*acc_type), lambda.args[0]->sql_text, types::ToDDL(*merge->type),
                       types::ToDDL(*merge->type));
    }
  }
  std::vector<ExprPtr> bodies = {merge};
  TypePtr result = acc_type;
  if (e.args.size() == 4) {
    if (e.args[3]->type != ExprType::kLambda) {
      return UserError("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] argument 4 of aggregate must be a lambda function");
    }
    ARROW_ASSIGN_OR_RAISE(auto finish, BindLambda(*e.args[3], name, {acc_type}, 1, scope, hook));
    result = finish->type;
    bodies.push_back(finish);
  }
  return expr::MakeHigherOrder(name, result, inputs, std::move(bodies), slot);
}

Result<ExprPtr> Binder::BindLambda(const AstExpr& l, const std::string& fn, const std::vector<TypePtr>& param_types,
                                   size_t min_params, const Scope& scope, const Hook* hook) {
  size_t n = l.lambda_params.size();
  if (n < min_params || n > param_types.size()) {
    return UserError("[INVALID_LAMBDA_FUNCTION_CALL.NUM_ARGS_MISMATCH] Invalid lambda function call. A higher order "
                     "function expects {} arguments, but got {} (in {} at {})",
                     min_params == param_types.size() ? fmt::format("{}", min_params)
                                                      : fmt::format("{} or {}", min_params, param_types.size()),
                     n, fn, Where(l.loc));
  }
  std::set<std::string> seen;
  for (const auto& p : l.lambda_params) {
    if (!seen.insert(Lower(p)).second) {
      return UserError("[INVALID_LAMBDA_FUNCTION_CALL.DUPLICATE_ARG_NAMES] Invalid lambda function call. The lambda "
                       "function has duplicate arguments `{}` at {}", p, Where(l.loc));
    }
  }
  size_t saved = lambda_vars_.size();
  int slot = static_cast<int>(saved);
  for (size_t i = 0; i < n; ++i) {
    lambda_vars_.push_back({Lower(l.lambda_params[i]), param_types[i], slot + static_cast<int>(i)});
  }
  auto body = Bind(*l.args[0], scope, hook);
  lambda_vars_.resize(saved);
  return body;
}

}  // namespace

namespace {

Scope Requalify(Scope s, const std::string& alias) {
  for (auto& c : s.cols) c.qualifier = Lower(alias);
  return s;
}

Result<std::pair<LogicalPtr, Scope>> Rename(LogicalPtr plan, Scope scope, const std::vector<std::string>& names,
                                            const sql::Location& loc) {
  if (names.empty()) return std::make_pair(plan, scope);
  if (names.size() != scope.cols.size()) {
    return UserError("[ASSIGNMENT_ARITY_MISMATCH] {} column aliases given for {} columns at {}", names.size(),
                     scope.cols.size(), Where(loc));
  }
  std::vector<ExprPtr> exprs;
  for (size_t i = 0; i < names.size(); ++i) {
    exprs.push_back(ColumnOf(scope, static_cast<int>(i)));
    scope.cols[i].name = names[i];
  }
  return std::make_pair(MakeProject(plan, std::move(exprs), names), scope);
}

LogicalPtr ScanOf(std::shared_ptr<ScanSource> src) {
  auto n = MakeNode(LogicalKind::kScan, {}, src->schema);
  n->scan = std::move(src);
  return n;
}

// Conjuncts of an AST predicate.
void SplitAnd(const AstExprPtr& e, std::vector<AstExprPtr>* out) {
  if (e->type == ExprType::kBinary && Lower(e->op) == "and") {
    SplitAnd(e->args[0], out);
    SplitAnd(e->args[1], out);
  } else {
    out->push_back(e);
  }
}

}  // namespace

Result<std::pair<LogicalPtr, Scope>> Binder::BindValues(const sql::TableRef& t) {
  const auto& rows = t.values_rows;
  if (rows.empty()) return UserError("VALUES needs at least one row");
  size_t ncols = rows[0].size();
  std::vector<std::vector<ExprPtr>> bound;
  Scope empty;
  for (const auto& r : rows) {
    if (r.size() != ncols) {
      return UserError("[INVALID_INLINE_TABLE.NUM_COLUMNS_MISMATCH] VALUES rows have {} and {} columns at {}", ncols,
                       r.size(), Where(t.loc));
    }
    std::vector<ExprPtr> br;
    for (const auto& e : r) {
      ARROW_ASSIGN_OR_RAISE(auto b, Bind(*e, empty));
      br.push_back(b);
    }
    bound.push_back(std::move(br));
  }
  arrow::FieldVector fields;
  arrow::ArrayVector cols;
  for (size_t c = 0; c < ncols; ++c) {
    std::vector<ExprPtr> col;
    for (auto& r : bound) col.push_back(r[c]);
    ARROW_ASSIGN_OR_RAISE(auto type, Common(col, t.loc));
    if (type->id() == arrow::Type::NA) type = arrow::null();
    // One-row arrays concatenated: builders cannot append scalars holding
    // NULL-typed (VOID) fields, e.g. named_struct('v', NULL).
    arrow::ArrayVector pieces;
    bool nullable = false;
    for (auto& r : bound) {
      auto e = ImplicitCast(r[c], type);
      ARROW_ASSIGN_OR_RAISE(auto s, expr::EvaluateConstant(*e, ctx_));
      if (!s->is_valid) nullable = true;
      if (!s->type->Equals(*type)) {
        ARROW_ASSIGN_OR_RAISE(auto cs, expr::Cast(arrow::Datum(s), type, expr::CastMode::kAnsi, ctx_));
        s = cs.scalar();
      }
      ARROW_ASSIGN_OR_RAISE(auto one, arrow::MakeArrayFromScalar(*s, 1, ctx_.pool));
      pieces.push_back(std::move(one));
    }
    std::shared_ptr<arrow::Array> arr;
    if (pieces.empty()) {
      ARROW_ASSIGN_OR_RAISE(arr, arrow::MakeEmptyArray(type, ctx_.pool));
    } else {
      ARROW_ASSIGN_OR_RAISE(arr, arrow::Concatenate(pieces, ctx_.pool));
    }
    cols.push_back(arr);
    std::string name = c < t.column_aliases.size() ? t.column_aliases[c] : fmt::format("col{}", c + 1);
    fields.push_back(arrow::field(name, type, nullable));
  }
  if (!t.column_aliases.empty() && t.column_aliases.size() != ncols) {
    return UserError("[ASSIGNMENT_ARITY_MISMATCH] {} column aliases given for {} columns at {}", t.column_aliases.size(), ncols, Where(t.loc));
  }
  auto schema = arrow::schema(fields);
  auto src = std::make_shared<ScanSource>();
  src->description = fmt::format("LocalTableScan [{} rows]", rows.size());
  src->schema = schema;
  src->batches = {arrow::RecordBatch::Make(schema, static_cast<int64_t>(rows.size()), cols)};
  return std::make_pair(ScanOf(src), Scope::FromSchema(*schema, Lower(t.alias)));
}

Result<std::pair<LogicalPtr, Scope>> Binder::BindTableRef(const sql::TableRef& t) {
  switch (t.type) {
    case sql::TableRefType::kTable: {
      const auto& parts = t.name_parts;
      if (t.stream) {
        if (!session_->stream_resolver) {
          return Unsupported("streaming reads (FROM STREAM) need a streaming statement (CREATE STREAMING TABLE ... AS, "
                             "`lakestream run`) at {}", Where(t.loc));
        }
        if (parts.size() != 2) {
          return UserError("FROM STREAM expects a source such as delta.`/path`, read_kafka(...) or read_files(...) at {}",
                           Where(t.loc));
        }
        std::map<std::string, std::shared_ptr<arrow::Scalar>> named;
        std::vector<std::shared_ptr<arrow::Scalar>> positional = {std::make_shared<arrow::StringScalar>(parts[1])};
        auto kind = Lower(parts[0]);
        if (kind == "parquet" || kind == "csv" || kind == "json" || kind == "text") {
          named["format"] = std::make_shared<arrow::StringScalar>(kind);
          kind = "files";
        }
        auto r = session_->stream_resolver(kind, positional, named, t);
        if (!r.ok()) return r.status().WithMessage(fmt::format("{} (at {})", r.status().message(), Where(t.loc)));
        auto src = *r;
        auto scope = Scope::FromSchema(*src->schema, Lower(t.alias.empty() ? parts[1] : t.alias));
        return Rename(ScanOf(src), scope, t.column_aliases, t.loc);
      }
      if (parts.size() == 1) {
        auto name = Lower(parts[0]);
        for (auto it = ctes_.rbegin(); it != ctes_.rend(); ++it) {
          auto f = it->find(name);
          if (f == it->end()) continue;
          // A CTE body sees the CTEs defined before it.
          Binder sub(session_);
          sub.ctes_.assign(ctes_.begin(), it.base());
          auto visible = *it;
          visible.erase(name);
          sub.ctes_.push_back(visible);
          ARROW_ASSIGN_OR_RAISE(auto bound, sub.BindQuery(*f->second->query));
          ARROW_ASSIGN_OR_RAISE(bound, Rename(bound.first, bound.second, f->second->column_aliases, t.loc));
          auto alias = t.alias.empty() ? parts[0] : t.alias;
          return Rename(bound.first, Requalify(bound.second, alias), t.column_aliases, t.loc);
        }
        auto v = session_->views().find(name);
        if (v != session_->views().end()) {
          Binder sub(session_);
          ARROW_ASSIGN_OR_RAISE(auto bound, sub.BindQuery(*v->second.query));
          ARROW_ASSIGN_OR_RAISE(bound, Rename(bound.first, bound.second, v->second.columns, t.loc));
          auto alias = t.alias.empty() ? parts[0] : t.alias;
          return Rename(bound.first, Requalify(bound.second, alias), t.column_aliases, t.loc);
        }
      }
      if (parts.size() == 2) {
        auto kind = Lower(parts[0]);
        std::map<std::string, std::shared_ptr<arrow::Scalar>> named;
        std::vector<std::shared_ptr<arrow::Scalar>> positional = {std::make_shared<arrow::StringScalar>(parts[1])};
        std::string fn;
        if (kind == "delta") {
          fn = "delta";
          if (t.version_as_of) named["versionAsOf"] = std::make_shared<arrow::Int64Scalar>(*t.version_as_of);
          if (t.timestamp_as_of) named["timestampAsOf"] = std::make_shared<arrow::StringScalar>(*t.timestamp_as_of);
        } else if (kind == "parquet" || kind == "csv" || kind == "json" || kind == "text") {
          fn = "read_files";
          named["format"] = std::make_shared<arrow::StringScalar>(kind);
        } else if (TableSourceRegistry().count(kind)) {
          fn = kind;  // sources registered by other layers, e.g. memory.`name`
        }
        if (!fn.empty()) {
          ARROW_ASSIGN_OR_RAISE(auto src, MakeTableFunctionSource(session_, fn, positional, named, t.loc));
          auto alias = t.alias.empty() ? parts[1] : t.alias;
          auto scope = Scope::FromSchema(*src->schema, Lower(t.alias));
          return Rename(ScanOf(src), scope, t.column_aliases, t.loc);
        }
      }
      return UserError("[TABLE_OR_VIEW_NOT_FOUND] The table or view `{}` cannot be found at {}", fmt::join(parts, "`.`"),
                       Where(t.loc));
    }
    case sql::TableRefType::kSubquery: {
      Binder sub(session_);
      sub.ctes_ = ctes_;
      ARROW_ASSIGN_OR_RAISE(auto bound, sub.BindQuery(*t.subquery));
      if (t.watermark_column) ARROW_RETURN_NOT_OK(BindSubqueryWatermark(t, bound.first));
      return Rename(bound.first, Requalify(bound.second, t.alias), t.column_aliases, t.loc);
    }
    case sql::TableRefType::kTableFunction: {
      std::vector<std::shared_ptr<arrow::Scalar>> positional;
      std::map<std::string, std::shared_ptr<arrow::Scalar>> named;
      Scope empty;
      for (const auto& a : t.args) {
        const AstExpr& v = a->type == ExprType::kNamedArgument ? *a->args[0] : *a;
        ARROW_ASSIGN_OR_RAISE(auto b, Bind(v, empty));
        ARROW_ASSIGN_OR_RAISE(auto s, expr::EvaluateConstant(*b, ctx_));
        if (a->type == ExprType::kNamedArgument) {
          named[a->name] = s;
        } else {
          positional.push_back(s);
        }
      }
      auto name = t.name_parts.empty() ? std::string() : Lower(t.name_parts.back());
      if (t.stream) {
        if (!session_->stream_resolver) {
          return Unsupported("streaming reads (FROM STREAM) need a streaming statement (CREATE STREAMING TABLE ... AS, "
                             "`lakestream run`) at {}", Where(t.loc));
        }
        // read_kafka -> kafka, read_files -> files, read_delta -> delta, read_rate -> rate.
        auto kind = name.rfind("read_", 0) == 0 ? name.substr(5) : name;
        auto r = session_->stream_resolver(kind, positional, named, t);
        if (!r.ok()) return r.status().WithMessage(fmt::format("{} (at {})", r.status().message(), Where(t.loc)));
        auto src = *r;
        auto scope = Scope::FromSchema(*src->schema, Lower(t.alias));
        return Rename(ScanOf(src), scope, t.column_aliases, t.loc);
      }
      ARROW_ASSIGN_OR_RAISE(auto src, MakeTableFunctionSource(session_, name, positional, named, t.loc));
      auto scope = Scope::FromSchema(*src->schema, Lower(t.alias));
      return Rename(ScanOf(src), scope, t.column_aliases, t.loc);
    }
    case sql::TableRefType::kValues:
      return BindValues(t);
    case sql::TableRefType::kJoin: {
      ARROW_ASSIGN_OR_RAISE(auto left, BindTableRef(*t.left));
      ARROW_ASSIGN_OR_RAISE(auto right, BindTableRef(*t.right));
      Scope both = left.second;
      for (const auto& c : right.second.cols) both.cols.push_back(c);
      auto jt = t.join_type;
      std::vector<std::string> using_cols = t.using_columns;
      if (t.natural) {
        for (const auto& l : left.second.cols) {
          if (right.second.Find("", l.name) >= 0) using_cols.push_back(l.name);
        }
      }
      ExprPtr cond;
      std::vector<std::pair<int, int>> using_pairs;
      if (!using_cols.empty()) {
        for (const auto& u : using_cols) {
          int li = left.second.Find("", u), ri = right.second.Find("", u);
          if (li < 0 || ri < 0) {
            return UserError("[UNRESOLVED_USING_COLUMN_FOR_JOIN] USING column `{}` cannot be resolved on the {} side of the join at {}",
                             u, li < 0 ? "left" : "right", Where(t.loc));
          }
          int nl = static_cast<int>(left.second.cols.size());
          ARROW_ASSIGN_OR_RAISE(auto eq, Call("equal", {ColumnOf(both, li), ColumnOf(both, nl + ri)}, t.loc));
          cond = cond ? expr::MakeSpecial(ExprKind::kAnd, arrow::boolean(), {cond, eq}) : eq;
          using_pairs.emplace_back(li, ri);
        }
      } else if (t.condition) {
        ARROW_ASSIGN_OR_RAISE(cond, Bind(*t.condition, both));
        ARROW_ASSIGN_OR_RAISE(cond, Boolean(cond, t.condition->loc, "the join condition"));
      }
      if (jt == sql::JoinType::kCross && cond) jt = sql::JoinType::kInner;
      bool semi = jt == sql::JoinType::kLeftSemi || jt == sql::JoinType::kLeftAnti;
      Scope out = semi ? left.second : both;
      if (jt == sql::JoinType::kLeft || jt == sql::JoinType::kFull) {
        for (size_t i = left.second.cols.size(); i < out.cols.size(); ++i) out.cols[i].nullable = true;
      }
      if (jt == sql::JoinType::kRight || jt == sql::JoinType::kFull) {
        for (size_t i = 0; i < left.second.cols.size(); ++i) out.cols[i].nullable = true;
      }
      auto node = MakeNode(LogicalKind::kJoin, {left.first, right.first}, out.ToSchema());
      node->join_type = jt;
      node->predicate = cond;
      if (using_pairs.empty() || semi) return std::make_pair(node, out);
      // USING / NATURAL: the join columns once (coalesced for outer sides), then the rest.
      std::vector<ExprPtr> exprs;
      std::vector<std::string> names;
      Scope proj;
      int nl = static_cast<int>(left.second.cols.size());
      std::set<int> used_l, used_r;
      for (auto [li, ri] : using_pairs) {
        ExprPtr e;
        if (jt == sql::JoinType::kRight) {
          e = ColumnOf(out, nl + ri);
        } else if (jt == sql::JoinType::kFull) {
          ARROW_ASSIGN_OR_RAISE(auto type, Common({ColumnOf(out, li), ColumnOf(out, nl + ri)}, t.loc));
          e = expr::MakeSpecial(ExprKind::kCoalesce, type,
                                {ImplicitCast(ColumnOf(out, li), type), ImplicitCast(ColumnOf(out, nl + ri), type)});
        } else {
          e = ColumnOf(out, li);
        }
        exprs.push_back(e);
        names.push_back(left.second.cols[li].name);
        proj.cols.push_back({"", left.second.cols[li].name, e->type, true});
        used_l.insert(li);
        used_r.insert(ri);
      }
      for (int i = 0; i < nl; ++i) {
        if (used_l.count(i)) continue;
        exprs.push_back(ColumnOf(out, i));
        names.push_back(out.cols[i].name);
        proj.cols.push_back(out.cols[i]);
      }
      for (int i = 0; i < static_cast<int>(right.second.cols.size()); ++i) {
        if (used_r.count(i)) continue;
        exprs.push_back(ColumnOf(out, nl + i));
        names.push_back(out.cols[nl + i].name);
        proj.cols.push_back(out.cols[nl + i]);
      }
      // Qualified references to USING columns (t1.k) still resolve: keep qualifiers
      // of the left side on the merged columns.
      for (size_t i = 0; i < using_pairs.size(); ++i) proj.cols[i].qualifier = left.second.cols[using_pairs[i].first].qualifier;
      return std::make_pair(MakeProject(node, exprs, names), proj);
    }
    case sql::TableRefType::kLateralView: {
      ARROW_ASSIGN_OR_RAISE(auto input, BindTableRef(*t.left));
      return BindLateral(t, input.first, input.second);
    }
  }
  return InternalError("unknown table reference");
}

Result<std::pair<LogicalPtr, Scope>> Binder::BindLateral(const sql::TableRef& t, LogicalPtr input_plan,
                                                         const Scope& input_scope) {
  std::pair<LogicalPtr, Scope> input{input_plan, input_scope};
  {
    {
      const auto& g = *t.generator;
      auto gname = Lower(g.name);
      if (g.type != ExprType::kFunction || (gname != "explode" && gname != "posexplode" && gname != "explode_outer" &&
                                            gname != "posexplode_outer")) {
        return Unsupported("LATERAL VIEW supports explode and posexplode, not {} at {}", g.name, Where(g.loc));
      }
      if (g.args.size() != 1) return UserError("{} takes one argument", gname);
      ARROW_ASSIGN_OR_RAISE(auto arg, Bind(*g.args[0], input.second));
      bool with_pos = gname.rfind("pos", 0) == 0;
      bool outer = t.outer || gname.find("_outer") != std::string::npos;
      bool is_map = arg->type->id() == arrow::Type::MAP;
      if (!is_map && arg->type->id() != arrow::Type::LIST) {
        return UserError("[DATATYPE_MISMATCH] {} expects an ARRAY or MAP, not {}", gname, types::ToDDL(*arg->type));
      }
      std::vector<std::string> names = t.column_aliases;
      std::vector<std::string> defaults;
      if (with_pos) defaults.push_back("pos");
      if (is_map) {
        defaults.push_back("key");
        defaults.push_back("value");
      } else {
        defaults.push_back("col");
      }
      if (names.empty()) names = defaults;
      if (names.size() != defaults.size()) {
        return UserError("LATERAL VIEW {} produces {} columns but {} aliases were given", gname, defaults.size(), names.size());
      }
      auto node = MakeNode(LogicalKind::kGenerate, {input.first}, nullptr);
      node->exprs = {arg};
      node->outer = outer;
      node->with_position = with_pos;
      Scope out = input.second;
      exec::GenerateNode probe(std::make_shared<exec::ScanNode>(input.first->schema, std::vector<exec::ScanTask>{}, ""),
                               arg, outer, with_pos, names);
      node->schema = probe.schema();
      for (size_t i = input.second.cols.size(); i < static_cast<size_t>(node->schema->num_fields()); ++i) {
        auto f = node->schema->field(static_cast<int>(i));
        out.cols.push_back({Lower(t.alias), f->name(), f->type(), true});
      }
      return std::make_pair(node, out);
    }
  }
}

// WHERE: conjuncts with [NOT] EXISTS / [NOT] IN (subquery) become semi / anti
// joins (correlated predicates move into the join condition); the rest is a filter.
Result<std::pair<LogicalPtr, Scope>> Binder::ApplyWhere(LogicalPtr plan, const Scope& scope, const AstExpr& where) {
  std::vector<AstExprPtr> conjuncts;
  SplitAnd(std::make_shared<AstExpr>(where), &conjuncts);
  ExprPtr filter;
  for (auto c : conjuncts) {
    // NOT EXISTS / NOT (x IN (subquery)) arrive as a NOT around the subquery.
    if (c->type == ExprType::kUnary && Lower(c->op) == "not" &&
        (c->args[0]->type == ExprType::kExists || c->args[0]->type == ExprType::kInSubquery)) {
      auto flipped = std::make_shared<AstExpr>(*c->args[0]);
      flipped->negated = !flipped->negated;
      c = flipped;
    }
    bool is_sub = (c->type == ExprType::kExists || c->type == ExprType::kInSubquery);
    if (is_sub) {
      const auto& q = *c->subquery;
      bool simple = q.select && q.with.empty() && q.order_by.empty() && !q.limit && q.select->group_by.empty() &&
                    q.select->grouping == sql::GroupingKind::kNone && !q.select->having && !q.select->from.empty();
      if (simple) {
        // Bind the subquery's FROM, and its WHERE conjuncts: those that bind on
        // the inner scope alone filter the inner side; the rest (correlated)
        // join the two sides.
        Binder sub(session_);
        sub.ctes_ = ctes_;
        LogicalPtr inner;
        Scope inner_scope;
        for (const auto& f : q.select->from) {
          ARROW_ASSIGN_OR_RAISE(auto b, sub.BindTableRef(*f));
          if (!inner) {
            inner = b.first;
            inner_scope = b.second;
          } else {
            Scope both = inner_scope;
            for (const auto& col : b.second.cols) both.cols.push_back(col);
            auto j = MakeNode(LogicalKind::kJoin, {inner, b.first}, both.ToSchema());
            j->join_type = sql::JoinType::kCross;
            inner = j;
            inner_scope = both;
          }
        }
        Scope combined = scope;  // outer ++ inner
        for (const auto& col : inner_scope.cols) combined.cols.push_back(col);
        int nouter = static_cast<int>(scope.cols.size());
        std::vector<int> shift(inner_scope.cols.size());
        for (size_t i = 0; i < shift.size(); ++i) shift[i] = nouter + static_cast<int>(i);
        ExprPtr corr;
        if (q.select->where) {
          std::vector<AstExprPtr> inner_conj;
          SplitAnd(q.select->where, &inner_conj);
          ExprPtr inner_filter;
          for (const auto& ic : inner_conj) {
            auto local = sub.Bind(*ic, inner_scope);
            if (local.ok()) {
              inner_filter = inner_filter ? expr::MakeSpecial(ExprKind::kAnd, arrow::boolean(), {inner_filter, *local}) : *local;
              continue;
            }
            ARROW_ASSIGN_OR_RAISE(auto b, sub.Bind(*ic, combined));
            corr = corr ? expr::MakeSpecial(ExprKind::kAnd, arrow::boolean(), {corr, b}) : b;
          }
          if (inner_filter) inner = MakeFilter(inner, inner_filter);
        }
        ExprPtr cond = corr;
        bool anti = c->negated;
        if (c->type == ExprType::kInSubquery) {
          // (a, b) IN (SELECT x, y ...): one equality per column.
          auto lhs_parts = RowParts(c->args[0]);
          if (q.select->items.size() != lhs_parts.size()) {
            return UserError("[INVALID_SUBQUERY_EXPRESSION] IN subquery must return {} column(s), as many as the "
                             "left side has, not {} at {}", lhs_parts.size(), q.select->items.size(), Where(c->loc));
          }
          for (size_t k = 0; k < lhs_parts.size(); ++k) {
            ARROW_ASSIGN_OR_RAISE(auto lhs, Bind(*lhs_parts[k], scope));
            ARROW_ASSIGN_OR_RAISE(auto rhs_inner, sub.Bind(*q.select->items[k].expr, inner_scope));
            auto rhs = expr::RemapColumns(rhs_inner, shift);
            ARROW_ASSIGN_OR_RAISE(auto eq, Call("equal", {lhs, rhs}, c->loc));
            if (anti) {
              // NOT IN is null-aware: a NULL on either side means "unknown", which excludes the row.
              ARROW_ASSIGN_OR_RAISE(auto ln, Call("is_null", {lhs}, c->loc));
              ARROW_ASSIGN_OR_RAISE(auto rn, Call("is_null", {rhs}, c->loc));
              eq = expr::MakeSpecial(ExprKind::kOr, arrow::boolean(),
                                     {expr::MakeSpecial(ExprKind::kOr, arrow::boolean(), {eq, ln}), rn});
            }
            cond = cond ? expr::MakeSpecial(ExprKind::kAnd, arrow::boolean(), {cond, eq}) : eq;
          }
        }
        auto j = MakeNode(LogicalKind::kJoin, {plan, inner}, scope.ToSchema());
        j->join_type = anti ? sql::JoinType::kLeftAnti : sql::JoinType::kLeftSemi;
        j->predicate = cond;
        plan = j;
        continue;
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto b, Bind(*c, scope));
    ARROW_ASSIGN_OR_RAISE(b, Boolean(b, c->loc, "the WHERE condition"));
    filter = filter ? expr::MakeSpecial(ExprKind::kAnd, arrow::boolean(), {filter, b}) : b;
  }
  if (filter) plan = MakeFilter(plan, filter);
  return std::make_pair(plan, scope);
}

namespace {

// Collects aggregate calls (not inside window specs' own function) in order of appearance.
void CollectAggregates(const AstExprPtr& e, std::vector<AstExprPtr>* out) {
  if (!e || e->type == ExprType::kLambda) return;
  if (e->type == ExprType::kScalarSubquery || e->type == ExprType::kExists) return;
  if (e->type == ExprType::kFunction && !IsWindowCall(*e) && IsAggregateName(Lower(e->name))) {
    out->push_back(e);
    return;
  }
  for (const auto& a : e->args) CollectAggregates(a, out);
  CollectAggregates(e->operand, out);
  for (const auto& [w, t] : e->whens) {
    CollectAggregates(w, out);
    CollectAggregates(t, out);
  }
  CollectAggregates(e->else_expr, out);
  if (e->over) {
    for (const auto& p : e->over->partition_by) CollectAggregates(p, out);
    for (const auto& o : e->over->order_by) CollectAggregates(o.expr, out);
  }
}

void CollectWindows(const AstExprPtr& e, std::vector<AstExprPtr>* out) {
  if (!e) return;
  if (IsWindowCall(*e)) {
    out->push_back(e);
    return;
  }
  for (const auto& a : e->args) CollectWindows(a, out);
  CollectWindows(e->operand, out);
  for (const auto& [w, t] : e->whens) {
    CollectWindows(w, out);
    CollectWindows(t, out);
  }
  CollectWindows(e->else_expr, out);
}

// Identity of an AST expression for matching GROUP BY keys and repeated calls.
std::string Key(const AstExpr& e) { return Lower(e.sql_text); }

}  // namespace

Status Binder::RewriteCorrelatedSubquery(const AstExprPtr& sub, LogicalPtr* plan, Scope* scope) {
  const auto& q = *sub->subquery;
  bool simple = q.select && q.with.empty() && q.order_by.empty() && !q.limit && q.select->items.size() == 1 &&
                q.select->group_by.empty() && q.select->grouping == sql::GroupingKind::kNone && !q.select->having &&
                !q.select->from.empty() && q.select->where;
  if (!simple) return Status::OK();
  {
    Binder probe(session_);
    probe.ctes_ = ctes_;
    if (probe.BindQuery(q).ok()) return Status::OK();  // uncorrelated: run once when bound
  }
  // The inner FROM and its scope.
  Binder inner(session_);
  inner.ctes_ = ctes_;
  Scope inner_scope;
  for (const auto& f : q.select->from) {
    ARROW_ASSIGN_OR_RAISE(auto b, inner.BindTableRef(*f));
    for (const auto& c : b.second.cols) inner_scope.cols.push_back(c);
  }
  std::vector<AstExprPtr> conj, local, inner_keys, outer_keys;
  SplitAnd(q.select->where, &conj);
  for (const auto& c : conj) {
    if (inner.Bind(*c, inner_scope).ok()) {
      local.push_back(c);
      continue;
    }
    if (c->type != ExprType::kBinary || (c->op != "=" && c->op != "==")) {
      return Unsupported("correlated scalar subqueries support only equality correlations, not `{}` at {}", c->sql_text,
                         Where(c->loc));
    }
    auto a = c->args[0], b = c->args[1];
    if (inner.Bind(*a, inner_scope).ok() && Bind(*b, *scope).ok()) {
      inner_keys.push_back(a);
      outer_keys.push_back(b);
    } else if (inner.Bind(*b, inner_scope).ok() && Bind(*a, *scope).ok()) {
      inner_keys.push_back(b);
      outer_keys.push_back(a);
    } else {
      return Status::OK();  // let the ordinary binding report what cannot be resolved
    }
  }
  // SELECT k1 AS __k0, ..., <item> AS __v FROM ... WHERE <local> [GROUP BY k...]
  auto sel = std::make_shared<sql::Select>(*q.select);
  sel->items.clear();
  for (size_t i = 0; i < inner_keys.size(); ++i) sel->items.push_back({inner_keys[i], fmt::format("__k{}", i), {}});
  sel->items.push_back({q.select->items[0].expr, "__v", {}});
  sel->where = nullptr;
  for (const auto& l : local) {
    if (!sel->where) {
      sel->where = l;
    } else {
      auto both = std::make_shared<AstExpr>();
      both->type = ExprType::kBinary;
      both->op = "AND";
      both->args = {sel->where, l};
      both->loc = l->loc;
      sel->where = both;
    }
  }
  bool aggregated = ContainsAggregate(*q.select->items[0].expr);
  if (aggregated) {
    sel->grouping = sql::GroupingKind::kPlain;
    sel->group_by = inner_keys;
  }
  sql::Query rq;
  rq.select = sel;
  ARROW_ASSIGN_OR_RAISE(auto right, inner.BindQuery(rq));
  int nl = static_cast<int>(scope->cols.size());
  Scope both = *scope;
  for (auto c : right.second.cols) {
    c.qualifier = "__subquery";
    c.nullable = true;
    both.cols.push_back(c);
  }
  ExprPtr cond;
  for (size_t i = 0; i < outer_keys.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto o, Bind(*outer_keys[i], *scope));
    ARROW_ASSIGN_OR_RAISE(auto eq, Call("equal", {o, ColumnOf(both, nl + static_cast<int>(i))}, sub->loc));
    cond = cond ? expr::MakeSpecial(ExprKind::kAnd, arrow::boolean(), {cond, eq}) : eq;
  }
  auto j = MakeNode(LogicalKind::kJoin, {*plan, right.first}, both.ToSchema());
  j->join_type = sql::JoinType::kLeft;
  j->predicate = cond;
  *plan = j;
  *scope = both;
  ExprPtr value = ColumnOf(both, static_cast<int>(both.cols.size()) - 1);
  // A count over no matching rows is 0, not NULL (Spark's "count bug" rule).
  const auto& item = *q.select->items[0].expr;
  if (item.type == ExprType::kFunction && Lower(item.name) == "count") {
    value = expr::MakeSpecial(ExprKind::kCoalesce, value->type,
                              {value, ImplicitCast(expr::MakeLiteral(std::make_shared<arrow::Int64Scalar>(0)), value->type)});
  }
  subquery_values_[sub.get()] = value;
  return Status::OK();
}

Result<std::pair<LogicalPtr, Scope>> Binder::BindSelect(const sql::Select& s, const std::vector<sql::OrderItem>* order,
                                                        std::vector<SortKey>* sort_keys, int* hidden) {
  // FROM
  LogicalPtr plan;
  Scope scope;
  if (s.from.empty()) {
    auto schema = arrow::schema({});
    auto src = std::make_shared<ScanSource>();
    src->description = "OneRowRelation";
    src->schema = schema;
    src->batches = {arrow::RecordBatch::Make(schema, 1, arrow::ArrayVector{})};
    plan = ScanOf(src);
  }
  for (const auto& f : s.from) {
    if (plan && f->lateral && f->type == sql::TableRefType::kTableFunction && !f->name_parts.empty()) {
      // FROM t, LATERAL explode(t.arr) AS x(e): a generator over the rows so far.
      auto gname = Lower(f->name_parts.back());
      if (gname == "explode" || gname == "posexplode" || gname == "explode_outer" || gname == "posexplode_outer") {
        auto lv = std::make_shared<sql::TableRef>();
        lv->type = sql::TableRefType::kLateralView;
        lv->loc = f->loc;
        lv->alias = f->alias;
        lv->column_aliases = f->column_aliases;
        auto g = std::make_shared<AstExpr>();
        g->type = ExprType::kFunction;
        g->name = gname;
        g->args = f->args;
        g->loc = f->loc;
        lv->generator = g;
        ARROW_ASSIGN_OR_RAISE(auto gen, BindLateral(*lv, plan, scope));
        plan = gen.first;
        scope = gen.second;
        continue;
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto b, BindTableRef(*f));
    if (!plan) {
      plan = b.first;
      scope = b.second;
    } else {
      Scope both = scope;
      for (const auto& c : b.second.cols) both.cols.push_back(c);
      auto j = MakeNode(LogicalKind::kJoin, {plan, b.first}, both.ToSchema());
      j->join_type = sql::JoinType::kCross;
      plan = j;
      scope = both;
    }
  }
  // x IN (SELECT agg(...) FROM ... WHERE ...) without GROUP BY: the subquery
  // has exactly one row, so it is x = (scalar subquery), which the correlated
  // scalar subquery rewrite below handles.
  AstExprPtr where = InToScalarComparison(s.where);
  {
    // Correlated scalar subqueries of WHERE (and of the select list when the
    // query does not aggregate) become left joins with the subquery grouped by
    // its correlation keys, as Spark's RewriteCorrelatedScalarSubquery does.
    std::vector<AstExprPtr> subs;
    std::function<void(const AstExprPtr&)> collect = [&](const AstExprPtr& e) {
      if (!e) return;
      if (e->type == ExprType::kScalarSubquery) {
        subs.push_back(e);
        return;
      }
      if (e->type == ExprType::kExists || e->type == ExprType::kInSubquery) {
        for (const auto& a : e->args) collect(a);
        return;
      }
      for (const auto& a : e->args) collect(a);
      collect(e->operand);
      for (const auto& [w, t] : e->whens) {
        collect(w);
        collect(t);
      }
      collect(e->else_expr);
    };
    collect(where);
    bool aggregates = s.grouping != sql::GroupingKind::kNone || s.having;
    for (const auto& it : s.items) {
      if (it.expr && ContainsAggregate(*it.expr)) aggregates = true;
    }
    if (!aggregates) {
      for (const auto& it : s.items) collect(it.expr);
    }
    for (const auto& sub : subs) ARROW_RETURN_NOT_OK(RewriteCorrelatedSubquery(sub, &plan, &scope));
  }
  if (where) {
    if (ContainsAggregate(*where)) {
      return UserError("[INVALID_WHERE_CONDITION] aggregate functions are not allowed in WHERE at {}", Where(where->loc));
    }
    ARROW_ASSIGN_OR_RAISE(auto w, ApplyWhere(plan, scope, *where));
    plan = w.first;
  }

  // Expand * in the select list.
  struct Item {
    AstExprPtr ast;  // null for expanded star columns
    ExprPtr bound_star;
    std::string name;
    bool has_alias = false;
  };
  std::vector<Item> items;
  for (const auto& it : s.items) {
    if (it.expr->type == ExprType::kStar) {
      std::string q = it.expr->name_parts.empty() ? "" : Lower(it.expr->name_parts.back());
      bool any = false;
      for (size_t i = 0; i < scope.cols.size(); ++i) {
        if (!q.empty() && scope.cols[i].qualifier != q) continue;
        if (scope.cols[i].qualifier == "__subquery" || scope.cols[i].qualifier == "__grouping") continue;
        items.push_back({nullptr, ColumnOf(scope, static_cast<int>(i)), scope.cols[i].name, true});
        any = true;
      }
      if (!any && !q.empty()) return UserError("[CANNOT_RESOLVE_STAR_EXPAND] cannot resolve {}.* at {}", q, Where(it.expr->loc));
      continue;
    }
    std::string name = it.alias.empty() ? (it.expr->type == ExprType::kColumn ? it.expr->name_parts.back() : it.expr->sql_text)
                                        : it.alias;
    items.push_back({it.expr, nullptr, name, !it.alias.empty()});
  }

  // GROUP BY ALL: every select item without aggregates is a key.
  std::vector<AstExprPtr> group_by = s.group_by;
  if (s.grouping == sql::GroupingKind::kGroupingSets) {
    // The keys are every expression named in a set (in order of appearance).
    std::set<std::string> seen;
    for (const auto& g : group_by) seen.insert(Key(*g));
    for (const auto& set : s.grouping_sets) {
      for (const auto& g : set) {
        if (seen.insert(Key(*g)).second) group_by.push_back(g);
      }
    }
  }
  bool grouped = s.grouping != sql::GroupingKind::kNone;
  if (s.grouping == sql::GroupingKind::kAll) {
    group_by.clear();
    for (const auto& it : items) {
      if (it.ast && !ContainsAggregate(*it.ast)) group_by.push_back(it.ast);
    }
  }
  // GROUP BY 1 / GROUP BY alias refer to select items, as in Spark.
  for (auto& g : group_by) {
    if (g->type == ExprType::kLiteral && g->literal_kind == sql::LiteralKind::kInteger) {
      int ord = std::atoi(g->text.c_str());
      if (ord < 1 || ord > static_cast<int>(items.size()) || !items[ord - 1].ast) {
        return UserError("[GROUP_BY_POS_OUT_OF_RANGE] GROUP BY position {} is not in select list (valid range is [1, {}]) at {}",
                         ord, items.size(), Where(g->loc));
      }
      g = items[ord - 1].ast;
    } else if (g->type == ExprType::kColumn && g->name_parts.size() == 1 && scope.Find("", g->name_parts[0]) == -1) {
      for (const auto& it : items) {
        if (it.has_alias && it.ast && Lower(it.name) == Lower(g->name_parts[0])) g = it.ast;
      }
    }
  }

  std::vector<AstExprPtr> aggs;
  for (const auto& it : items) CollectAggregates(it.ast, &aggs);
  CollectAggregates(s.having, &aggs);
  if (order) {
    for (const auto& o : *order) CollectAggregates(o.expr, &aggs);
  }
  if (!aggs.empty()) grouped = true;
  if (s.having && !grouped) grouped = true;

  // GROUP BY window(ts, width, slide) with slide < width: each row belongs to
  // several windows, so (as Spark's Expand) the rows are exploded over
  // sliding_windows(...) first and the key becomes the generated window.
  for (auto& g : group_by) {
    if (g->type != ExprType::kFunction || Lower(g->name) != "window" || g->args.size() < 3) continue;
    std::vector<ExprPtr> args;
    for (const auto& a : g->args) {
      ARROW_ASSIGN_OR_RAISE(auto b, Bind(*a, scope));
      args.push_back(b);
    }
    auto width = expr::EvaluateConstant(*args[1], ctx_);
    auto slide = expr::EvaluateConstant(*args[2], ctx_);
    if (!width.ok() || !slide.ok() || (*width)->Equals(**slide)) continue;  // tumbling: the scalar window()
    ARROW_ASSIGN_OR_RAISE(auto windows, Call("sliding_windows", args, g->loc));
    auto node = MakeNode(LogicalKind::kGenerate, {plan}, nullptr);
    node->exprs = {windows};
    exec::GenerateNode probe(std::make_shared<exec::ScanNode>(plan->schema, std::vector<exec::ScanTask>{}, ""),
                             windows, false, false, {"window"});
    node->schema = probe.schema();
    // Hidden under another name so `window.start` in SELECT resolves to the key, not to this column.
    scope.cols.push_back({"", "__window", node->schema->fields().back()->type(), true});
    plan = node;
    auto col = std::make_shared<AstExpr>();
    col->type = ExprType::kColumn;
    col->name_parts = {"__window"};
    col->loc = g->loc;
    col->sql_text = "window";
    g = col;
  }

  Hook hook;
  Scope post = scope;
  LogicalPtr post_plan = plan;
  std::vector<std::string> key_strings;
  std::map<std::string, int> agg_index;
  if (grouped) {
    // Keys.
    std::vector<ExprPtr> keys;
    Scope out;
    for (const auto& g : group_by) {
      if (ContainsAggregate(*g)) return UserError("[GROUP_BY_AGGREGATE] aggregate functions are not allowed in GROUP BY at {}", Where(g->loc));
      ARROW_ASSIGN_OR_RAISE(auto k, Bind(*g, scope));
      keys.push_back(k);
      key_strings.push_back(k->ToString());
      std::string name = g->type == ExprType::kColumn ? g->name_parts.back() : g->sql_text;
      // Spark names a time-window grouping column `window`, so SELECT window.start works.
      if (g->type == ExprType::kFunction && (Lower(g->name) == "window" || Lower(g->name) == "session_window")) {
        name = Lower(g->name);
      }
      if (name == "__window") name = "window";
      std::string qual;
      if (k->kind == ExprKind::kColumn) qual = scope.cols[k->column_index].qualifier;
      out.cols.push_back({qual, name, k->type, true});
    }
    // With grouping sets the aggregate also outputs spark_grouping_id after the
    // keys (bit n-1-i set when key i is not in the row's set), as Spark's Expand.
    bool has_sets = s.grouping == sql::GroupingKind::kRollup || s.grouping == sql::GroupingKind::kCube ||
                    s.grouping == sql::GroupingKind::kGroupingSets;
    int gid_index = -1;
    if (has_sets) {
      gid_index = static_cast<int>(out.cols.size());
      out.cols.push_back({"__grouping", "spark_grouping_id", arrow::int64(), false});
    }
    // Aggregates.
    std::vector<AggregateCall> calls;
    for (const auto& a : aggs) {
      auto key = AggKey(*a, scope);
      if (agg_index.count(key)) continue;
      auto name = Lower(a->name);
      const auto* fn = expr::FunctionRegistry::Default().FindAggregate(name);
      AggregateCall call;
      call.name = name;
      call.distinct = a->distinct;
      expr::AggregateSite site;
      site.distinct = a->distinct;
      site.config = &session_->config();
      for (const auto& arg : a->args) {
        if (arg->type == ExprType::kStar) continue;
        if (ContainsAggregate(*arg)) {
          return UserError("[NESTED_AGGREGATE_FUNCTION] It is not allowed to use an aggregate function in the argument of another aggregate function at {}",
                           Where(arg->loc));
        }
        ARROW_ASSIGN_OR_RAISE(auto b, Bind(*arg, scope));
        call.args.push_back(b);
      }
      if (a->ignore_nulls && (name == "first" || name == "last" || name == "first_value" || name == "last_value" ||
                              name == "any_value") && call.args.size() == 1) {
        call.args.push_back(expr::MakeLiteral(std::make_shared<arrow::BooleanScalar>(true)));
      }
      for (const auto& b : call.args) {
        site.arg_types.push_back(b->type);
        site.literal_args.push_back(b->kind == ExprKind::kLiteral ? b->value : nullptr);
      }
      auto resolved = fn->resolve(site);
      if (!resolved.ok()) return AtLoc(resolved.status(), a->loc);
      call.resolved = std::move(*resolved);
      for (size_t i = 0; i < call.args.size() && i < call.resolved.arg_types.size(); ++i) {
        if (call.resolved.arg_types[i]) call.args[i] = ImplicitCast(call.args[i], call.resolved.arg_types[i]);
      }
      if (a->filter) {
        ARROW_ASSIGN_OR_RAISE(auto f, Bind(*a->filter, scope));
        ARROW_ASSIGN_OR_RAISE(call.filter, Boolean(f, a->filter->loc, "an aggregate FILTER"));
      }
      agg_index[key] = static_cast<int>(keys.size() + (has_sets ? 1 : 0) + calls.size());
      out.cols.push_back({"", a->sql_text, call.resolved.result_type, true});
      calls.push_back(std::move(call));
    }
    auto node = MakeNode(LogicalKind::kAggregate, {plan}, out.ToSchema());
    node->exprs = keys;
    node->aggregates = std::move(calls);
    // Grouping sets: subsets of key indexes.
    if (s.grouping == sql::GroupingKind::kRollup) {
      for (size_t n = keys.size() + 1; n-- > 0;) {
        std::vector<int> set;
        for (size_t i = 0; i < n; ++i) set.push_back(static_cast<int>(i));
        node->grouping_sets.push_back(set);
      }
    } else if (s.grouping == sql::GroupingKind::kCube) {
      size_t n = keys.size();
      for (size_t mask = (size_t{1} << n); mask-- > 0;) {
        std::vector<int> set;
        for (size_t i = 0; i < n; ++i) {
          if (mask & (size_t{1} << (n - 1 - i))) set.push_back(static_cast<int>(i));
        }
        node->grouping_sets.push_back(set);
      }
      std::stable_sort(node->grouping_sets.begin(), node->grouping_sets.end(),
                       [](const auto& a, const auto& b) { return a.size() > b.size(); });
    } else if (s.grouping == sql::GroupingKind::kGroupingSets) {
      for (const auto& set : s.grouping_sets) {
        std::vector<int> idx;
        for (const auto& g : set) {
          ARROW_ASSIGN_OR_RAISE(auto k, Bind(*g, scope));
          auto ks = k->ToString();
          auto it = std::find(key_strings.begin(), key_strings.end(), ks);
          if (it == key_strings.end()) {
            node->exprs.push_back(k);
            key_strings.push_back(ks);
            // Not reachable from the select list unless listed in GROUP BY; keep it hidden.
            return Unsupported("GROUPING SETS columns must also be listed in GROUP BY at {}", Where(g->loc));
          }
          idx.push_back(static_cast<int>(it - key_strings.begin()));
        }
        node->grouping_sets.push_back(idx);
      }
    }
    post_plan = node;
    post = out;
    hook = [this, &scope, &key_strings, &agg_index, &post, gid_index](const AstExpr& e) -> Result<std::optional<ExprPtr>> {
      if (e.type == ExprType::kFunction && !IsWindowCall(e) &&
          (Lower(e.name) == "grouping" || Lower(e.name) == "grouping_id")) {
        if (gid_index < 0) {
          return UserError("[UNSUPPORTED_GROUPING_EXPRESSION] grouping()/grouping_id() can only be used with GroupingSets/Cube/Rollup at {}",
                           Where(e.loc));
        }
        auto gid = ColumnOf(post, gid_index);
        int nkeys = static_cast<int>(key_strings.size());
        auto shift_and = [&](int bit) -> Result<ExprPtr> {
          // (gid >> bit) & 1 as integer arithmetic: (gid div 2^bit) % 2.
          auto pow = expr::MakeLiteral(std::make_shared<arrow::Int64Scalar>(int64_t{1} << bit));
          ARROW_ASSIGN_OR_RAISE(auto d, Call("div", {gid, pow}, e.loc));
          return Call("mod", {d, expr::MakeLiteral(std::make_shared<arrow::Int64Scalar>(2))}, e.loc);
        };
        if (Lower(e.name) == "grouping") {
          if (e.args.size() != 1) return UserError("[WRONG_NUM_ARGS] grouping() takes one argument at {}", Where(e.loc));
          ARROW_ASSIGN_OR_RAISE(auto k, Bind(*e.args[0], scope));
          auto ks = k->ToString();
          auto f = std::find(key_strings.begin(), key_strings.end(), ks);
          if (f == key_strings.end()) {
            return UserError("[GROUPING_COLUMN_MISMATCH] Column of grouping ({}) can't be found in grouping columns at {}",
                             e.args[0]->sql_text, Where(e.loc));
          }
          int i = static_cast<int>(f - key_strings.begin());
          ARROW_ASSIGN_OR_RAISE(auto bit, shift_and(nkeys - 1 - i));
          return std::optional<ExprPtr>(ImplicitCast(bit, arrow::int8()));
        }
        if (e.args.empty()) return std::optional<ExprPtr>(gid);
        // grouping_id(c1, ..., cn): the bits of the named keys, in that order.
        ExprPtr acc;
        for (size_t a = 0; a < e.args.size(); ++a) {
          ARROW_ASSIGN_OR_RAISE(auto k, Bind(*e.args[a], scope));
          auto f = std::find(key_strings.begin(), key_strings.end(), k->ToString());
          if (f == key_strings.end()) {
            return UserError("[GROUPING_COLUMN_MISMATCH] Column of grouping_id ({}) can't be found in grouping columns at {}",
                             e.args[a]->sql_text, Where(e.loc));
          }
          ARROW_ASSIGN_OR_RAISE(auto bit, shift_and(nkeys - 1 - static_cast<int>(f - key_strings.begin())));
          auto weight = expr::MakeLiteral(std::make_shared<arrow::Int64Scalar>(int64_t{1} << (e.args.size() - 1 - a)));
          ARROW_ASSIGN_OR_RAISE(auto term, Call("multiply", {bit, weight}, e.loc));
          if (acc) {
            ARROW_ASSIGN_OR_RAISE(acc, Call("add", {acc, term}, e.loc));
          } else {
            acc = term;
          }
        }
        return std::optional<ExprPtr>(acc);
      }
      if (e.type == ExprType::kFunction && !IsWindowCall(e) && IsAggregateName(Lower(e.name))) {
        auto it = agg_index.find(AggKey(e, scope));
        if (it != agg_index.end()) return std::optional<ExprPtr>(ColumnOf(post, it->second));
      }
      if (e.type == ExprType::kLiteral) return std::optional<ExprPtr>();
      // A lambda parameter is no column of the input: its binding is the lambda's business.
      if (e.type == ExprType::kColumn && !e.name_parts.empty() && IsLambdaVariable(e.name_parts[0])) {
        return std::optional<ExprPtr>();
      }
      if (!ContainsAggregate(e) && !IsWindowCall(e)) {
        auto b = Bind(e, scope);
        if (b.ok()) {
          auto s = (*b)->ToString();
          for (size_t i = 0; i < key_strings.size(); ++i) {
            if (key_strings[i] == s) return std::optional<ExprPtr>(ColumnOf(post, static_cast<int>(i)));
          }
          if (e.type == ExprType::kColumn) {
            return UserError("[MISSING_AGGREGATION] The non-aggregating expression `{}` is based on columns which are not participating in the GROUP BY clause. Add the columns or the expression to the GROUP BY, or wrap it in an aggregate function such as first() at {}",
                             e.sql_text, Where(e.loc));
          }
        }
      }
      return std::optional<ExprPtr>();
    };
  }
  const Hook* hp = grouped ? &hook : nullptr;

  // Select aliases used in HAVING and later select items (Spark's lateral
  // column aliases) stand for their expressions.
  std::set<std::string> expanding;
  auto alias_hook = [&](const Hook* base, const Scope* bind_scope) {
    return Hook([&, base, bind_scope](const AstExpr& e) -> Result<std::optional<ExprPtr>> {
      if (base) {
        ARROW_ASSIGN_OR_RAISE(auto r, (*base)(e));
        if (r) return r;
      }
      if (e.type != ExprType::kColumn || e.name_parts.size() != 1 || scope.Find("", e.name_parts[0]) != -1 ||
          bind_scope->Find("", e.name_parts[0]) != -1) {
        return std::optional<ExprPtr>();
      }
      auto name = Lower(e.name_parts[0]);
      if (expanding.count(name)) return std::optional<ExprPtr>();
      for (const auto& it : s.items) {
        if (!it.alias.empty() && Lower(it.alias) == name) {
          expanding.insert(name);
          auto self = alias_hook_holder;
          auto r = Bind(*it.expr, *bind_scope, self.get());
          expanding.erase(name);
          if (!r.ok()) return r.status();
          return std::optional<ExprPtr>(*r);
        }
      }
      return std::optional<ExprPtr>();
    });
  };
  if (s.having) {
    alias_hook_holder = std::make_shared<Hook>(alias_hook(hp, &post));
    ARROW_ASSIGN_OR_RAISE(auto h, Bind(*s.having, post, alias_hook_holder.get()));
    ARROW_ASSIGN_OR_RAISE(h, Boolean(h, s.having->loc, "the HAVING condition"));
    post_plan = MakeFilter(post_plan, h);
  }

  // Window functions: one Window node per distinct (partition, order, frame) spec.
  std::vector<AstExprPtr> wins;
  for (const auto& it : items) CollectWindows(it.ast, &wins);
  if (order) {
    for (const auto& o : *order) CollectWindows(o.expr, &wins);
  }
  std::map<std::string, int> win_index;
  Scope win_scope = post;
  LogicalPtr win_plan = post_plan;
  for (const auto& w : wins) {
    auto key = Key(*w) + "|" + w->window_name;
    if (win_index.count(key)) continue;
    std::shared_ptr<sql::WindowSpec> spec = w->over;
    if (!spec || !w->window_name.empty() || !spec->base_name.empty()) {
      auto name = Lower(w->window_name.empty() ? spec->base_name : w->window_name);
      std::shared_ptr<sql::WindowSpec> base;
      for (const auto& [n, ws] : s.windows) {
        if (Lower(n) == name) base = ws;
      }
      if (!base) return UserError("[MISSING_WINDOW_SPECIFICATION] window `{}` is not defined at {}", name, Where(w->loc));
      if (spec) {
        auto merged = std::make_shared<sql::WindowSpec>(*base);
        if (!spec->partition_by.empty()) merged->partition_by = spec->partition_by;
        if (!spec->order_by.empty()) merged->order_by = spec->order_by;
        if (spec->frame) merged->frame = spec->frame;
        spec = merged;
      } else {
        spec = base;
      }
    }
    auto node = MakeNode(LogicalKind::kWindow, {win_plan}, nullptr);
    for (const auto& p : spec->partition_by) {
      ARROW_ASSIGN_OR_RAISE(auto b, Bind(*p, post, hp));
      node->exprs.push_back(b);
    }
    for (const auto& o : spec->order_by) {
      ARROW_ASSIGN_OR_RAISE(auto b, Bind(*o.expr, post, hp));
      node->sort_keys.push_back({b, o.ascending, o.nulls_first.value_or(o.ascending)});
    }
    WindowCall call;
    call.name = Lower(w->name);
    call.ignore_nulls = w->ignore_nulls;
    for (const auto& a : w->args) {
      if (a->type == ExprType::kStar) continue;
      ARROW_ASSIGN_OR_RAISE(auto b, Bind(*a, post, hp));
      call.args.push_back(b);
    }
    if (IsAggregateName(call.name) && !IsRankingWindowFunction(call.name)) {
      const auto* fn = expr::FunctionRegistry::Default().FindAggregate(call.name);
      expr::AggregateSite site;
      site.distinct = w->distinct;
      site.config = &session_->config();
      for (const auto& b : call.args) {
        site.arg_types.push_back(b->type);
        site.literal_args.push_back(b->kind == ExprKind::kLiteral ? b->value : nullptr);
      }
      auto resolved = fn->resolve(site);
      if (!resolved.ok()) return AtLoc(resolved.status(), w->loc);
      for (size_t i = 0; i < call.args.size() && i < resolved->arg_types.size(); ++i) {
        if (resolved->arg_types[i]) call.args[i] = ImplicitCast(call.args[i], resolved->arg_types[i]);
      }
      call.result_type = resolved->result_type;
      call.aggregate = std::move(*resolved);
    } else if (call.name == "row_number" || call.name == "rank" || call.name == "dense_rank") {
      call.result_type = call.name == "row_number" ? arrow::int32() : arrow::int32();
    } else if (call.name == "ntile") {
      call.result_type = arrow::int32();
    } else if (call.name == "percent_rank" || call.name == "cume_dist") {
      call.result_type = arrow::float64();
    } else if (call.name == "lag" || call.name == "lead" || call.name == "first_value" || call.name == "last_value" ||
               call.name == "nth_value") {
      if (call.args.empty()) return UserError("{} needs an argument at {}", call.name, Where(w->loc));
      call.result_type = call.args[0]->type;
      if ((call.name == "lag" || call.name == "lead") && call.args.size() >= 3) {
        ARROW_ASSIGN_OR_RAISE(auto type, Common({call.args[0], call.args[2]}, w->loc));
        call.args[0] = ImplicitCast(call.args[0], type);
        call.args[2] = ImplicitCast(call.args[2], type);
        call.result_type = type;
      }
    } else {
      return UserError("[UNRESOLVED_ROUTINE] {} is not a window function at {}", call.name, Where(w->loc));
    }
    // Frame (Spark's default: RANGE UNBOUNDED PRECEDING..CURRENT ROW with ORDER BY, whole partition without).
    if (spec->frame) {
      call.rows_frame = spec->frame->type == sql::FrameType::kRows;
      auto bound = [&](const sql::FrameBound& b) -> Result<std::optional<int64_t>> {
        switch (b.type) {
          case sql::BoundType::kUnboundedPreceding:
          case sql::BoundType::kUnboundedFollowing:
            return std::optional<int64_t>();
          case sql::BoundType::kCurrentRow:
            return std::optional<int64_t>(0);
          default: {
            ARROW_ASSIGN_OR_RAISE(auto v, Bind(*b.offset, Scope{}));
            ARROW_ASSIGN_OR_RAISE(auto sv, expr::EvaluateConstant(*ImplicitCast(v, arrow::int64()), ctx_));
            int64_t n = static_cast<const arrow::Int64Scalar&>(*sv).value;
            return std::optional<int64_t>(b.type == sql::BoundType::kPreceding ? -n : n);
          }
        }
      };
      ARROW_ASSIGN_OR_RAISE(call.frame_start, bound(spec->frame->start));
      ARROW_ASSIGN_OR_RAISE(call.frame_end, bound(spec->frame->end));
      if (spec->frame->start.type == sql::BoundType::kUnboundedFollowing ||
          spec->frame->end.type == sql::BoundType::kUnboundedPreceding) {
        return UserError("[INVALID_WINDOW_SPEC_FOR_AGGREGATION_FUNC] invalid window frame at {}", Where(w->loc));
      }
    } else if (spec->order_by.empty()) {
      call.rows_frame = true;
      call.frame_start = std::nullopt;
      call.frame_end = std::nullopt;
    } else {
      call.rows_frame = false;
      call.frame_start = std::nullopt;
      call.frame_end = 0;
    }
    node->windows.push_back(std::move(call));
    Scope next = win_scope;
    next.cols.push_back({"", w->sql_text, node->windows[0].result_type, true});
    node->schema = next.ToSchema();
    win_index[key] = static_cast<int>(next.cols.size()) - 1;
    win_plan = node;
    win_scope = next;
  }
  Hook final_hook;
  const Hook* fh = hp;
  if (!wins.empty()) {
    final_hook = [&, hp](const AstExpr& e) -> Result<std::optional<ExprPtr>> {
      if (IsWindowCall(e)) {
        auto it = win_index.find(Key(e) + "|" + e.window_name);
        if (it != win_index.end()) return std::optional<ExprPtr>(ColumnOf(win_scope, it->second));
      }
      if (hp) return (*hp)(e);
      return std::optional<ExprPtr>();
    };
    fh = &final_hook;
  }

  // Generators in the select list (explode(x) AS c).
  for (size_t i = 0; i < items.size(); ++i) {
    auto& it = items[i];
    if (!it.ast || it.ast->type != ExprType::kFunction) continue;
    auto gname = Lower(it.ast->name);
    // json_tuple(json, 'k1', 'k2', ...) makes exactly one row per input row:
    // one STRING column per key (c0, c1, ...), each the key's top-level value.
    if (gname == "json_tuple") {
      if (it.ast->args.size() < 2) {
        return UserError("[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `json_tuple` requires > 1 parameters but the actual "
                         "number is {} at {}", it.ast->args.size(), Where(it.ast->loc));
      }
      ARROW_ASSIGN_OR_RAISE(auto json, Bind(*it.ast->args[0], win_scope, fh));
      const auto& multi = s.items.size() == items.size() ? s.items[i].multi_alias : std::vector<std::string>{};
      size_t nkeys = it.ast->args.size() - 1;
      if (!multi.empty() && multi.size() != nkeys) {
        return UserError("[UDTF_ALIAS_NUMBER_MISMATCH] The number of aliases supplied in the AS clause does not match "
                         "the number of columns output by the UDTF. Expected {} aliases, but got {} at {}",
                         nkeys, multi.size(), Where(it.ast->loc));
      }
      std::vector<Item> repl;
      for (size_t k = 0; k < nkeys; ++k) {
        ARROW_ASSIGN_OR_RAISE(auto key, Bind(*it.ast->args[k + 1], win_scope, fh));
        if (key->kind != ExprKind::kLiteral || (key->type->id() != arrow::Type::STRING &&
                                                key->type->id() != arrow::Type::NA)) {
          return Unsupported("json_tuple field names must be string literals, not `{}` at {}",
                             it.ast->args[k + 1]->sql_text, Where(it.ast->loc));
        }
        ExprPtr value;
        if (!key->value->is_valid) {
          value = expr::MakeLiteral(arrow::MakeNullScalar(arrow::utf8()));
        } else {
          std::string name = static_cast<const arrow::StringScalar&>(*key->value).ToString();
          std::string path = "$['" + name + "']";
          ARROW_ASSIGN_OR_RAISE(
              value, Call("get_json_object", {json, expr::MakeLiteral(std::make_shared<arrow::StringScalar>(path))},
                          it.ast->loc));
        }
        repl.push_back({nullptr, value, multi.empty() ? fmt::format("c{}", k) : multi[k], true});
      }
      items.erase(items.begin() + static_cast<long>(i));
      items.insert(items.begin() + static_cast<long>(i), repl.begin(), repl.end());
      break;  // Spark allows one generator per SELECT
    }
    // inline(array<struct>) is explode followed by one column per struct field.
    bool is_inline = gname == "inline" || gname == "inline_outer";
    if (gname != "explode" && gname != "posexplode" && gname != "explode_outer" && gname != "posexplode_outer" &&
        !is_inline) {
      continue;
    }
    if (it.ast->args.size() != 1) return UserError("{} takes one argument at {}", gname, Where(it.ast->loc));
    ARROW_ASSIGN_OR_RAISE(auto arg, Bind(*it.ast->args[0], win_scope, fh));
    bool is_map = arg->type->id() == arrow::Type::MAP;
    if (!is_map && arg->type->id() != arrow::Type::LIST) {
      return UserError("[DATATYPE_MISMATCH] {} expects an ARRAY or MAP, not {}", gname, types::ToDDL(*arg->type));
    }
    std::shared_ptr<arrow::StructType> inline_struct;
    if (is_inline) {
      const auto& et = static_cast<const arrow::BaseListType&>(*arg->type).value_type();
      if (is_map || et->id() != arrow::Type::STRUCT) {
        return UserError("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] {} expects an ARRAY<STRUCT<...>>, not {} at {}",
                         gname, types::ToDDL(*arg->type), Where(it.ast->loc));
      }
      inline_struct = std::static_pointer_cast<arrow::StructType>(et);
    }
    bool with_pos = gname.rfind("pos", 0) == 0;
    std::vector<std::string> names;
    if (with_pos) names.push_back("pos");
    if (is_map) {
      names.push_back("key");
      names.push_back("value");
    } else {
      names.push_back("col");
    }
    const auto& multi = s.items.size() == items.size() ? s.items[i].multi_alias : std::vector<std::string>{};
    std::vector<std::string> field_names;
    if (is_inline) {
      for (const auto& f : inline_struct->fields()) field_names.push_back(f->name());
      if (!multi.empty()) {
        if (multi.size() != field_names.size()) {
          return UserError("[UDTF_ALIAS_NUMBER_MISMATCH] The number of aliases supplied in the AS clause does not "
                           "match the number of columns output by the UDTF. Expected {} aliases, but got {} at {}",
                           field_names.size(), multi.size(), Where(it.ast->loc));
        }
        field_names = multi;
      }
    } else if (!multi.empty()) {
      names = multi;
    } else if (it.has_alias && names.size() == 1) {
      names[0] = it.name;
    }
    auto node = MakeNode(LogicalKind::kGenerate, {win_plan}, nullptr);
    node->exprs = {arg};
    node->outer = gname.find("_outer") != std::string::npos;
    node->with_position = with_pos;
    exec::GenerateNode probe(std::make_shared<exec::ScanNode>(win_plan->schema, std::vector<exec::ScanTask>{}, ""), arg,
                             node->outer, with_pos, names);
    node->schema = probe.schema();
    size_t first = win_scope.cols.size();
    for (size_t k = first; k < static_cast<size_t>(node->schema->num_fields()); ++k) {
      win_scope.cols.push_back({"", node->schema->field(static_cast<int>(k))->name(), node->schema->field(static_cast<int>(k))->type(), true});
    }
    win_plan = node;
    // The item becomes the generated columns.
    std::vector<Item> repl;
    for (size_t k = first; k < win_scope.cols.size(); ++k) {
      if (is_inline) {
        auto col = ColumnOf(win_scope, static_cast<int>(k));
        for (int f = 0; f < inline_struct->num_fields(); ++f) {
          auto fname = expr::MakeLiteral(std::make_shared<arrow::StringScalar>(inline_struct->field(f)->name()));
          ARROW_ASSIGN_OR_RAISE(auto field, Call("get_field", {col, fname}, it.ast->loc));
          repl.push_back({nullptr, field, field_names[f], true});
        }
        continue;
      }
      repl.push_back({nullptr, ColumnOf(win_scope, static_cast<int>(k)), win_scope.cols[k].name, true});
    }
    items.erase(items.begin() + static_cast<long>(i));
    items.insert(items.begin() + static_cast<long>(i), repl.begin(), repl.end());
    break;  // Spark allows one generator per SELECT
  }

  // SELECT list.
  std::vector<ExprPtr> exprs;
  std::vector<std::string> names;
  Scope out;
  alias_hook_holder = std::make_shared<Hook>(alias_hook(fh, &win_scope));
  for (auto& it : items) {
    ExprPtr b;
    if (it.ast) {
      ARROW_ASSIGN_OR_RAISE(b, Bind(*it.ast, win_scope, alias_hook_holder.get()));
    } else if (grouped) {
      // A star over a grouped query: every column must be a key.
      auto s2 = it.bound_star->ToString();
      auto f = std::find(key_strings.begin(), key_strings.end(), s2);
      if (f == key_strings.end()) {
        return UserError("[MISSING_AGGREGATION] column `{}` is neither grouped nor aggregated", it.name);
      }
      b = ColumnOf(win_scope, static_cast<int>(f - key_strings.begin()));
    } else {
      b = it.bound_star;
    }
    std::string qual;
    if (b->kind == ExprKind::kColumn) qual = win_scope.cols[b->column_index].qualifier;
    exprs.push_back(b);
    names.push_back(it.name);
    out.cols.push_back({qual, it.name, b->type, b->nullable});
  }

  // ORDER BY: select aliases and ordinals first, then input columns (carried as hidden columns).
  *hidden = 0;
  if (order && !order->empty()) {
    for (const auto& o : *order) {
      ExprPtr key;
      const auto& e = *o.expr;
      if (e.type == ExprType::kLiteral && e.literal_kind == sql::LiteralKind::kInteger) {
        int ord = std::atoi(e.text.c_str());
        if (ord < 1 || ord > static_cast<int>(exprs.size())) {
          return UserError("[ORDER_BY_POS_OUT_OF_RANGE] ORDER BY position {} is not in select list (valid range is [1, {}]) at {}",
                           ord, exprs.size(), Where(e.loc));
        }
        key = ColumnOf(out, ord - 1);
      } else if (e.type == ExprType::kColumn && e.name_parts.size() == 1) {
        int i = out.Find("", e.name_parts[0]);
        if (i >= 0) key = ColumnOf(out, i);
      }
      if (!key) {
        // Matches a select expression?
        auto b = Bind(e, win_scope, fh);
        if (!b.ok()) {
          // Might reference a select alias inside an expression.
          auto b2 = Bind(e, out);
          if (!b2.ok()) return b.status();
          key = *b2;
        } else {
          auto bs = (*b)->ToString();
          for (size_t i = 0; i < exprs.size(); ++i) {
            if (exprs[i]->ToString() == bs) key = ColumnOf(out, static_cast<int>(i));
          }
          if (!key) {
            if (s.distinct) {
              return UserError("[MISSING_ATTRIBUTES] ORDER BY expression `{}` must appear in the select list of SELECT DISTINCT at {}",
                               e.sql_text, Where(e.loc));
            }
            exprs.push_back(*b);
            names.push_back("__order" + std::to_string(exprs.size()));
            out.cols.push_back({"", names.back(), (*b)->type, true});
            key = ColumnOf(out, static_cast<int>(out.cols.size()) - 1);
            ++*hidden;
          }
        }
      }
      sort_keys->push_back({key, o.ascending, o.nulls_first.value_or(o.ascending)});
    }
  }
  LogicalPtr result = MakeProject(win_plan, exprs, names);
  if (s.distinct) {
    auto node = MakeNode(LogicalKind::kAggregate, {result}, out.ToSchema());
    for (size_t i = 0; i < exprs.size(); ++i) node->exprs.push_back(ColumnOf(out, static_cast<int>(i)));
    result = node;
  }
  if (s.qualify) return Unsupported("QUALIFY is not supported yet at {}", Where(s.qualify->loc));
  return std::make_pair(result, out);
}

Result<std::pair<LogicalPtr, Scope>> Binder::BindSetOp(const sql::Query::SetOp& op) {
  ARROW_ASSIGN_OR_RAISE(auto l, BindQuery(*op.left));
  ARROW_ASSIGN_OR_RAISE(auto r, BindQuery(*op.right));
  size_t n = l.second.cols.size();
  const char* what = op.type == sql::SetOpType::kUnion ? "UNION" : op.type == sql::SetOpType::kIntersect ? "INTERSECT" : "EXCEPT";
  if (r.second.cols.size() != n) {
    return UserError("[NUM_COLUMNS_MISMATCH] {} can only be performed on inputs with the same number of columns, but the first input has {} columns and the second input has {} columns",
                     what, n, r.second.cols.size());
  }
  // Widen each column to the common type of both sides.
  std::vector<ExprPtr> lx, rx;
  std::vector<std::string> names;
  Scope out;
  bool cast_needed = false;
  for (size_t i = 0; i < n; ++i) {
    auto a = ColumnOf(l.second, static_cast<int>(i)), b = ColumnOf(r.second, static_cast<int>(i));
    auto t = expr::CommonType(a->type, b->type, session_->config().ansi);
    if (!t.ok()) {
      return UserError("[INCOMPATIBLE_COLUMN_TYPE] {} can only be performed on tables with compatible column types. Column {} is {} on one side and {} on the other",
                       what, i + 1, types::ToDDL(*a->type), types::ToDDL(*b->type));
    }
    if (!(*t)->Equals(*a->type) || !(*t)->Equals(*b->type)) cast_needed = true;
    lx.push_back(ImplicitCast(a, *t));
    rx.push_back(ImplicitCast(b, *t));
    names.push_back(l.second.cols[i].name);
    out.cols.push_back({"", l.second.cols[i].name, *t, l.second.cols[i].nullable || r.second.cols[i].nullable});
  }
  LogicalPtr left = l.first, right = r.first;
  if (cast_needed) {
    left = MakeProject(left, lx, names);
    right = MakeProject(right, rx, names);
  }
  auto distinct = [&](LogicalPtr p) {
    auto node = MakeNode(LogicalKind::kAggregate, {p}, out.ToSchema());
    for (size_t i = 0; i < n; ++i) node->exprs.push_back(ColumnOf(out, static_cast<int>(i)));
    return node;
  };
  if (op.type == sql::SetOpType::kUnion) {
    auto u = MakeNode(LogicalKind::kUnion, {left, right}, out.ToSchema());
    return std::make_pair(op.all ? u : distinct(u), out);
  }
  // INTERSECT / EXCEPT: a semi / anti join on null-safe equality of every
  // column. The ALL forms number the duplicates of each row on both sides
  // (row_number per distinct row) and match the numbers too, so a row kept
  // min(m, n) times (INTERSECT ALL) or max(m - n, 0) times (EXCEPT ALL).
  size_t width = n;
  auto numbered = [&](LogicalPtr p) {
    auto w = MakeNode(LogicalKind::kWindow, {p}, nullptr);
    for (size_t i = 0; i < n; ++i) w->exprs.push_back(ColumnOf(out, static_cast<int>(i)));
    WindowCall rn;
    rn.name = "row_number";
    rn.result_type = arrow::int32();
    rn.rows_frame = true;
    w->windows.push_back(rn);
    Scope ws = out;
    ws.cols.push_back({"", "__dup", arrow::int32(), false});
    w->schema = ws.ToSchema();
    return w;
  };
  if (op.all) {
    left = numbered(left);
    right = numbered(right);
    width = n + 1;
  }
  Scope side = out;
  if (op.all) side.cols.push_back({"", "__dup", arrow::int32(), false});
  Scope both = side;
  for (const auto& c : side.cols) both.cols.push_back(c);
  ExprPtr cond;
  for (size_t i = 0; i < width; ++i) {
    ARROW_ASSIGN_OR_RAISE(auto eq, Call("equal_null_safe", {ColumnOf(both, static_cast<int>(i)), ColumnOf(both, static_cast<int>(width + i))}, sql::Location{}));
    cond = cond ? expr::MakeSpecial(ExprKind::kAnd, arrow::boolean(), {cond, eq}) : eq;
  }
  auto j = MakeNode(LogicalKind::kJoin, {op.all ? left : distinct(left), right}, side.ToSchema());
  j->join_type = op.type == sql::SetOpType::kIntersect ? sql::JoinType::kLeftSemi : sql::JoinType::kLeftAnti;
  j->predicate = cond;
  if (!op.all) return std::make_pair(LogicalPtr(j), out);
  std::vector<ExprPtr> exprs;
  for (size_t i = 0; i < n; ++i) exprs.push_back(ColumnOf(side, static_cast<int>(i)));
  return std::make_pair(MakeProject(j, exprs, names), out);
}

Result<std::pair<LogicalPtr, Scope>> Binder::BindQuery(const sql::Query& q) {
  bool pushed = false;
  if (!q.with.empty()) {
    std::map<std::string, const sql::CommonTableExpr*> m;
    for (const auto& c : q.with) m[Lower(c.name)] = &c;
    ctes_.push_back(std::move(m));
    pushed = true;
  }
  struct Pop {
    Binder* b;
    bool on;
    ~Pop() {
      if (on) b->ctes_.pop_back();
    }
  } pop{this, pushed};

  std::pair<LogicalPtr, Scope> body;
  std::vector<SortKey> sort_keys;
  int hidden = 0;
  if (q.select) {
    ARROW_ASSIGN_OR_RAISE(body, BindSelect(*q.select, &q.order_by, &sort_keys, &hidden));
  } else {
    if (q.set_op) {
      ARROW_ASSIGN_OR_RAISE(body, BindSetOp(*q.set_op));
    } else if (q.values) {
      ARROW_ASSIGN_OR_RAISE(body, BindValues(*q.values));
    } else if (q.nested) {
      ARROW_ASSIGN_OR_RAISE(body, BindQuery(*q.nested));
    } else {
      return InternalError("empty query");
    }
    for (const auto& o : q.order_by) {
      ExprPtr key;
      const auto& e = *o.expr;
      if (e.type == ExprType::kLiteral && e.literal_kind == sql::LiteralKind::kInteger) {
        int ord = std::atoi(e.text.c_str());
        if (ord < 1 || ord > static_cast<int>(body.second.cols.size())) {
          return UserError("[ORDER_BY_POS_OUT_OF_RANGE] ORDER BY position {} is not in select list at {}", ord, Where(e.loc));
        }
        key = ColumnOf(body.second, ord - 1);
      } else {
        ARROW_ASSIGN_OR_RAISE(key, Bind(e, body.second));
      }
      sort_keys.push_back({key, o.ascending, o.nulls_first.value_or(o.ascending)});
    }
  }
  LogicalPtr plan = body.first;
  Scope scope = body.second;
  auto eval_count = [&](const AstExprPtr& e, const char* what) -> Result<int64_t> {
    ARROW_ASSIGN_OR_RAISE(auto b, Bind(*e, Scope{}));
    if (!types::IsIntegral(*b->type)) {
      return UserError("[INVALID_LIMIT_LIKE_EXPRESSION.DATA_TYPE] The {} expression must be an integer, not {} at {}", what,
                       types::ToDDL(*b->type), Where(e->loc));
    }
    ARROW_ASSIGN_OR_RAISE(auto s, expr::EvaluateConstant(*ImplicitCast(b, arrow::int64()), ctx_));
    if (!s->is_valid) return UserError("[INVALID_LIMIT_LIKE_EXPRESSION.IS_NULL] The {} expression must not be NULL", what);
    int64_t v = static_cast<const arrow::Int64Scalar&>(*s).value;
    if (v < 0) return UserError("[INVALID_LIMIT_LIKE_EXPRESSION.IS_NEGATIVE] The {} expression must be >= 0, got {}", what, v);
    return v;
  };
  int64_t limit = -1, offset = 0;
  if (q.limit) {
    ARROW_ASSIGN_OR_RAISE(limit, eval_count(q.limit, "limit"));
  }
  if (q.offset) {
    ARROW_ASSIGN_OR_RAISE(offset, eval_count(q.offset, "offset"));
  }
  if (!sort_keys.empty()) {
    auto node = MakeNode(LogicalKind::kSort, {plan}, plan->schema);
    node->sort_keys = sort_keys;
    if (limit >= 0) node->limit = limit + offset;  // top-N
    plan = node;
  }
  if (limit >= 0 || offset > 0) {
    auto node = MakeNode(LogicalKind::kLimit, {plan}, plan->schema);
    node->limit = limit;
    node->offset = offset;
    plan = node;
  }
  if (hidden > 0) {
    size_t keep = scope.cols.size() - static_cast<size_t>(hidden);
    std::vector<ExprPtr> exprs;
    std::vector<std::string> names;
    Scope out;
    for (size_t i = 0; i < keep; ++i) {
      exprs.push_back(ColumnOf(scope, static_cast<int>(i)));
      names.push_back(scope.cols[i].name);
      out.cols.push_back(scope.cols[i]);
    }
    plan = MakeProject(plan, exprs, names);
    scope = out;
  }
  return std::make_pair(plan, scope);
}

Result<LogicalPtr> BindQuery(Session* session, const sql::Query& query) {
  Binder b(session);
  ARROW_ASSIGN_OR_RAISE(auto r, b.BindQuery(query));
  return r.first;
}

}  // namespace lakestream::plan
