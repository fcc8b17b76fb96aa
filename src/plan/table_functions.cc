// Table-valued functions of FROM: range(), read_files() and the
// format-qualified paths (parquet.`/p`, csv.`/p`, delta.`/p`).
#include <arrow/builder.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "formats/file_source.h"
#include "plan/binder.h"
#include "plan/pushdown_internal.h"
#include "types/types.h"

namespace lakestream::plan {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Result<int64_t> AsInt(const std::shared_ptr<arrow::Scalar>& s, const char* what) {
  if (!s || !s->is_valid) return UserError("range(): {} must not be NULL", what);
  switch (s->type->id()) {
    case arrow::Type::INT8:
      return static_cast<const arrow::Int8Scalar&>(*s).value;
    case arrow::Type::INT16:
      return static_cast<const arrow::Int16Scalar&>(*s).value;
    case arrow::Type::INT32:
      return static_cast<const arrow::Int32Scalar&>(*s).value;
    case arrow::Type::INT64:
      return static_cast<const arrow::Int64Scalar&>(*s).value;
    default:
      return UserError("range(): {} must be an integer, got {}", what, types::ToDDL(*s->type));
  }
}

std::string OptionText(const arrow::Scalar& s) {
  if (s.type->id() == arrow::Type::STRING)
    return static_cast<const arrow::StringScalar&>(s).value->ToString();
  if (s.type->id() == arrow::Type::BOOL)
    return static_cast<const arrow::BooleanScalar&>(s).value ? "true" : "false";
  return s.ToString();
}

Result<std::shared_ptr<ScanSource>> RangeSource(
    const std::vector<std::shared_ptr<arrow::Scalar>>& args) {
  int64_t start = 0, end = 0, step = 1;
  if (args.size() == 1) {
    ARROW_ASSIGN_OR_RAISE(end, AsInt(args[0], "end"));
  } else if (args.size() >= 2 && args.size() <= 4) {
    ARROW_ASSIGN_OR_RAISE(start, AsInt(args[0], "start"));
    ARROW_ASSIGN_OR_RAISE(end, AsInt(args[1], "end"));
    if (args.size() >= 3) {
      ARROW_ASSIGN_OR_RAISE(step, AsInt(args[2], "step"));
    }
  } else {
    return UserError("range() takes 1 to 4 arguments, got {}", args.size());
  }
  if (step == 0) return UserError("range(): step must not be 0");
  auto schema = arrow::schema({arrow::field("id", arrow::int64(), false)});
  int64_t count = 0;
  if ((step > 0 && end > start) || (step < 0 && end < start)) {
    // Rows are start, start+step, ... while before end; computed without overflow.
    __int128 span = static_cast<__int128>(end) - start;
    count = static_cast<int64_t>((span + step + (step > 0 ? -1 : 1)) / step);
  }
  auto src = std::make_shared<ScanSource>();
  src->description = fmt::format("Range ({}, {}, step={})", start, end, step);
  src->schema = schema;
  const int64_t kChunk = 64 * 1024;
  src->make_tasks = [=](const std::vector<int>& columns, const std::vector<expr::ExprPtr>&,
                        std::string*) -> Result<std::vector<exec::ScanTask>> {
    std::vector<exec::ScanTask> tasks;
    bool want_id = columns.empty() || std::find(columns.begin(), columns.end(), 0) != columns.end();
    for (int64_t first = 0; first < count; first += kChunk) {
      int64_t n = std::min(kChunk, count - first);
      tasks.push_back([=]() -> Result<exec::BatchIterator> {
        auto done = std::make_shared<bool>(false);
        return exec::BatchIterator([=]() -> Result<exec::BatchPtr> {
          if (*done) return nullptr;
          *done = true;
          if (!want_id) return arrow::RecordBatch::Make(arrow::schema({}), n, arrow::ArrayVector{});
          arrow::Int64Builder b;
          ARROW_RETURN_NOT_OK(b.Resize(n));
          int64_t v = start + first * step;
          for (int64_t i = 0; i < n; ++i, v += step) b.UnsafeAppend(v);
          ARROW_ASSIGN_OR_RAISE(auto arr, b.Finish());
          return arrow::RecordBatch::Make(schema, n, {arr});
        });
      });
    }
    return tasks;
  };
  return src;
}

Result<std::shared_ptr<ScanSource>> ReadFilesSource(
    const std::vector<std::shared_ptr<arrow::Scalar>>& positional,
    const std::map<std::string, std::shared_ptr<arrow::Scalar>>& named) {
  std::vector<std::string> paths;
  std::map<std::string, std::string> options;
  for (const auto& p : positional) {
    if (!p || !p->is_valid || p->type->id() != arrow::Type::STRING) {
      return UserError("read_files: the path must be a string literal");
    }
    paths.push_back(OptionText(*p));
  }
  for (const auto& [k, v] : named) {
    if (Lower(k) == "path") {
      paths.push_back(OptionText(*v));
      continue;
    }
    if (!v || !v->is_valid) return UserError("read_files: option '{}' must not be NULL", k);
    options[k] = OptionText(*v);
  }
  if (paths.empty())
    return UserError(
        "read_files: a path is required, e.g. read_files('/data/x.csv', format => 'csv')");
  ARROW_ASSIGN_OR_RAISE(auto opts, formats::FileReadOptions::FromMap(options));
  if (!named.count("format") && !options.count("format")) {
    // Like Databricks' read_files: the format follows the file extension when not given.
    auto ext = Lower(paths[0].substr(paths[0].find_last_of('.') + 1));
    if (ext == "csv" || ext == "json" || ext == "parquet") opts.format = ext;
    if (ext == "jsonl" || ext == "ndjson") opts.format = "json";
    if (ext == "txt") opts.format = "text";
  }
  ARROW_ASSIGN_OR_RAISE(auto files, formats::ListFiles(paths, opts));
  ARROW_ASSIGN_OR_RAISE(auto schema, formats::ResolveSchema(files, opts));
  auto src = std::make_shared<ScanSource>();
  src->description =
      fmt::format("FileScan {} [{}{}]", opts.format, paths[0], paths.size() > 1 ? ", ..." : "");
  src->schema = schema;
  src->make_dictionary_tasks = [=](const std::vector<int>& columns,
                                   const std::vector<expr::ExprPtr>& filters,
                                   const std::vector<int>& dictionary_columns,
                                   std::string* explain) -> Result<std::vector<exec::ScanTask>> {
    formats::ScanRequest req;
    if (!columns.empty() || schema->num_fields() == 0) {
      std::vector<std::string> names;
      for (int c : columns) {
        if (c >= 0) names.push_back(schema->field(c)->name());  // -1: no column, row counts only
      }
      req.columns = names;
    }
    req.predicates = ToColumnPredicates(filters, *schema);
    for (int c : dictionary_columns) req.dictionary_columns.push_back(schema->field(c)->name());
    ARROW_ASSIGN_OR_RAISE(auto scanner, formats::FileScanner::Make(files, schema, opts, req));
    std::shared_ptr<formats::FileScanner> shared(std::move(scanner));
    ARROW_ASSIGN_OR_RAISE(auto tasks, shared->PlanTasks());
    if (explain) {
      *explain = fmt::format("files={} tasks={} row_groups_pruned={} pushed_filters={}",
                             files.size(), tasks.size(),
                             shared->metrics().row_groups_skipped.load(), req.predicates.size());
      if (!req.dictionary_columns.empty()) {
        *explain += fmt::format(" dictionary=[{}]", fmt::join(req.dictionary_columns, ", "));
      }
    }
    std::vector<exec::ScanTask> out;
    for (const auto& t : tasks) {
      out.push_back([shared, t]() -> Result<exec::BatchIterator> {
        ARROW_ASSIGN_OR_RAISE(auto it, shared->OpenTask(t));
        auto holder = std::make_shared<formats::BatchIterator>(std::move(it));
        return exec::BatchIterator([holder, shared]() { return holder->Next(); });
      });
    }
    return out;
  };
  src->make_tasks = [tasks = src->make_dictionary_tasks](
                        const std::vector<int>& columns, const std::vector<expr::ExprPtr>& filters,
                        std::string* explain) { return tasks(columns, filters, {}, explain); };
  return src;
}

}  // namespace

