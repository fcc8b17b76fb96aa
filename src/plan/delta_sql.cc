// Delta Lake in SQL: SELECT ... FROM delta.`/path` [VERSION|TIMESTAMP AS OF],
// CREATE [OR REPLACE] TABLE [IF NOT EXISTS] delta.`/path` ... AS SELECT,
// INSERT INTO|OVERWRITE delta.`/path` SELECT, DESCRIBE HISTORY and DESCRIBE
// DETAIL, on top of connectors/delta (DeltaLog, DeltaScan, WriteDelta).
#include "plan/delta_sql.h"

#include <arrow/builder.h>
#include <arrow/compute/cast.h>
#include <arrow/table.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <mutex>

#include "connectors/delta/log.h"
#include "connectors/delta/scan.h"
#include "connectors/delta/writer.h"
#include "expr/cast.h"
#include "formats/file_source.h"
#include "plan/binder.h"
#include "plan/pushdown_internal.h"
#include "plan/session.h"
#include "types/types.h"

namespace lakestream::plan {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Status MissingTable(const std::string& path) {
  return UserError(
      "[DELTA_MISSING_DELTA_TABLE] `{}` is not a Delta table (no commit in {}/_delta_log)", path,
      path);
}

// The snapshot a FROM item or DESCRIBE target reads: latest, or time travel.
Result<std::shared_ptr<const delta::Snapshot>> LoadSnapshot(Session* session,
                                                            const std::string& path,
                                                            std::optional<int64_t> version,
                                                            std::optional<std::string> timestamp) {
  auto log = delta::DeltaLog::Open(path);
  ARROW_ASSIGN_OR_RAISE(bool exists, log->TableExists());
  if (!exists) return MissingTable(path);
  if (version && timestamp) {
    return UserError(
        "[DELTA_ONLY_ONE_OF_VERSION_OR_TIMESTAMP] time travel on `{}`: give VERSION AS OF or "
        "TIMESTAMP AS OF, not both",
        path);
  }
  if (version) return log->AtVersion(*version);
  if (timestamp) {
    auto ctx = session->MakeEvalContext();
    auto cast = expr::Cast(arrow::Datum(std::make_shared<arrow::StringScalar>(*timestamp)),
                           types::Timestamp(), expr::CastMode::kAnsi, ctx);
    if (!cast.ok()) {
      return UserError("TIMESTAMP AS OF '{}' on `{}`: not a valid timestamp ({})", *timestamp, path,
                       cast.status().message());
    }
    const auto& ts = static_cast<const arrow::TimestampScalar&>(*cast->scalar());
    if (!ts.is_valid)
      return UserError("TIMESTAMP AS OF on `{}`: the timestamp must not be NULL", path);
    int64_t micros = ts.value;
    // Floor to milliseconds: the commit times are in ms.
    int64_t ms = micros >= 0 ? micros / 1000 : -((-micros + 999) / 1000);
    return log->AtTimestamp(ms);
  }
  return log->Latest();
}

Result<std::string> StringArg(const std::shared_ptr<arrow::Scalar>& s, const char* what) {
  if (!s || !s->is_valid || s->type->id() != arrow::Type::STRING) {
    return UserError("delta: {} must be a string literal", what);
  }
  return static_cast<const arrow::StringScalar&>(*s).value->ToString();
}

// Rows per scan task when a file is split by row groups: a few tasks per
// core for a file of 1M rows, each big enough that opening it is noise.
constexpr int64_t kSplitRows = 128 * 1024;

Result<std::shared_ptr<ScanSource>> DeltaSource(
    Session* session, const std::vector<std::shared_ptr<arrow::Scalar>>& positional,
    const std::map<std::string, std::shared_ptr<arrow::Scalar>>& named) {
  if (positional.size() != 1)
    return UserError("delta: expected one table path, e.g. delta.`/data/events`");
  ARROW_ASSIGN_OR_RAISE(auto path, StringArg(positional[0], "the table path"));
  std::optional<int64_t> version;
  std::optional<std::string> timestamp;
  for (const auto& [k, v] : named) {
    auto key = Lower(k);
    if (key == "versionasof") {
      if (!v || !v->is_valid || v->type->id() != arrow::Type::INT64) {
        return UserError("delta: VERSION AS OF on `{}` must be an integer literal", path);
      }
      version = static_cast<const arrow::Int64Scalar&>(*v).value;
    } else if (key == "timestampasof") {
      ARROW_ASSIGN_OR_RAISE(auto t, StringArg(v, "TIMESTAMP AS OF"));
      timestamp = t;
    } else {
      return UserError("delta: unknown option '{}' on `{}` (expected versionAsOf or timestampAsOf)",
                       k, path);
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto snapshot, LoadSnapshot(session, path, version, timestamp));
  // A scan of all columns gives the logical output schema (no column-mapping metadata).
  ARROW_ASSIGN_OR_RAISE(auto probe, delta::DeltaScan::Make(snapshot));
  auto schema = probe->output_schema();
  auto src = std::make_shared<ScanSource>();
  src->description = fmt::format("DeltaScan [{}] version={}", path, snapshot->version());
  src->schema = schema;
  // Without time travel every planning of the scan reads the table as it is
  // then: a streaming query re-plans its static side per micro-batch, so a
  // stream-static join sees the Delta table's new commits (as Spark does).
  const bool pinned = version.has_value() || timestamp.has_value();
  auto current = std::make_shared<std::shared_ptr<const delta::Snapshot>>(snapshot);
  auto mu = std::make_shared<std::mutex>();
  // Set once a batch query relied on the current snapshot's statistics
  // (prove_filters): the tasks must read that snapshot. Guarded by `mu`.
  auto frozen = std::make_shared<bool>(false);
  src->prove_filters = [current, mu, frozen, schema](
                           const std::vector<expr::ExprPtr>& filters) -> Result<std::vector<bool>> {
    std::shared_ptr<const delta::Snapshot> snapshot;
    {
      std::lock_guard<std::mutex> lock(*mu);
      snapshot = *current;
      *frozen = true;
    }
    auto all = ToColumnPredicates(filters, *schema);
    std::vector<const delta::AddFile*> kept;
    for (const auto& f : snapshot->files()) {
      bool by_partition;
      if (delta::FileMayMatch(f, *snapshot, all, &by_partition)) kept.push_back(&f);
    }
    std::vector<bool> proven(filters.size(), false);
    for (size_t i = 0; i < filters.size(); ++i) {
      auto one = ToColumnPredicates({filters[i]}, *schema);
      if (one.size() != 1) continue;
      proven[i] = std::all_of(kept.begin(), kept.end(), [&](const delta::AddFile* f) {
        return delta::FileProves(*f, *snapshot, one[0]);
      });
    }
    return proven;
  };
  src->make_dictionary_tasks = [current, mu, frozen, pinned, path, schema](
                                   const std::vector<int>& columns,
                                   const std::vector<expr::ExprPtr>& filters,
                                   const std::vector<int>& dictionary_columns,
                                   std::string* explain) -> Result<std::vector<exec::ScanTask>> {
    std::shared_ptr<const delta::Snapshot> snapshot;
    {
      std::lock_guard<std::mutex> lock(*mu);
      if (!pinned && !*frozen) {
        auto log = delta::DeltaLog::Open(path);
        ARROW_ASSIGN_OR_RAISE(auto latest, log->Latest());
        if (latest->version() != (*current)->version()) {
          ARROW_ASSIGN_OR_RAISE(auto probe, delta::DeltaScan::Make(latest));
          if (!probe->output_schema()->Equals(*schema, /*check_metadata=*/false)) {
            return UserError(
                "the Delta table `{}` changed its schema at version {} while a query reading it "
                "runs "
                "(was {}, now {}): restart the query",
                path, latest->version(), schema->ToString(), probe->output_schema()->ToString());
          }
          *current = std::move(latest);
        }
      }
      snapshot = *current;
    }
    delta::DeltaScanOptions opts;
    // {-1} (row counts only) reads every column for now.
    if ((!columns.empty() && columns[0] >= 0) || schema->num_fields() == 0) {
      std::vector<std::string> names;
      for (int c : columns) names.push_back(schema->field(c)->name());
      opts.columns = names;
    }
    opts.predicates = ToColumnPredicates(filters, *schema);
    for (int c : dictionary_columns) opts.dictionary_columns.push_back(schema->field(c)->name());
    ARROW_ASSIGN_OR_RAISE(auto scan_unique, delta::DeltaScan::Make(snapshot, opts));
    std::shared_ptr<delta::DeltaScan> scan(std::move(scan_unique));
    const auto& m = scan->metrics();
    if (explain) {
      *explain =
          fmt::format("files={} pruned={} (partition={} stats={}) total={} pushed_filters={}",
                      scan->files().size(), m.files_pruned_by_partition + m.files_pruned_by_stats,
                      m.files_pruned_by_partition, m.files_pruned_by_stats, m.files_total,
                      opts.predicates.size());
      if (!opts.dictionary_columns.empty()) {
        *explain += fmt::format(" dictionary=[{}]", fmt::join(opts.dictionary_columns, ", "));
      }
      // Row groups of the files kept, known when a predicate touches a data column.
      if (m.row_groups_total > 0) {
        *explain += fmt::format(" row_groups={} row_groups_pruned={}",
                                m.row_groups_total.load() - m.row_groups_pruned_by_stats.load(),
                                m.row_groups_pruned_by_stats.load());
      }
    }
    // A task per data file, or per run of its row groups when the footer is
    // known (a filter on a data column): a selective scan that keeps one
    // file then still runs on every worker. Each task decodes a batch at a
    // time, so memory is bounded by batches, not files.
    std::vector<exec::ScanTask> out;
    for (size_t i = 0; i < scan->files().size(); ++i) {
      for (auto& split : scan->RowGroupSplits(scan->files()[i], kSplitRows)) {
        auto row_groups = std::make_shared<const std::vector<int>>(std::move(split));
        out.push_back([scan, i, row_groups]() -> Result<exec::BatchIterator> {
          ARROW_ASSIGN_OR_RAISE(auto it, scan->OpenFile(scan->files()[i], row_groups.get()));
          auto held = std::make_shared<formats::BatchIterator>(std::move(it));
          // `scan` is captured: the iterator reads through it.
          return exec::BatchIterator(
              [scan, held]() -> Result<exec::BatchPtr> { return held->Next(); });
        });
      }
    }
    return out;
  };
  src->make_tasks = [tasks = src->make_dictionary_tasks](
                        const std::vector<int>& columns, const std::vector<expr::ExprPtr>& filters,
                        std::string* explain) { return tasks(columns, filters, {}, explain); };
  return src;
}

// The table path of a statement target delta.`/path`.
Result<std::string> DeltaTarget(const std::vector<std::string>& parts, const std::string& what) {
  if (parts.size() == 2 && Lower(parts[0]) == "delta") return parts[1];
  std::string name;
  for (const auto& p : parts) name += (name.empty() ? "" : ".") + p;
  return Unsupported("{}: only Delta path targets are supported (delta.`/path`), got `{}`", what,
                     name);
}

QueryResult CountsResult(int64_t rows) {
  QueryResult out;
  out.schema = arrow::schema({arrow::field("num_affected_rows", arrow::int64()),
                              arrow::field("num_inserted_rows", arrow::int64())});
  arrow::Int64Builder a, b;
  (void)a.Append(rows);
  (void)b.Append(rows);
  out.batches = {arrow::RecordBatch::Make(out.schema, 1, {*a.Finish(), *b.Finish()})};
  return out;
}

// Spark's StructType.asNullable: CTAS declares every column (and nested field)
// nullable, so later INSERTs may write NULLs.
std::shared_ptr<arrow::DataType> AsNullable(const std::shared_ptr<arrow::DataType>& t);
std::shared_ptr<arrow::Field> AsNullable(const std::shared_ptr<arrow::Field>& f) {
  return f->WithType(AsNullable(f->type()))->WithNullable(true);
}
std::shared_ptr<arrow::DataType> AsNullable(const std::shared_ptr<arrow::DataType>& t) {
  switch (t->id()) {
    case arrow::Type::STRUCT: {
      arrow::FieldVector fields;
      for (const auto& f : t->fields()) fields.push_back(AsNullable(f));
      return arrow::struct_(fields);
    }
    case arrow::Type::LIST:
      return arrow::list(AsNullable(static_cast<const arrow::ListType&>(*t).value_field()));
    case arrow::Type::MAP: {
      const auto& m = static_cast<const arrow::MapType&>(*t);
      return std::make_shared<arrow::MapType>(m.key_field()->WithType(AsNullable(m.key_type())),
                                              AsNullable(m.item_field()));
    }
    default:
      return t;
  }
}

std::string FieldsText(const arrow::FieldVector& fields) {
  std::string out = "(";
  for (size_t i = 0; i < fields.size(); ++i) out += (i ? ", " : "") + fields[i]->ToString();
  return out + ")";
}

// Session settings of a Delta write: spark.sql.files.maxRecordsPerFile
// (Spark's; 0 = no limit, lakestream then keeps its 1Mi rows per file),
// lakestream.delta.rowGroupRows (Parquet row group size in rows) and
// lakestream.delta.deltaBinaryPacked (true/false, see DeltaWriteOptions).
Status ApplyWriteSettings(const Session& session, delta::DeltaWriteOptions* opts) {
  const auto& raw = session.config().raw;
  auto number = [&](const char* key, int64_t* out) -> Status {
    for (const auto& [k, v] : raw) {
      if (Lower(k) != Lower(key)) continue;
      int64_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size() || n < 0) {
        return UserError("{} must be a non-negative number of rows, got '{}'", key, v);
      }
      *out = n;
    }
    return Status::OK();
  };
  int64_t per_file = 0, group_rows = 0;
  ARROW_RETURN_NOT_OK(number("spark.sql.files.maxRecordsPerFile", &per_file));
  ARROW_RETURN_NOT_OK(number("lakestream.delta.rowGroupRows", &group_rows));
  if (per_file > 0) opts->max_rows_per_file = per_file;
  if (group_rows > 0) opts->row_group_rows = group_rows;
  for (const auto& [k, v] : raw) {
    if (Lower(k) != "lakestream.delta.deltabinarypacked") continue;
    if (Lower(v) != "true" && Lower(v) != "false") {
      return UserError("lakestream.delta.deltaBinaryPacked must be true or false, got '{}'", v);
    }
    opts->delta_binary_packed = Lower(v) == "true";
  }
  return Status::OK();
}

Result<std::shared_ptr<arrow::Table>> RunToTable(Session* session, const sql::Query& query) {
  ARROW_ASSIGN_OR_RAISE(auto plan, session->PlanQuery(query));
  ARROW_ASSIGN_OR_RAISE(auto result, session->Run(plan));
  return arrow::Table::FromRecordBatches(result.schema, result.batches);
}

Result<QueryResult> CreateTableAs(Session* session, const sql::Statement& st) {
  ARROW_ASSIGN_OR_RAISE(auto path, DeltaTarget(st.name_parts, "CREATE TABLE AS SELECT"));
  if (!st.using_format.empty() && Lower(st.using_format) != "delta") {
    return Unsupported("CREATE TABLE delta.`{}` USING {}: only USING delta is supported", path,
                       st.using_format);
  }
  if (!st.query) return UserError("CREATE TABLE delta.`{}`: AS SELECT ... is required", path);
  auto log = delta::DeltaLog::Open(path);
  ARROW_ASSIGN_OR_RAISE(bool exists, log->TableExists());
  if (exists && st.if_not_exists) return QueryResult{};
  if (exists && !st.or_replace) {
    return UserError(
        "[TABLE_OR_VIEW_ALREADY_EXISTS] Cannot create table delta.`{}` because it already exists "
        "(use CREATE OR REPLACE TABLE or IF NOT EXISTS)",
        path);
  }
  ARROW_ASSIGN_OR_RAISE(auto query_data, RunToTable(session, *st.query));
  arrow::FieldVector fields;
  for (const auto& f : query_data->schema()->fields()) fields.push_back(AsNullable(f));
  arrow::ChunkedArrayVector columns;
  for (int i = 0; i < query_data->num_columns(); ++i) {
    auto col = query_data->column(i);
    if (!col->type()->Equals(*fields[i]->type())) {
      // Only nested nullability flags differ: Arrow's cast relabels them.
      ARROW_ASSIGN_OR_RAISE(auto d, arrow::compute::Cast(col, fields[i]->type()));
      col = d.chunked_array();
    }
    columns.push_back(col);
  }
  auto data = arrow::Table::Make(arrow::schema(fields), columns, query_data->num_rows());
  if (exists) {
    // OR REPLACE overwrites the data; WriteDelta keeps the table's metaData, so
    // a new schema or partitioning cannot be committed (yet): say so clearly.
    ARROW_ASSIGN_OR_RAISE(auto snapshot, log->Latest());
    ARROW_ASSIGN_OR_RAISE(auto probe, delta::DeltaScan::Make(snapshot));
    const auto& old_schema = probe->output_schema();
    bool same = old_schema->num_fields() == static_cast<int>(fields.size()) &&
                snapshot->metadata().partition_columns == st.partition_by;
    for (int i = 0; same && i < old_schema->num_fields(); ++i) {
      same = Lower(old_schema->field(i)->name()) == Lower(fields[i]->name()) &&
             AsNullable(old_schema->field(i)->type())->Equals(*fields[i]->type());
    }
    if (!same) {
      return Unsupported(
          "CREATE OR REPLACE TABLE delta.`{}`: replacing the schema or partitioning of an existing "
          "table is not supported yet (table: {} partitioned by [{}]; query: {} partitioned by "
          "[{}])",
          path, FieldsText(old_schema->fields()),
          fmt::join(snapshot->metadata().partition_columns, ", "), FieldsText(fields),
          fmt::join(st.partition_by, ", "));
    }
  }
  delta::DeltaWriteOptions opts;
  opts.mode = exists ? delta::DeltaWriteOptions::Mode::kOverwrite
                     : delta::DeltaWriteOptions::Mode::kErrorIfExists;
  ARROW_RETURN_NOT_OK(ApplyWriteSettings(*session, &opts));
  opts.partition_columns = st.partition_by;
  for (const auto& [k, v] : st.properties) opts.configuration[k] = v;
  if (!st.comment.empty()) opts.description = st.comment;
  opts.operation = st.or_replace ? "CREATE OR REPLACE TABLE AS SELECT" : "CREATE TABLE AS SELECT";
  // WriteDelta adds mode and partitionBy itself.
  opts.operation_parameters["isManaged"] = "false";
  ARROW_ASSIGN_OR_RAISE(auto res, delta::WriteDelta(path, data, opts));
  (void)res;
  return QueryResult{};
}

bool IsNumeric(const arrow::DataType& t) {
  return arrow::is_integer(t.id()) || arrow::is_floating(t.id()) || arrow::is_decimal(t.id());
}
bool IsDatetime(const arrow::DataType& t) {
  return t.id() == arrow::Type::DATE32 || t.id() == arrow::Type::TIMESTAMP;
}

// Spark's ANSI store assignment (spark.sql.storeAssignmentPolicy=ANSI, the
// default): numeric to numeric, datetime to datetime, atomic to string, NULL to
// anything; no string to number or boolean. Nested types field by field.
bool CanStoreAssign(const arrow::DataType& from, const arrow::DataType& to) {
  if (from.id() == arrow::Type::NA || from.Equals(to, /*check_metadata=*/false)) return true;
  if (IsNumeric(from) && IsNumeric(to)) return true;
  if (IsDatetime(from) && IsDatetime(to)) return true;
  if (to.id() == arrow::Type::STRING && from.num_fields() == 0) return true;
  if (from.id() != to.id()) return false;
  if (from.num_fields() != to.num_fields() || from.num_fields() == 0) return false;
  for (int i = 0; i < from.num_fields(); ++i) {
    if (!CanStoreAssign(*from.field(i)->type(), *to.field(i)->type())) return false;
  }
  return true;
}

Result<QueryResult> Insert(Session* session, const sql::Statement& st) {
  ARROW_ASSIGN_OR_RAISE(
      auto path, DeltaTarget(st.name_parts, st.overwrite ? "INSERT OVERWRITE" : "INSERT INTO"));
  if (!st.columns.empty()) {
    return Unsupported(
        "INSERT INTO delta.`{}` with a column list is not supported yet; list the columns in the "
        "SELECT in table order",
        path);
  }
  if (!st.query) return UserError("INSERT INTO delta.`{}`: a query is required", path);
  auto log = delta::DeltaLog::Open(path);
  ARROW_ASSIGN_OR_RAISE(bool exists, log->TableExists());
  if (!exists) return MissingTable(path);
  ARROW_ASSIGN_OR_RAISE(auto snapshot, log->Latest());
  ARROW_ASSIGN_OR_RAISE(auto probe, delta::DeltaScan::Make(snapshot));
  auto target = probe->output_schema();
  ARROW_ASSIGN_OR_RAISE(auto data, RunToTable(session, *st.query));
  if (data->num_columns() != target->num_fields()) {
    return UserError(
        "[INSERT_COLUMN_ARITY_MISMATCH] Cannot write to delta.`{}`: the table has {} columns, the "
        "query "
        "produces {}",
        path, target->num_fields(), data->num_columns());
  }
  auto ctx = session->MakeEvalContext();
  arrow::ChunkedArrayVector cols;
  for (int i = 0; i < target->num_fields(); ++i) {
    const auto& want = target->field(i)->type();
    auto col = data->column(i);
    if (!col->type()->Equals(*want)) {
      if (!CanStoreAssign(*col->type(), *want) ||
          !expr::CanCast(*col->type(), *want, /*ansi=*/true)) {
        return UserError(
            "[INCOMPATIBLE_DATA_FOR_TABLE.CANNOT_SAFELY_CAST] Cannot write to delta.`{}`: column "
            "{} "
            "`{}` is {} but the query's column {} `{}` is {}",
            path, i + 1, target->field(i)->name(), want->ToString(), i + 1,
            data->schema()->field(i)->name(), col->type()->ToString());
      }
      ARROW_ASSIGN_OR_RAISE(auto cast,
                            expr::Cast(arrow::Datum(col), want, expr::CastMode::kAnsi, ctx));
      col = cast.chunked_array();
    }
    cols.push_back(col);
  }
  auto out = arrow::Table::Make(target, cols, data->num_rows());
  delta::DeltaWriteOptions opts;
  opts.mode = st.overwrite ? delta::DeltaWriteOptions::Mode::kOverwrite
                           : delta::DeltaWriteOptions::Mode::kAppend;
  opts.operation = "WRITE";
  ARROW_RETURN_NOT_OK(ApplyWriteSettings(*session, &opts));
  ARROW_ASSIGN_OR_RAISE(auto res, delta::WriteDelta(path, out, opts));
  return CountsResult(res.rows_written);
}

// The JSON value of `key` at the top level of a JSON object, as text.
std::optional<std::string> JsonMember(const std::string& json, const std::string& key) {
  auto needle = "\"" + key + "\"";
  size_t pos = json.find(needle);
  if (pos == std::string::npos) return std::nullopt;
  pos = json.find(':', pos + needle.size());
  if (pos == std::string::npos) return std::nullopt;
  ++pos;
  while (pos < json.size() && isspace(static_cast<unsigned char>(json[pos]))) ++pos;
  size_t start = pos;
  int depth = 0;
  bool in_str = false;
  for (; pos < json.size(); ++pos) {
    char c = json[pos];
    if (in_str) {
      if (c == '\\')
        ++pos;
      else if (c == '"') {
        in_str = false;
        if (depth == 0) return json.substr(start, pos + 1 - start);
      }
      continue;
    }
    if (c == '"')
      in_str = true;
    else if (c == '{' || c == '[')
      ++depth;
    else if (c == '}' || c == ']') {
      if (depth == 0) break;
      if (--depth == 0) return json.substr(start, pos + 1 - start);
    } else if (c == ',' && depth == 0)
      break;
  }
  return json.substr(start, pos - start);
}

std::string Unquote(const std::string& s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

Result<std::string> DescribeTargetPath(const sql::Statement& st, const char* what,
                                       std::optional<int64_t>* version,
                                       std::optional<std::string>* timestamp) {
  const auto& parts = st.describe_target ? st.describe_target->name_parts : st.name_parts;
  if (st.describe_target) {
    *version = st.describe_target->version_as_of;
    *timestamp = st.describe_target->timestamp_as_of;
  }
  return DeltaTarget(parts, what);
}

Result<QueryResult> DescribeHistory(Session* session, const sql::Statement& st) {
  std::optional<int64_t> version;
  std::optional<std::string> timestamp;
  ARROW_ASSIGN_OR_RAISE(auto path,
                        DescribeTargetPath(st, "DESCRIBE HISTORY", &version, &timestamp));
  auto log = delta::DeltaLog::Open(path);
  ARROW_ASSIGN_OR_RAISE(bool exists, log->TableExists());
  if (!exists) return MissingTable(path);
  int64_t limit = 0;
  if (st.has_value) {
    auto [p, ec] = std::from_chars(st.value.data(), st.value.data() + st.value.size(), limit);
    if (ec != std::errc() || limit < 0)
      return UserError("DESCRIBE HISTORY ... LIMIT expects a count, got {}", st.value);
  }
  ARROW_ASSIGN_OR_RAISE(auto history, log->History(limit));
  arrow::Int64Builder version_b, read_version_b;
  arrow::TimestampBuilder ts_b(types::Timestamp(), arrow::default_memory_pool());
  arrow::StringBuilder op_b, params_b, metrics_b, engine_b, isolation_b;
  arrow::BooleanBuilder blind_b;
  for (const auto& h : history) {
    ARROW_RETURN_NOT_OK(version_b.Append(h.version));
    ARROW_RETURN_NOT_OK(ts_b.Append(h.timestamp_ms * 1000));
    std::string raw = h.commit_info ? h.commit_info->raw_json : "";
    auto str_member = [&](arrow::StringBuilder& b, const char* key, bool unquote) -> Status {
      auto v = h.commit_info ? JsonMember(raw, key) : std::nullopt;
      if (!v || *v == "null") return b.AppendNull();
      return b.Append(unquote ? Unquote(*v) : *v);
    };
    if (h.commit_info && h.commit_info->operation) {
      ARROW_RETURN_NOT_OK(op_b.Append(*h.commit_info->operation));
    } else {
      ARROW_RETURN_NOT_OK(op_b.AppendNull());
    }
    ARROW_RETURN_NOT_OK(str_member(params_b, "operationParameters", false));
    auto rv = h.commit_info ? JsonMember(raw, "readVersion") : std::nullopt;
    int64_t rv_num = 0;
    if (rv && !rv->empty() && (isdigit(static_cast<unsigned char>((*rv)[0])))) {
      rv_num = std::stoll(*rv);
      ARROW_RETURN_NOT_OK(read_version_b.Append(rv_num));
    } else {
      ARROW_RETURN_NOT_OK(read_version_b.AppendNull());
    }
    ARROW_RETURN_NOT_OK(str_member(isolation_b, "isolationLevel", true));
    auto blind = h.commit_info ? JsonMember(raw, "isBlindAppend") : std::nullopt;
    if (blind && (*blind == "true" || *blind == "false")) {
      ARROW_RETURN_NOT_OK(blind_b.Append(*blind == "true"));
    } else {
      ARROW_RETURN_NOT_OK(blind_b.AppendNull());
    }
    ARROW_RETURN_NOT_OK(str_member(metrics_b, "operationMetrics", false));
    ARROW_RETURN_NOT_OK(str_member(engine_b, "engineInfo", true));
  }
  QueryResult out;
  out.schema = arrow::schema(
      {arrow::field("version", arrow::int64()), arrow::field("timestamp", types::Timestamp()),
       arrow::field("operation", arrow::utf8()), arrow::field("operationParameters", arrow::utf8()),
       arrow::field("readVersion", arrow::int64()), arrow::field("isolationLevel", arrow::utf8()),
       arrow::field("isBlindAppend", arrow::boolean()),
       arrow::field("operationMetrics", arrow::utf8()), arrow::field("engineInfo", arrow::utf8())});
  arrow::ArrayVector cols(9);
  ARROW_RETURN_NOT_OK(version_b.Finish(&cols[0]));
  ARROW_RETURN_NOT_OK(ts_b.Finish(&cols[1]));
  ARROW_RETURN_NOT_OK(op_b.Finish(&cols[2]));
  ARROW_RETURN_NOT_OK(params_b.Finish(&cols[3]));
  ARROW_RETURN_NOT_OK(read_version_b.Finish(&cols[4]));
  ARROW_RETURN_NOT_OK(isolation_b.Finish(&cols[5]));
  ARROW_RETURN_NOT_OK(blind_b.Finish(&cols[6]));
  ARROW_RETURN_NOT_OK(metrics_b.Finish(&cols[7]));
  ARROW_RETURN_NOT_OK(engine_b.Finish(&cols[8]));
  out.batches = {arrow::RecordBatch::Make(out.schema, static_cast<int64_t>(history.size()), cols)};
  return out;
}

Result<QueryResult> DescribeDetail(Session* session, const sql::Statement& st) {
  std::optional<int64_t> version;
  std::optional<std::string> timestamp;
  ARROW_ASSIGN_OR_RAISE(auto path, DescribeTargetPath(st, "DESCRIBE DETAIL", &version, &timestamp));
  ARROW_ASSIGN_OR_RAISE(auto snapshot, LoadSnapshot(session, path, version, timestamp));
  const auto& md = snapshot->metadata();
  int64_t size = 0;
  for (const auto& f : snapshot->files()) size += f.size;
  arrow::StringBuilder format_b, id_b, name_b, desc_b, location_b;
  arrow::TimestampBuilder created_b(types::Timestamp(), arrow::default_memory_pool());
  arrow::TimestampBuilder modified_b(types::Timestamp(), arrow::default_memory_pool());
  auto value_b = std::make_shared<arrow::StringBuilder>();
  arrow::ListBuilder parts_b(arrow::default_memory_pool(), value_b);
  arrow::Int64Builder files_b, size_b;
  auto key_b = std::make_shared<arrow::StringBuilder>();
  auto item_b = std::make_shared<arrow::StringBuilder>();
  arrow::MapBuilder props_b(arrow::default_memory_pool(), key_b, item_b);
  arrow::Int32Builder reader_b, writer_b;
  ARROW_RETURN_NOT_OK(format_b.Append("delta"));
  ARROW_RETURN_NOT_OK(id_b.Append(md.id));
  ARROW_RETURN_NOT_OK(md.name ? name_b.Append(*md.name) : name_b.AppendNull());
  ARROW_RETURN_NOT_OK(md.description ? desc_b.Append(*md.description) : desc_b.AppendNull());
  ARROW_RETURN_NOT_OK(location_b.Append(snapshot->table_root()));
  ARROW_RETURN_NOT_OK(md.created_time ? created_b.Append(*md.created_time * 1000)
                                      : created_b.AppendNull());
  ARROW_RETURN_NOT_OK(modified_b.Append(snapshot->timestamp_ms() * 1000));
  ARROW_RETURN_NOT_OK(parts_b.Append());
  for (const auto& p : md.partition_columns) ARROW_RETURN_NOT_OK(value_b->Append(p));
  ARROW_RETURN_NOT_OK(files_b.Append(static_cast<int64_t>(snapshot->files().size())));
  ARROW_RETURN_NOT_OK(size_b.Append(size));
  ARROW_RETURN_NOT_OK(props_b.Append());
  for (const auto& [k, v] : md.configuration) {
    ARROW_RETURN_NOT_OK(key_b->Append(k));
    ARROW_RETURN_NOT_OK(item_b->Append(v));
  }
  ARROW_RETURN_NOT_OK(reader_b.Append(snapshot->protocol().min_reader_version));
  ARROW_RETURN_NOT_OK(writer_b.Append(snapshot->protocol().min_writer_version));
  QueryResult out;
  out.schema = arrow::schema(
      {arrow::field("format", arrow::utf8()), arrow::field("id", arrow::utf8()),
       arrow::field("name", arrow::utf8()), arrow::field("description", arrow::utf8()),
       arrow::field("location", arrow::utf8()), arrow::field("createdAt", types::Timestamp()),
       arrow::field("lastModified", types::Timestamp()),
       arrow::field("partitionColumns", arrow::list(arrow::utf8())),
       arrow::field("numFiles", arrow::int64()), arrow::field("sizeInBytes", arrow::int64()),
       arrow::field("properties", arrow::map(arrow::utf8(), arrow::utf8())),
       arrow::field("minReaderVersion", arrow::int32()),
       arrow::field("minWriterVersion", arrow::int32())});
  arrow::ArrayVector cols(13);
  ARROW_RETURN_NOT_OK(format_b.Finish(&cols[0]));
  ARROW_RETURN_NOT_OK(id_b.Finish(&cols[1]));
  ARROW_RETURN_NOT_OK(name_b.Finish(&cols[2]));
  ARROW_RETURN_NOT_OK(desc_b.Finish(&cols[3]));
  ARROW_RETURN_NOT_OK(location_b.Finish(&cols[4]));
  ARROW_RETURN_NOT_OK(created_b.Finish(&cols[5]));
  ARROW_RETURN_NOT_OK(modified_b.Finish(&cols[6]));
  ARROW_RETURN_NOT_OK(parts_b.Finish(&cols[7]));
  ARROW_RETURN_NOT_OK(files_b.Finish(&cols[8]));
  ARROW_RETURN_NOT_OK(size_b.Finish(&cols[9]));
  ARROW_RETURN_NOT_OK(props_b.Finish(&cols[10]));
  ARROW_RETURN_NOT_OK(reader_b.Finish(&cols[11]));
  ARROW_RETURN_NOT_OK(writer_b.Finish(&cols[12]));
  out.batches = {arrow::RecordBatch::Make(out.schema, 1, cols)};
  return out;
}

}  // namespace

void RegisterDeltaSql() {
  static std::once_flag once;
  std::call_once(once, [] {
    TableSourceRegistry()["delta"] = DeltaSource;
    auto& h = Session::StatementHandlers();
    h[static_cast<int>(sql::StatementType::kCreateTableAs)] = CreateTableAs;
    h[static_cast<int>(sql::StatementType::kInsert)] = Insert;
    h[static_cast<int>(sql::StatementType::kDescribeHistory)] = DescribeHistory;
    h[static_cast<int>(sql::StatementType::kDescribeDetail)] = DescribeDetail;
  });
}

}  // namespace lakestream::plan
