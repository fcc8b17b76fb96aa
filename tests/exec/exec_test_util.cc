// See exec_test_util.h.
#include "exec_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace lakestream::exec::testing {

BatchPtr MakeBatch(const std::shared_ptr<arrow::Schema>& schema,
                   const std::vector<std::string>& columns_json) {
  std::vector<std::shared_ptr<arrow::Array>> cols;
  for (int i = 0; i < schema->num_fields(); ++i) {
    cols.push_back(
        arrow::json::ArrayFromJSONString(schema->field(i)->type(), columns_json[i]).ValueOrDie());
  }
  int64_t n = cols.empty() ? 0 : cols[0]->length();
  return arrow::RecordBatch::Make(schema, n, cols);
}

PhysicalNodePtr Scan(const std::shared_ptr<arrow::Schema>& schema, std::vector<BatchPtr> batches) {
  return ScanNode::FromBatches(schema, std::move(batches), "Scan(test)");
}

expr::ExprPtr Col(const std::shared_ptr<arrow::Schema>& schema, int i) {
  return expr::MakeColumn(i, schema->field(i)->name(), schema->field(i)->type(),
                          schema->field(i)->nullable());
}

expr::ExprPtr Call(const std::string& fn, std::vector<expr::ExprPtr> args) {
  static SessionConfig config;
  const auto* f = expr::FunctionRegistry::Default().FindScalar(fn);
  EXPECT_NE(f, nullptr) << fn;
  expr::CallSite site;
  for (const auto& a : args) {
    site.arg_types.push_back(a->type);
    site.literal_args.push_back(a->kind == expr::ExprKind::kLiteral ? a->value : nullptr);
  }
  site.config = &config;
  auto call = std::make_shared<expr::ResolvedCall>(f->resolve(site).ValueOrDie());
  return expr::MakeCall(fn, call, std::move(args));
}

expr::ExprPtr And(expr::ExprPtr a, expr::ExprPtr b) {
  return expr::MakeSpecial(expr::ExprKind::kAnd, arrow::boolean(), {std::move(a), std::move(b)});
}

expr::ExprPtr Int(int v) { return expr::MakeLiteral(std::make_shared<arrow::Int32Scalar>(v)); }

expr::ExprPtr Str(const std::string& v) {
  return expr::MakeLiteral(std::make_shared<arrow::StringScalar>(v));
}

expr::ResolvedAggregate Agg(const std::string& name, const std::vector<types::TypePtr>& arg_types,
                            bool distinct, std::vector<std::shared_ptr<arrow::Scalar>> literals) {
  static SessionConfig config;
  const auto* f = expr::FunctionRegistry::Default().FindAggregate(name);
  if (f == nullptr) {
    ADD_FAILURE_AT(__FILE__, __LINE__);
    return {};
  }
  expr::AggregateSite site;
  site.arg_types = arg_types;
  site.literal_args.assign(arg_types.size(), nullptr);
  for (auto& l : literals) {
    site.arg_types.push_back(l->type);
    site.literal_args.push_back(l);
  }
  site.distinct = distinct;
  site.config = &config;
  return f->resolve(site).ValueOrDie();
}

Result<std::vector<BatchPtr>> RunPlan(const PhysicalNodePtr& root, int threads,
                                      int64_t memory_limit, int64_t batch_size) {
  static SessionConfig config;
  ExecContext ctx;
  ctx.eval.config = &config;
  ctx.threads = threads;
  ctx.memory_limit = memory_limit;
  ctx.batch_size = batch_size;
  return ExecutePlan(root, &ctx);
}

std::vector<std::string> Rows(const std::vector<BatchPtr>& batches) {
  std::vector<std::string> out;
  for (const auto& b : batches) {
    for (int64_t r = 0; r < b->num_rows(); ++r) {
      std::string row;
      for (int c = 0; c < b->num_columns(); ++c) {
        if (c) row += "|";
        auto s = b->column(c)->GetScalar(r).ValueOrDie();
        row += s->is_valid ? s->ToString() : "NULL";
      }
      out.push_back(row);
    }
  }
  return out;
}

std::vector<std::string> SortedRows(const std::vector<BatchPtr>& batches) {
  auto rows = Rows(batches);
  std::sort(rows.begin(), rows.end());
  return rows;
}

int64_t NumRows(const std::vector<BatchPtr>& batches) {
  int64_t n = 0;
  for (const auto& b : batches) n += b->num_rows();
  return n;
}

}  // namespace lakestream::exec::testing

// FunctionRegistry::Default() refers to the families through weak references,
// which do not pull an archive member into the link; this strong reference
// makes sure the aggregate functions are linked into the operator tests.
[[gnu::used]] static void (*const kLinkAggregates)(lakestream::expr::FunctionRegistry*) =
    &lakestream::expr::RegisterAggregateFunctions;
[[gnu::used]] static void (*const kLinkComparisons)(lakestream::expr::FunctionRegistry*) =
    &lakestream::expr::RegisterComparisonFunctions;
