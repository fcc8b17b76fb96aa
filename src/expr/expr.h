// Bound expression trees: what the binder produces from SQL and what the
// evaluator runs over RecordBatches. Every node carries its Spark result type.
// Conditional forms (CASE, IF, COALESCE, AND, OR) are nodes of their own because
// they evaluate their branches only on the rows that reach them (a selection),
// so `CASE WHEN b = 0 THEN NULL ELSE a / b END` never raises division by zero
// under ANSI mode, as in Spark.
#pragma once

#include <arrow/scalar.h>
#include <arrow/type.h>

#include <memory>
#include <string>
#include <vector>

#include "expr/function.h"

namespace lakestream::expr {

enum class ExprKind {
  kLiteral,   // value
  kColumn,    // column_index into the input batch
  kCall,      // call (a resolved scalar function) over args
  kCast,      // args[0] cast to type; cast_mode says ANSI, legacy or TRY
  kCase,      // args = [when1, then1, when2, then2, ..., else?]; has_else
  kAnd,       // args[0] AND args[1], three-valued, right side only where left is not FALSE
  kOr,        // args[0] OR args[1], right side only where left is not TRUE
  kCoalesce,  // first non-NULL of args, later args only where earlier ones are NULL
  kIf,        // IF(args[0], args[1], args[2])
  kLambdaVariable,  // a lambda parameter: column_index is its slot (see kHigherOrder), name its name
  kHigherOrder,     // name (transform, filter, aggregate, ...) over args: the inputs, then lambda bodies
};

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr {
  ExprKind kind;
  types::TypePtr type;  // result type
  bool nullable = true;
  std::vector<ExprPtr> args;

  std::shared_ptr<arrow::Scalar> value;  // kLiteral
  int column_index = -1;                 // kColumn
  std::string name;                      // kColumn: column name; kCall: function name (for EXPLAIN)
  std::shared_ptr<const ResolvedCall> call;  // kCall
  CastMode cast_mode = CastMode::kAnsi;  // kCast
  bool has_else = false;                 // kCase
  /// kHigherOrder: how many of the trailing args are lambda bodies, and the
  /// slot of each body's first parameter. A body's parameters occupy slots
  /// lambda_slot, lambda_slot + 1, ...; slots below belong to enclosing
  /// lambdas (nested lambdas see their parents' parameters).
  int num_lambdas = 0;
  int lambda_slot = 0;

  std::string ToString() const;
};

ExprPtr MakeLiteral(std::shared_ptr<arrow::Scalar> value);
ExprPtr MakeColumn(int index, std::string name, types::TypePtr type, bool nullable = true);
ExprPtr MakeCall(std::string name, std::shared_ptr<const ResolvedCall> call, std::vector<ExprPtr> args);
ExprPtr MakeCast(ExprPtr arg, types::TypePtr to, CastMode mode);
ExprPtr MakeSpecial(ExprKind kind, types::TypePtr type, std::vector<ExprPtr> args, bool has_else = false);
ExprPtr MakeLambdaVariable(int slot, std::string name, types::TypePtr type, bool nullable = true);
/// A higher-order function call: `inputs` then `bodies` (lambda bodies whose
/// parameters start at slot `lambda_slot`). See evaluator.cc for the names.
ExprPtr MakeHigherOrder(std::string name, types::TypePtr type, std::vector<ExprPtr> inputs,
                        std::vector<ExprPtr> bodies, int lambda_slot);

/// True if the tree holds no column reference and only deterministic calls.
bool IsConstant(const Expr& e);
/// Column indexes the tree reads.
void CollectColumns(const Expr& e, std::vector<int>* out);
/// Rewrites column indexes through `mapping` (old index -> new index).
ExprPtr RemapColumns(const ExprPtr& e, const std::vector<int>& mapping);

}  // namespace lakestream::expr
