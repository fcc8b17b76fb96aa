#include "expr/expr.h"

#include <fmt/format.h>

#include "types/types.h"

namespace lakestream::expr {

ExprPtr MakeLiteral(std::shared_ptr<arrow::Scalar> value) {
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kLiteral;
  e->type = value->type;
  e->nullable = !value->is_valid;
  e->value = std::move(value);
  return e;
}

ExprPtr MakeColumn(int index, std::string name, types::TypePtr type, bool nullable) {
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kColumn;
  e->column_index = index;
  e->name = std::move(name);
  // A column's collation is implicit, whatever made it (Spark's collation strength).
  e->type = types::WithoutExplicitCollation(type);
  e->nullable = nullable;
  return e;
}

ExprPtr MakeCall(std::string name, std::shared_ptr<const ResolvedCall> call, std::vector<ExprPtr> args) {
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kCall;
  e->name = std::move(name);
  e->type = call->result_type;
  e->call = std::move(call);
  e->args = std::move(args);
  return e;
}

ExprPtr MakeCast(ExprPtr arg, types::TypePtr to, CastMode mode) {
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kCast;
  e->type = std::move(to);
  e->nullable = true;
  e->cast_mode = mode;
  e->args = {std::move(arg)};
  return e;
}

ExprPtr MakeSpecial(ExprKind kind, types::TypePtr type, std::vector<ExprPtr> args, bool has_else) {
  auto e = std::make_shared<Expr>();
  e->kind = kind;
  e->type = std::move(type);
  e->args = std::move(args);
  e->has_else = has_else;
  return e;
}

ExprPtr MakeLambdaVariable(int slot, std::string name, types::TypePtr type, bool nullable) {
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kLambdaVariable;
  e->column_index = slot;
  e->name = std::move(name);
  e->type = std::move(type);
  e->nullable = nullable;
  return e;
}

ExprPtr MakeHigherOrder(std::string name, types::TypePtr type, std::vector<ExprPtr> inputs,
                        std::vector<ExprPtr> bodies, int lambda_slot) {
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kHigherOrder;
  e->name = std::move(name);
  e->type = std::move(type);
  e->num_lambdas = static_cast<int>(bodies.size());
  e->lambda_slot = lambda_slot;
  e->args = std::move(inputs);
  for (auto& b : bodies) e->args.push_back(std::move(b));
  return e;
}

bool IsConstant(const Expr& e) {
  // A lambda variable varies per element; a call over a constant input with
  // its own lambda is constant, but folding it is not worth a special case.
  if (e.kind == ExprKind::kColumn || e.kind == ExprKind::kLambdaVariable) return false;
  if (e.kind == ExprKind::kCall && !e.call->deterministic) return false;
  for (const auto& a : e.args) {
    if (!IsConstant(*a)) return false;
  }
  return true;
}

void CollectColumns(const Expr& e, std::vector<int>* out) {
  if (e.kind == ExprKind::kColumn) out->push_back(e.column_index);
  for (const auto& a : e.args) CollectColumns(*a, out);
}

ExprPtr RemapColumns(const ExprPtr& e, const std::vector<int>& mapping) {
  if (e->kind == ExprKind::kColumn) {
    auto copy = std::make_shared<Expr>(*e);
    copy->column_index = mapping[e->column_index];
    return copy;
  }
  if (e->args.empty()) return e;
  auto copy = std::make_shared<Expr>(*e);
  for (auto& a : copy->args) a = RemapColumns(a, mapping);
  return copy;
}

std::string Expr::ToString() const {
  auto join_args = [&](const char* sep) {
    std::string s;
    for (size_t i = 0; i < args.size(); ++i) {
      if (i) s += sep;
      s += args[i]->ToString();
    }
    return s;
  };
  switch (kind) {
    case ExprKind::kLiteral:
      return value->is_valid ? value->ToString() : "NULL";
    case ExprKind::kColumn:
      return fmt::format("{}#{}", name, column_index);
    case ExprKind::kCall:
      return fmt::format("{}({})", name, join_args(", "));
    case ExprKind::kCast:
      return fmt::format("{}({} AS {})", cast_mode == CastMode::kTry ? "try_cast" : "cast",
                         args[0]->ToString(), types::SimpleString(*type));
    case ExprKind::kAnd:
      return fmt::format("({})", join_args(" AND "));
    case ExprKind::kOr:
      return fmt::format("({})", join_args(" OR "));
    case ExprKind::kCoalesce:
      return fmt::format("coalesce({})", join_args(", "));
    case ExprKind::kIf:
      return fmt::format("if({})", join_args(", "));
    case ExprKind::kLambdaVariable:
      return fmt::format("lambda {}#{}", name, column_index);
    case ExprKind::kHigherOrder: {
      std::string s = name + "(";
      size_t first_body = args.size() - num_lambdas;
      for (size_t i = 0; i < args.size(); ++i) {
        if (i) s += ", ";
        if (i >= first_body) s += "lambda ";
        s += args[i]->ToString();
      }
      return s + ")";
    }
    case ExprKind::kCase: {
      std::string s = "CASE";
      size_t n = args.size() - (has_else ? 1 : 0);
      for (size_t i = 0; i + 1 < n; i += 2) {
        s += fmt::format(" WHEN {} THEN {}", args[i]->ToString(), args[i + 1]->ToString());
      }
      if (has_else) s += " ELSE " + args.back()->ToString();
      return s + " END";
    }
  }
  return "?";
}

}  // namespace lakestream::expr
