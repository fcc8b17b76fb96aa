// A SQL session: configuration (SET), temporary views, and the path from SQL
// text to results: parse -> bind -> optimize -> physical plan -> execute.
#pragma once

#include <arrow/record_batch.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "plan/logical_plan.h"
#include "sql/ast.h"

namespace lakestream::plan {

struct QueryResult {
  std::shared_ptr<arrow::Schema> schema;  // null for statements without rows
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  int64_t num_rows() const;
};

class Session {
 public:
  Session();

  SessionConfig& config() { return config_; }
  const SessionConfig& config() const { return config_; }

  /// Runs one parsed statement.
  Result<QueryResult> Execute(const sql::Statement& statement);
  /// Parses and runs every statement of `sql`; stops at the first error.
  /// `on_result` sees each statement's result as it completes.
  Status ExecuteScript(std::string_view sql,
                       const std::function<Status(const sql::Statement&, const QueryResult&)>& on_result);
  /// Parses and runs exactly one statement.
  Result<QueryResult> ExecuteSql(std::string_view sql);

  /// Binds and optimizes a query into a logical plan (EXPLAIN uses it too).
  Result<LogicalPtr> PlanQuery(const sql::Query& query);
  /// Runs a logical plan.
  Result<QueryResult> Run(const LogicalPtr& plan);

  /// A temporary view: its query, re-bound at every reference as Spark does.
  struct View {
    sql::QueryPtr query;
    std::vector<std::string> columns;  // CREATE VIEW v (a, b): renamed columns
  };
  /// Temporary views by lower-case name.
  std::map<std::string, View>& views() { return views_; }
  /// Statements handled by other layers (Delta: CREATE TABLE AS, INSERT,
  /// DESCRIBE HISTORY/DETAIL), keyed by sql::StatementType.
  using StatementHandler = std::function<Result<QueryResult>(Session*, const sql::Statement&)>;
  static std::map<int, StatementHandler>& StatementHandlers();

  /// Resolves `FROM STREAM <source>` while the stream layer plans a streaming
  /// query; unset in batch sessions (FROM STREAM is then refused). `kind` is
  /// the source format ("kafka", "files", "delta", "rate"); `ref` carries the
  /// WATERMARK clause.
  using StreamResolver = std::function<Result<std::shared_ptr<ScanSource>>(
      const std::string& kind, const std::vector<std::shared_ptr<arrow::Scalar>>& positional,
      const std::map<std::string, std::shared_ptr<arrow::Scalar>>& named, const sql::TableRef& ref)>;
  StreamResolver stream_resolver;

  /// `(subquery) WATERMARK col DELAY OF ...` in a streaming query: `expr`
  /// computes the subquery's column `name` from the rows of the streaming
  /// source `source` (through projections and filters); `delay_us` is the
  /// delay. Unset in batch sessions (the clause is then refused).
  using StreamWatermark = std::function<Status(const ScanSource* source, expr::ExprPtr expr,
                                               const std::string& name, int64_t delay_us)>;
  StreamWatermark stream_watermark;

  /// A fresh evaluation context (current_timestamp fixed per statement).
  expr::EvalContext MakeEvalContext() const;

 private:
  SessionConfig config_;
  std::map<std::string, View> views_;
  int64_t statement_time_micros_ = 0;
};

}  // namespace lakestream::plan
