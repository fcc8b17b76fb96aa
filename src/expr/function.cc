#include "expr/function.h"

#include <algorithm>

namespace lakestream::expr {


const FunctionRegistry& FunctionRegistry::Default() {
  static const FunctionRegistry* registry = [] {
    auto* r = new FunctionRegistry();
    for (auto* f : {RegisterArithmeticFunctions, RegisterComparisonFunctions, RegisterStringFunctions,
                    RegisterMathFunctions, RegisterDatetimeFunctions, RegisterJsonFunctions,
                    RegisterCollectionFunctions, RegisterHashFunctions, RegisterAggregateFunctions}) {
      if (f != nullptr) f(r);
    }
    return r;
  }();
  return *registry;
}

void FunctionRegistry::AddScalar(ScalarFunction f) {
  auto name = f.name;
  scalars_[name] = std::move(f);
}

void FunctionRegistry::AddAggregate(AggregateFunction f) {
  auto name = f.name;
  aggregates_[name] = std::move(f);
}

void FunctionRegistry::AddAlias(const std::string& alias, const std::string& name) {
  if (auto it = scalars_.find(name); it != scalars_.end()) {
    auto copy = it->second;
    copy.name = alias;
    scalars_[alias] = std::move(copy);
  }
  if (auto it = aggregates_.find(name); it != aggregates_.end()) {
    auto copy = it->second;
    copy.name = alias;
    aggregates_[alias] = std::move(copy);
  }
}

const ScalarFunction* FunctionRegistry::FindScalar(const std::string& name) const {
  auto it = scalars_.find(name);
  return it == scalars_.end() ? nullptr : &it->second;
}

const AggregateFunction* FunctionRegistry::FindAggregate(const std::string& name) const {
  auto it = aggregates_.find(name);
  return it == aggregates_.end() ? nullptr : &it->second;
}

std::vector<std::string> FunctionRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& [n, f] : scalars_) out.push_back(n);
  for (const auto& [n, f] : aggregates_) out.push_back(n);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace lakestream::expr
