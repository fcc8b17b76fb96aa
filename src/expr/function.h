// The one function registry: Spark's scalar and aggregate functions, each
// resolved for concrete argument types (Spark's type coercion: the result type
// and the implicit casts to apply) and run vectorized over Arrow data. Where an
// Arrow compute kernel has Spark's semantics the implementation calls it;
// elsewhere (overflow rules, casts, date patterns, JSON) it is our own kernel.
#pragma once

#include <arrow/datum.h>
#include <arrow/memory_pool.h>
#include <arrow/scalar.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "types/types.h"

namespace lakestream::expr {

/// How a cast treats values it cannot convert.
enum class CastMode {
  kAnsi,    // raise an error naming the value (Spark 4 default, CAST)
  kLegacy,  // NULL (spark.sql.ansi.enabled = false)
  kTry,     // NULL (TRY_CAST, try_* functions)
};

/// What evaluation needs besides the data. One per query execution.
struct EvalContext {
  const SessionConfig* config = nullptr;  // never null during evaluation
  arrow::MemoryPool* pool = arrow::default_memory_pool();
  /// current_timestamp() for the whole query, microseconds since the epoch (UTC).
  int64_t now_micros = 0;
  bool ansi() const { return config->ansi; }
};

/// A scalar function implementation for fixed argument types. Arguments are
/// arrays of `length` rows or scalars (literals), already cast to the types
/// the resolution asked for. Returns an array of `length` rows or a scalar.
using ScalarExec = std::function<Result<arrow::Datum>(const std::vector<arrow::Datum>& args,
                                                      int64_t length, const EvalContext& ctx)>;

struct ResolvedCall {
  types::TypePtr result_type;
  /// The type each argument must be cast to before the call (Spark's implicit
  /// coercion); nullptr keeps the argument's own type.
  std::vector<types::TypePtr> arg_types;
  ScalarExec exec;
  bool deterministic = true;  // false for rand(), current_timestamp is true per query
  /// True when the result is NULL whenever any argument is NULL (lets the
  /// optimizer fold and prune).
  bool null_intolerant = true;
  /// The collation a comparison of strings runs under (collation.h). Planners
  /// that take a comparison apart (equi-join keys, scan statistics) must
  /// compare collation keys, not bytes, when it is not UTF8_BINARY.
  types::Collation collation = types::Collation::kUtf8Binary;
};

/// What resolution sees of a call site.
struct CallSite {
  std::vector<types::TypePtr> arg_types;
  /// The value of each argument that is a literal (nullptr otherwise): formats,
  /// schemas, JSON paths and regexes are compiled once at bind time.
  std::vector<std::shared_ptr<arrow::Scalar>> literal_args;
  const SessionConfig* config = nullptr;
};

struct ScalarFunction {
  std::string name;  // lower case
  /// Chooses the implementation for the call site, or fails with a user error
  /// such as "function substring expects (STRING, INT[, INT]) but got (INT)".
  std::function<Result<ResolvedCall>(const CallSite&)> resolve;
};

/// Per-group accumulators of one aggregate call, stored column-wise. Used by the
/// batch hash aggregate and (through SaveState/LoadState) by streaming state.
/// Not thread-safe: each worker has its own and partials are merged.
class GroupedAggregator {
 public:
  virtual ~GroupedAggregator() = default;
  /// Makes room for groups [0, num_groups); new groups start empty.
  virtual Status Resize(int64_t num_groups) = 0;
  /// Adds rows: args are arrays of `length` rows (or scalars); row i goes to group_ids[i].
  virtual Status Update(const std::vector<arrow::Datum>& args, const uint32_t* group_ids,
                        int64_t length) = 0;
  /// Update() where every row goes to group 0 (an aggregate without GROUP
  /// BY); `zeros` holds `length` zeros. Hot aggregators override it to keep
  /// the accumulator in a register instead of indexing by group per row.
  virtual Status UpdateOneGroup(const std::vector<arrow::Datum>& args, const uint32_t* zeros,
                                int64_t length) {
    return Update(args, zeros, length);
  }
  /// Merges every group g of `other` (same function) into group mapping[g] of this.
  virtual Status Merge(GroupedAggregator& other, const uint32_t* mapping) = 0;
  /// One result per group, of the resolved result type.
  virtual Result<std::shared_ptr<arrow::Array>> Finalize() = 0;
  /// The accumulators as one Arrow array (a row per group) and back, for
  /// checkpointing streaming state. LoadState appends groups.
  virtual Result<std::shared_ptr<arrow::Array>> SaveState() = 0;
  virtual Status LoadState(const arrow::Array& state) = 0;
  /// Bytes held, for memory limits and metrics.
  virtual int64_t MemoryUsage() const = 0;
};

struct ResolvedAggregate {
  types::TypePtr result_type;
  std::vector<types::TypePtr> arg_types;  // implicit casts, as for scalar functions
  std::function<std::unique_ptr<GroupedAggregator>()> make;
};

struct AggregateSite {
  std::vector<types::TypePtr> arg_types;
  std::vector<std::shared_ptr<arrow::Scalar>> literal_args;
  bool distinct = false;
  const SessionConfig* config = nullptr;
};

struct AggregateFunction {
  std::string name;  // lower case
  std::function<Result<ResolvedAggregate>(const AggregateSite&)> resolve;
};

class FunctionRegistry {
 public:
  /// The registry with every built-in function.
  static const FunctionRegistry& Default();

  void AddScalar(ScalarFunction f);
  void AddAggregate(AggregateFunction f);
  /// Registers `alias` as another name of `name` (e.g. "ucase" -> "upper").
  void AddAlias(const std::string& alias, const std::string& name);

  const ScalarFunction* FindScalar(const std::string& name) const;
  const AggregateFunction* FindAggregate(const std::string& name) const;
  /// Every registered name, sorted (SHOW FUNCTIONS).
  std::vector<std::string> Names() const;
  /// Replaces every scalar resolver r of function `name` with wrap(name, r):
  /// rules that hold for every call (collations) are added once, here.
  void WrapScalarResolvers(
      const std::function<std::function<Result<ResolvedCall>(const CallSite&)>(
          const std::string&, std::function<Result<ResolvedCall>(const CallSite&)>)>& wrap);

 private:
  std::map<std::string, ScalarFunction> scalars_;
  std::map<std::string, AggregateFunction> aggregates_;
};

// Registration entry points, one per family (each in its own .cc).
void RegisterArithmeticFunctions(FunctionRegistry* r);
void RegisterComparisonFunctions(FunctionRegistry* r);
void RegisterStringFunctions(FunctionRegistry* r);
void RegisterMathFunctions(FunctionRegistry* r);
void RegisterDatetimeFunctions(FunctionRegistry* r);
void RegisterJsonFunctions(FunctionRegistry* r);
void RegisterCollectionFunctions(FunctionRegistry* r);  // struct/array/map access, size
void RegisterHashFunctions(FunctionRegistry* r);
void RegisterAggregateFunctions(FunctionRegistry* r);
void RegisterCollationFunctions(FunctionRegistry* r);  // collate, collation (collation.cc)

}  // namespace lakestream::expr
