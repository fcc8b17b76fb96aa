#include "expr/function.h"

#include <algorithm>

#include "expr/collation.h"

namespace lakestream::expr {


const FunctionRegistry& FunctionRegistry::Default() {
  static const FunctionRegistry* registry = [] {
    auto* r = new FunctionRegistry();
    for (auto* f : {RegisterArithmeticFunctions, RegisterComparisonFunctions,
                    RegisterStringFunctions, RegisterMathFunctions, RegisterDatetimeFunctions,
                    RegisterJsonFunctions, RegisterCollectionFunctions, RegisterHashFunctions,
                    RegisterAggregateFunctions, RegisterCollationFunctions}) {
      if (f != nullptr) f(r);
    }
    // Spark's collation rules hold for every function taking strings; the
    // unwrapped resolvers stay reachable for the collation-aware variants.
    auto raw = std::make_shared<std::map<std::string, RawResolver>>();
    for (const auto& name : r->Names()) {
      if (const auto* f = r->FindScalar(name)) (*raw)[name] = f->resolve;
    }
    r->WrapScalarResolvers([raw](const std::string& name, RawResolver inner) {
      return WithCollations(name, std::move(inner),
                            [raw](const std::string& n) -> const RawResolver* {
                              auto it = raw->find(n);
                              return it == raw->end() ? nullptr : &it->second;
                            });
    });
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

void FunctionRegistry::WrapScalarResolvers(
    const std::function<std::function<Result<ResolvedCall>(const CallSite&)>(
        const std::string&, std::function<Result<ResolvedCall>(const CallSite&)>)>& wrap) {
  for (auto& [name, f] : scalars_) f.resolve = wrap(name, std::move(f.resolve));
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
