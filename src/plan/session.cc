#include "plan/session.h"

#include <arrow/builder.h>

#include <chrono>
#include <set>

#include "common/init.h"
#include "expr/function.h"
#include "plan/binder.h"
#include "plan/delta_sql.h"
#include "plan/physical_planner.h"
#include "sql/parser.h"

namespace lakestream::plan {

int64_t QueryResult::num_rows() const {
  int64_t n = 0;
  for (const auto& b : batches) n += b->num_rows();
  return n;
}

namespace {

QueryResult StringTable(const std::vector<std::string>& names,
                        const std::vector<std::vector<std::string>>& rows) {
  arrow::FieldVector fields;
  std::vector<arrow::StringBuilder> builders(names.size());
  for (const auto& n : names) fields.push_back(arrow::field(n, arrow::utf8()));
  for (const auto& r : rows) {
    for (size_t i = 0; i < names.size(); ++i) (void)builders[i].Append(r[i]);
  }
  arrow::ArrayVector cols;
  for (auto& b : builders) cols.push_back(*b.Finish());
  QueryResult out;
  out.schema = arrow::schema(fields);
  out.batches = {arrow::RecordBatch::Make(out.schema, static_cast<int64_t>(rows.size()), cols)};
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

Session::Session() {
  (void)Initialize();
  RegisterDeltaSql();
}

expr::EvalContext Session::MakeEvalContext() const {
  expr::EvalContext ctx;
  ctx.config = &config_;
  ctx.now_micros = statement_time_micros_;
  return ctx;
}

Result<LogicalPtr> Session::PlanQuery(const sql::Query& query) {
  ARROW_ASSIGN_OR_RAISE(auto plan, BindQuery(this, query));
  return OptimizeBatch(plan);
}

Result<QueryResult> Session::Run(const LogicalPtr& plan) {
  ARROW_ASSIGN_OR_RAISE(auto physical, PlanPhysical(plan, config_));
  exec::ExecContext ctx;
  ctx.eval = MakeEvalContext();
  ctx.threads = config_.threads;
  ctx.memory_limit = config_.memory_limit;
  ARROW_ASSIGN_OR_RAISE(auto batches, exec::ExecutePlan(physical, &ctx));
  QueryResult r;
  r.schema = plan->schema;
  for (auto& b : batches) {
    // Nodes may name fields differently (hidden columns); the plan's schema is the contract.
    r.batches.push_back(arrow::RecordBatch::Make(r.schema, b->num_rows(), b->columns()));
  }
  return r;
}

Result<QueryResult> Session::Execute(const sql::Statement& st) {
  statement_time_micros_ = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  using sql::StatementType;
  switch (st.type) {
    case StatementType::kQuery: {
      ARROW_ASSIGN_OR_RAISE(auto plan, PlanQuery(*st.query));
      return Run(plan);
    }
    case StatementType::kExplain: {
      if (!st.inner || st.inner->type != StatementType::kQuery) {
        return Unsupported("EXPLAIN supports queries only");
      }
      ARROW_ASSIGN_OR_RAISE(auto bound, BindQuery(this, *st.inner->query));
      ARROW_ASSIGN_OR_RAISE(auto plan, OptimizeBatch(bound));
      ARROW_ASSIGN_OR_RAISE(auto physical, PlanPhysical(plan, config_));
      std::string text = "== Physical Plan ==\n" + exec::ExplainPlan(*physical);
      if (st.explain_mode == "EXTENDED") {
        text = "== Analyzed Logical Plan ==\n" + ExplainLogical(*bound) +
               "\n== Optimized Logical Plan ==\n" + ExplainLogical(*plan) + "\n" + text;
      }
      return StringTable({"plan"}, {{text}});
    }
    case StatementType::kSet: {
      if (st.key.empty()) {
        std::vector<std::vector<std::string>> rows;
        rows.push_back({"spark.sql.ansi.enabled", config_.ansi ? "true" : "false"});
        rows.push_back({"spark.sql.session.timeZone", config_.time_zone});
        for (const auto& [k, v] : config_.raw) {
          if (Lower(k) != "spark.sql.ansi.enabled" && Lower(k) != "spark.sql.session.timezone")
            rows.push_back({k, v});
        }
        return StringTable({"key", "value"}, rows);
      }
      if (!st.has_value) {
        std::string v = "<undefined>";
        auto k = Lower(st.key);
        if (k == "spark.sql.ansi.enabled")
          v = config_.ansi ? "true" : "false";
        else if (k == "spark.sql.session.timezone")
          v = config_.time_zone;
        else if (auto it = config_.raw.find(st.key); it != config_.raw.end())
          v = it->second;
        return StringTable({"key", "value"}, {{st.key, v}});
      }
      std::string err;
      if (!config_.Set(st.key, st.value, &err)) return UserError("{}", err);
      return StringTable({"key", "value"}, {{st.key, st.value}});
    }
    case StatementType::kReset: {
      if (st.key.empty()) {
        config_ = SessionConfig();
      } else {
        SessionConfig def;
        auto k = Lower(st.key);
        if (k == "spark.sql.ansi.enabled") config_.ansi = def.ansi;
        if (k == "spark.sql.session.timezone") config_.time_zone = def.time_zone;
        config_.raw.erase(st.key);
      }
      return QueryResult{};
    }
    case StatementType::kCreateView: {
      auto name = Lower(st.name_parts.back());
      if (views_.count(name) && !st.or_replace) {
        return UserError(
            "[TEMP_TABLE_OR_VIEW_ALREADY_EXISTS] Cannot create the temporary view `{}` because it "
            "already exists",
            name);
      }
      // Bind once now so errors surface at CREATE, as in Spark.
      ARROW_ASSIGN_OR_RAISE(auto plan, BindQuery(this, *st.query));
      if (!st.columns.empty() &&
          static_cast<int>(st.columns.size()) != plan->schema->num_fields()) {
        return UserError(
            "[CREATE_VIEW_COLUMN_ARITY_MISMATCH] view `{}` names {} columns but its query returns "
            "{}",
            name, st.columns.size(), plan->schema->num_fields());
      }
      {
        // Column names of a view must be unique (case-insensitively), as in Spark.
        std::set<std::string> seen;
        std::vector<std::string> names = st.columns;
        if (names.empty()) {
          for (const auto& f : plan->schema->fields()) names.push_back(f->name());
        }
        for (const auto& n : names) {
          if (!seen.insert(Lower(n)).second) {
            return UserError("[COLUMN_ALREADY_EXISTS] The column `{}` already exists in view `{}`",
                             n, name);
          }
        }
      }
      views_[name] = View{st.query, st.columns};
      return QueryResult{};
    }
    case StatementType::kDropView: {
      auto name = Lower(st.name_parts.back());
      if (!views_.erase(name) && !st.if_exists) {
        return UserError("[TABLE_OR_VIEW_NOT_FOUND] The view `{}` cannot be found", name);
      }
      return QueryResult{};
    }
    case StatementType::kShowTables: {
      std::vector<std::vector<std::string>> rows;
      for (const auto& [k, v] : views_) rows.push_back({"", k, "true"});
      return StringTable({"namespace", "tableName", "isTemporary"}, rows);
    }
    case StatementType::kShowFunctions: {
      std::vector<std::vector<std::string>> rows;
      for (const auto& n : expr::FunctionRegistry::Default().Names()) rows.push_back({n});
      return StringTable({"function"}, rows);
    }
    default: {
      auto it = StatementHandlers().find(static_cast<int>(st.type));
      if (it != StatementHandlers().end()) return it->second(this, st);
      return Unsupported("this statement is not supported yet: {}", st.text);
    }
  }
}

std::map<int, Session::StatementHandler>& Session::StatementHandlers() {
  static std::map<int, StatementHandler> m;
  return m;
}

Status Session::ExecuteScript(
    std::string_view sql,
    const std::function<Status(const sql::Statement&, const QueryResult&)>& on_result) {
  ARROW_ASSIGN_OR_RAISE(auto statements, sql::ParseStatements(sql));
  for (const auto& st : statements) {
    ARROW_ASSIGN_OR_RAISE(auto r, Execute(*st));
    ARROW_RETURN_NOT_OK(on_result(*st, r));
  }
  return Status::OK();
}

Result<QueryResult> Session::ExecuteSql(std::string_view sql) {
  ARROW_ASSIGN_OR_RAISE(auto st, sql::ParseStatement(sql));
  return Execute(*st);
}

}  // namespace lakestream::plan
