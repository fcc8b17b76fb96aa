// Spark 4's string collations in the evaluator. The collation is part of the
// bound STRING type (types::CollatedStringType); this file turns it into
// behaviour: collation keys (bytes whose binary order and equality are the
// collation's), the choice of one collation for a call whose string
// arguments disagree (Spark's CollationTypeCoercion: explicit > implicit >
// default), and the collation-aware variants of the comparison and string
// predicates. What is ours is Spark's rules; the Unicode work is ICU's, as in
// Spark (root collator, tertiary strength for UNICODE, secondary for
// UNICODE_CI).
#pragma once

#include <arrow/datum.h>

#include <string>
#include <string_view>
#include <vector>

#include "expr/expr.h"
#include "expr/function.h"
#include "types/types.h"

namespace lakestream::expr {

/// The collation a call runs with, and how strongly it was asked for.
struct CollationContext {
  types::Collation collation = types::Collation::kUtf8Binary;
  types::CollationStrength strength = types::CollationStrength::kDefault;
};

/// Spark's collation of a call from its STRING arguments: the one explicit
/// collation if any ([COLLATION_MISMATCH.EXPLICIT] when two differ), else the
/// one collation of the non-literal arguments ([INDETERMINATE_COLLATION_IN_EXPRESSION]
/// when two differ), else UTF8_BINARY. `what` names the call in errors.
Result<CollationContext> ResolveCollation(const CallSite& site, std::string_view what);

/// The common STRING type of two STRING types (CASE, COALESCE, UNION branches):
/// the explicit collation wins, then a non-default one.
Result<types::TypePtr> CommonStringType(const types::TypePtr& a, const types::TypePtr& b);

/// Collation keys of STRING values: for UTF8_BINARY the values themselves, for
/// UTF8_LCASE the values lower-cased as Spark does (code point by code point,
/// U+0130 to "i\u0307", final sigma to sigma), for UNICODE and UNICODE_CI
/// ICU sort keys (BINARY). Two values are equal / ordered under the collation
/// exactly when their keys are, bytewise: sort and group keys use them.
Result<arrow::Datum> CollationKeys(const arrow::Datum& values, types::Collation collation,
                                   arrow::MemoryPool* pool);
/// One value's key (see CollationKeys), appended to `out`.
void AppendCollationKey(std::string_view value, types::Collation collation, std::string* out);

/// `e` (a STRING) as its collation keys, for planners that compare values by
/// bytes (equi-join keys): UTF8_BINARY returns `e` itself.
ExprPtr CollationKeyExpr(const ExprPtr& e, types::Collation collation);

/// Wraps a scalar function's resolver with Spark's collation rules: picks the
/// call's collation, gives a STRING result that collation, and swaps in the
/// collation-aware kernel of a collation-sensitive function (comparisons, IN,
/// greatest/least, contains/startswith/endswith, LIKE/ILIKE/RLIKE).
/// `raw` looks up another function's unwrapped resolver (LIKE under
/// UTF8_LCASE is ILIKE).
using RawResolver = std::function<Result<ResolvedCall>(const CallSite&)>;
RawResolver WithCollations(const std::string& name, RawResolver inner,
                           std::function<const RawResolver*(const std::string&)> raw);

/// collate(str, name) and collation(str).
void RegisterCollationFunctions(FunctionRegistry* r);

/// min/max over a non-binary collation: compares by collation key, returns the
/// first value seen among equal ones (as Spark's Min/Max over collated strings).
Result<ResolvedAggregate> ResolveCollatedMinMax(const AggregateSite& site, bool is_max);

}  // namespace lakestream::expr