// Pushes simple `column <op> literal` conjuncts into scans: Parquet row groups
// (read_files) and whole Delta files are skipped by their statistics. Rows are
// still filtered above the scan.
std::vector<formats::ColumnPredicate> ToColumnPredicates(const std::vector<expr::ExprPtr>& filters,
                                                         const arrow::Schema& schema) {
  std::vector<formats::ColumnPredicate> out;
  static const std::map<std::string, formats::ColumnPredicate::Op> ops = {
      {"equal", formats::ColumnPredicate::kEq},   {"not_equal", formats::ColumnPredicate::kNe},
      {"less", formats::ColumnPredicate::kLt},    {"less_equal", formats::ColumnPredicate::kLe},
      {"greater", formats::ColumnPredicate::kGt}, {"greater_equal", formats::ColumnPredicate::kGe}};
  static const std::map<std::string, std::string> flipped = {
      {"less", "greater"}, {"less_equal", "greater_equal"},
      {"greater", "less"}, {"greater_equal", "less_equal"},
      {"equal", "equal"},  {"not_equal", "not_equal"}};
  for (const auto& f : filters) {
    if (f->kind != expr::ExprKind::kCall) continue;
    if ((f->name == "is_null" || f->name == "is_not_null") && f->args.size() == 1 &&
        f->args[0]->kind == expr::ExprKind::kColumn) {
      formats::ColumnPredicate p;
      p.column = schema.field(f->args[0]->column_index)->name();
      p.op = f->name == "is_null" ? formats::ColumnPredicate::kIsNull
                                  : formats::ColumnPredicate::kIsNotNull;
      out.push_back(p);
      continue;
    }
    if (f->args.size() != 2) continue;
    // Statistics are in byte order; a comparison under a collation is not.
    if (f->call && f->call->collation != types::Collation::kUtf8Binary) continue;
    auto a = f->args[0], b = f->args[1];
    std::string name = f->name;
    if (a->kind == expr::ExprKind::kLiteral && b->kind == expr::ExprKind::kColumn) {
      auto fl = flipped.find(name);
      if (fl == flipped.end()) continue;
      std::swap(a, b);
      name = fl->second;
    }
    auto op = ops.find(name);
    if (op == ops.end() || a->kind != expr::ExprKind::kColumn ||
        b->kind != expr::ExprKind::kLiteral)
      continue;
    if (!b->value || !b->value->is_valid || !b->value->type->Equals(*a->type)) continue;
    formats::ColumnPredicate p;
    p.column = schema.field(a->column_index)->name();
    p.op = op->second;
    p.values = {b->value};
    out.push_back(p);
  }
  return out;
}

// Other layers (Delta) register sources by name here.
std::map<std::string, TableSourceFactory>& TableSourceRegistry() {
  static std::map<std::string, TableSourceFactory> m;
  return m;
}

Result<std::shared_ptr<ScanSource>> MakeTableFunctionSource(
    Session* session, const std::string& name,
    const std::vector<std::shared_ptr<arrow::Scalar>>& positional,
    const std::map<std::string, std::shared_ptr<arrow::Scalar>>& named, const sql::Location& loc) {
  auto n = Lower(name);
  Result<std::shared_ptr<ScanSource>> r;
  if (n == "range") {
    r = RangeSource(positional);
  } else if (n == "read_files") {
    r = ReadFilesSource(positional, named);
  } else if (auto it = TableSourceRegistry().find(n); it != TableSourceRegistry().end()) {
    r = it->second(session, positional, named);
  } else {
    return UserError("[UNRESOLVED_ROUTINE] Cannot resolve table function `{}` at line {}:{}", name,
                     loc.line, loc.column);
  }
  if (!r.ok()) {
    auto msg = r.status().message();
    return r.status().WithMessage(fmt::format("{} (line {}:{})", msg, loc.line, loc.column));
  }
  return r;
}

}  // namespace lakestream::plan
