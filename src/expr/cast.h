// CAST with Spark's rules (Cast.scala / Spark 4 ANSI): which casts exist, what
// each produces for every input, and the implicit coercions the binder applies
// (the common type of CASE branches, IN lists, UNION columns, comparisons).
#pragma once

#include <arrow/datum.h>

#include "expr/function.h"

namespace lakestream::expr {

/// True if Spark allows CAST(from AS to) (ANSI rules when ansi is set).
bool CanCast(const arrow::DataType& from, const arrow::DataType& to, bool ansi);

/// Casts `value` (array or scalar) to `to`. In kAnsi mode an unconvertible
/// value raises "[CAST_INVALID_INPUT] The value 'abc' of the type \"STRING\"
/// cannot be cast to \"INT\"..." (or CAST_OVERFLOW); in kLegacy/kTry it becomes NULL.
Result<arrow::Datum> Cast(const arrow::Datum& value, const types::TypePtr& to, CastMode mode,
                          const EvalContext& ctx);

/// Spark's findWiderTypeForTwo: the type both sides are implicitly cast to for
/// comparisons, CASE/COALESCE/IN/UNION; fails with a user error naming both types.
Result<types::TypePtr> CommonType(const types::TypePtr& a, const types::TypePtr& b, bool ansi);
Result<types::TypePtr> CommonType(const std::vector<types::TypePtr>& types, bool ansi);

}  // namespace lakestream::expr
