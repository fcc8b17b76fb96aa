// CSV (and plain text) files through Arrow's CSV reader, with Spark's options.
//
// Arrow parses every column as text; conversion to the schema's types happens
// here (ConvertStrings) so that a value that does not parse affects only its
// row, as in Spark: PERMISSIVE nulls the field and fills the corrupt-record
// column with the raw line, DROPMALFORMED drops the row, FAILFAST fails naming
// file and line. Rows with the wrong number of fields arrive through Arrow's
// invalid_row_handler with their text and their number among the non-empty
// lines, which (when records cannot span lines) maps them back to physical
// lines. Spark maps a user schema onto CSV columns by position (the header's
// names are not checked), and so do we.
#include <arrow/array/builder_binary.h>
#include <arrow/array/builder_primitive.h>
#include <arrow/compute/api.h>
#include <arrow/csv/api.h>
#include <arrow/io/memory.h>
#include <arrow/table.h>
#include <arrow/util/value_parsing.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "formats/format_internal.h"
#include "types/types.h"

namespace lakestream::formats::internal {
namespace {

/// One non-empty physical line of the (prepared) buffer.
struct Line {
  int64_t number;  // 1-based physical line number in the file
  int64_t begin;
  int64_t end;  // exclusive, without the line terminator
};

/// Non-empty lines, split at \n, \r\n and \r like Arrow's parser.
std::vector<Line> SplitLines(std::string_view data) {
  std::vector<Line> lines;
  int64_t number = 1;
  size_t i = 0;
  while (i < data.size()) {
    size_t j = i;
    while (j < data.size() && data[j] != '\n' && data[j] != '\r') ++j;
    if (j > i) lines.push_back(Line{number, static_cast<int64_t>(i), static_cast<int64_t>(j)});
    if (j < data.size() && data[j] == '\r' && j + 1 < data.size() && data[j + 1] == '\n') ++j;
    i = j + 1;
    ++number;
  }
  return lines;
}

/// Applies the options Arrow lacks: a custom lineSep becomes '\n', and comment
/// lines become empty lines (which Arrow skips) so line numbers stay physical.
Result<std::shared_ptr<arrow::Buffer>> PrepareBuffer(std::shared_ptr<arrow::Buffer> buffer,
                                                     const FileReadOptions& options) {
  bool custom_sep = !options.line_sep.empty() && options.line_sep != "\n" &&
                    options.line_sep != "\r\n" && options.line_sep != "\r";
  if (!custom_sep && !options.comment) return buffer;
  std::string data(reinterpret_cast<const char*>(buffer->data()), buffer->size());
  if (custom_sep) {
    std::string out;
    out.reserve(data.size());
    size_t pos = 0;
    while (true) {
      size_t hit = data.find(options.line_sep, pos);
      if (hit == std::string::npos) {
        out.append(data, pos, std::string::npos);
        break;
      }
      out.append(data, pos, hit - pos);
      out.push_back('\n');
      pos = hit + options.line_sep.size();
    }
    data = std::move(out);
  }
  if (options.comment) {
    std::string out;
    out.reserve(data.size());
    size_t i = 0;
    while (i < data.size()) {
      size_t j = data.find('\n', i);
      if (j == std::string::npos) j = data.size();
      if (data[i] != *options.comment) out.append(data, i, j - i);
      if (j < data.size()) out.push_back('\n');
      i = j + 1;
    }
    data = std::move(out);
  }
  return std::shared_ptr<arrow::Buffer>(arrow::Buffer::FromString(std::move(data)));
}

arrow::csv::ParseOptions MakeParseOptions(const FileReadOptions& o) {
  auto p = arrow::csv::ParseOptions::Defaults();
  p.delimiter = o.sep;
  p.quoting = o.quoting;
  p.quote_char = o.quote;
  p.double_quote = true;
  p.escaping = o.escape != o.quote;
  p.escape_char = o.escape;
  p.newlines_in_values = o.multi_line;
  p.ignore_empty_lines = true;
  return p;
}

struct BadRow {
  int64_t number;  // Arrow's row number (1-based over non-empty lines), or -1
  int32_t expected;
  int32_t actual;
  std::string text;
};

/// Reads `buffer` with every column as STRING. `names` empty: the header row
/// (or _c<i> names) is used. Invalid rows are collected into `bad` and skipped,
/// or, when `fail_on_bad`, stop the read.
Result<std::shared_ptr<arrow::Table>> ReadStrings(const std::shared_ptr<arrow::Buffer>& buffer,
                                                  const FileReadOptions& options,
                                                  const std::vector<std::string>& names,
                                                  const std::vector<std::string>& include,
                                                  bool fail_on_bad, std::vector<BadRow>* bad) {
  auto read = arrow::csv::ReadOptions::Defaults();
  read.use_threads = false;  // the scan parallelizes across tasks
  if (!names.empty()) {
    read.column_names = names;
    read.skip_rows = options.header ? 1 : 0;
  } else {
    read.autogenerate_column_names = !options.header;
  }
  auto parse = MakeParseOptions(options);
  parse.invalid_row_handler = [bad, fail_on_bad](const arrow::csv::InvalidRow& row) {
    bad->push_back(BadRow{row.number, row.expected_columns, row.actual_columns,
                          std::string(row.text)});
    return fail_on_bad ? arrow::csv::InvalidRowResult::Error
                       : arrow::csv::InvalidRowResult::Skip;
  };
  auto convert = arrow::csv::ConvertOptions::Defaults();
  convert.default_column_type = arrow::utf8();
  convert.null_values = {options.null_value};
  convert.strings_can_be_null = true;
  convert.quoted_strings_can_be_null = true;
  convert.include_columns = include;
  auto input = std::make_shared<arrow::io::BufferReader>(buffer);
  LS_ASSIGN_OR_RAISE(auto reader,
                     arrow::csv::TableReader::Make(arrow::io::default_io_context(), input, read,
                                                   parse, convert));
  return reader->Read();
}

bool IsBlank(const arrow::Buffer& buffer) {
  for (int64_t i = 0; i < buffer.size(); ++i) {
    char c = static_cast<char>(buffer.data()[i]);
    if (c != '\n' && c != '\r') return false;
  }
  return true;
}

// ---- type inference (Spark's CSVInferSchema) ----

enum class Inferred { kNull, kInt, kLong, kDouble, kDate, kTimestamp, kBoolean, kString };

Inferred InferValue(std::string_view s, const FileReadOptions& o) {
  int32_t i32;
  int64_t i64;
  double d;
  if (arrow::internal::ParseValue<arrow::Int32Type>(s.data(), s.size(), &i32)) {
    return Inferred::kInt;
  }
  if (arrow::internal::ParseValue<arrow::Int64Type>(s.data(), s.size(), &i64)) {
    return Inferred::kLong;
  }
  if (s == o.nan_value || s == o.positive_inf || s == o.negative_inf) return Inferred::kDouble;
  if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s.back())) || s.back() == '.') &&
      arrow::internal::ParseValue<arrow::DoubleType>(s.data(), s.size(), &d)) {
    return Inferred::kDouble;
  }
  int32_t days;
  if (s.size() == 10 && arrow::internal::ParseValue<arrow::Date32Type>(s.data(), s.size(), &days)) {
    return Inferred::kDate;
  }
  int64_t ts;
  static const arrow::TimestampType kTs(arrow::TimeUnit::MICRO);
  if (s.size() > 10 && arrow::internal::ParseValue(kTs, s.data(), s.size(), &ts)) {
    return Inferred::kTimestamp;
  }
  if (EqualsIgnoreCase(s, "true") || EqualsIgnoreCase(s, "false")) return Inferred::kBoolean;
  return Inferred::kString;
}

Inferred Merge(Inferred a, Inferred b) {
  if (a == b) return a;
  if (a == Inferred::kNull) return b;
  if (b == Inferred::kNull) return a;
  if (a > b) std::swap(a, b);
  if (b <= Inferred::kDouble) return b;  // int < long < double widen
  if (a == Inferred::kDate && b == Inferred::kTimestamp) return b;
  return Inferred::kString;
}

std::shared_ptr<arrow::DataType> ToType(Inferred t) {
  switch (t) {
    case Inferred::kInt:
      return arrow::int32();
    case Inferred::kLong:
      return arrow::int64();
    case Inferred::kDouble:
      return arrow::float64();
    case Inferred::kDate:
      return arrow::date32();
    case Inferred::kTimestamp:
      return types::Timestamp();
    case Inferred::kBoolean:
      return arrow::boolean();
    default:
      return arrow::utf8();
  }
}

/// Spark's header handling: empty names become _c<i>, duplicate names get
/// their index appended (case-insensitively, as Spark's default).
std::vector<std::string> DedupNames(std::vector<std::string> names) {
  std::vector<std::string> out = names;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) {
      out[i] = "_c" + std::to_string(i);
      continue;
    }
    for (size_t j = 0; j < names.size(); ++j) {
      if (j != i && EqualsIgnoreCase(names[i], names[j])) {
        out[i] = names[i] + std::to_string(i);
        break;
      }
    }
  }
  return out;
}

Status WrapCsvError(const Status& st, const std::string& path) {
  return Status(st.code(), fmt::format("reading CSV file {}: {}", path, st.message()));
}

}  // namespace

Result<SchemaPtr> InferCsvSchema(const std::vector<std::string>& files,
                                 const FileReadOptions& options) {
  std::vector<std::string> names;
  std::vector<Inferred> kinds;
  for (const auto& path : files) {
    LS_ASSIGN_OR_RAISE(auto raw, ReadWholeFile(path));
    LS_ASSIGN_OR_RAISE(auto buffer, PrepareBuffer(raw, options));
    if (IsBlank(*buffer)) continue;
    std::vector<BadRow> bad;
    auto table = ReadStrings(buffer, options, {}, {}, /*fail_on_bad=*/false, &bad);
    if (!table.ok()) return WrapCsvError(table.status(), path);
    if (names.empty()) {
      for (int i = 0; i < (*table)->num_columns(); ++i) {
        names.push_back(options.header ? (*table)->field(i)->name() : "_c" + std::to_string(i));
      }
      kinds.assign(names.size(), Inferred::kNull);
    }
    if (!options.infer_schema) break;  // only the column names are needed
    int n = std::min<int>((*table)->num_columns(), static_cast<int>(kinds.size()));
    for (int c = 0; c < n; ++c) {
      for (const auto& chunk : (*table)->column(c)->chunks()) {
        const auto& arr = static_cast<const arrow::StringArray&>(*chunk);
        for (int64_t i = 0; i < arr.length(); ++i) {
          if (arr.IsNull(i)) continue;
          kinds[c] = Merge(kinds[c], InferValue(arr.GetView(i), options));
          if (kinds[c] == Inferred::kString) break;
        }
      }
    }
  }
  names = DedupNames(std::move(names));
  std::vector<std::shared_ptr<arrow::Field>> fields;
  for (size_t i = 0; i < names.size(); ++i) {
    fields.push_back(arrow::field(names[i], options.infer_schema ? ToType(kinds[i]) : arrow::utf8()));
  }
  return arrow::schema(std::move(fields));
}

Result<BatchIterator> OpenCsvFile(const ReadContext& ctx) {
  const FileReadOptions& o = *ctx.options;
  const bool failfast = o.mode == FileReadOptions::Mode::kFailFast;
  const bool permissive = o.mode == FileReadOptions::Mode::kPermissive;
  LS_ASSIGN_OR_RAISE(auto raw, ReadWholeFile(ctx.path));
  ctx.metrics->bytes_read.fetch_add(raw->size(), std::memory_order_relaxed);
  LS_ASSIGN_OR_RAISE(auto buffer, PrepareBuffer(raw, o));

  // Data columns: the schema without the corrupt-record column, by position.
  std::vector<int> data_fields;  // indices into data_schema
  std::vector<std::string> names;
  for (int i = 0; i < ctx.data_schema->num_fields(); ++i) {
    if (i == ctx.corrupt_index) continue;
    data_fields.push_back(i);
    names.push_back(ctx.data_schema->field(i)->name());
  }
  // Columns to convert: the requested ones, except the corrupt column.
  std::vector<std::string> include;
  for (int f : ctx.output_fields) {
    if (f != ctx.corrupt_index) include.push_back(ctx.data_schema->field(f)->name());
  }
  const bool need_all = include.empty() && !names.empty();  // count-only projection
  if (need_all) include.push_back(names[0]);

  std::shared_ptr<arrow::Table> table;
  std::vector<BadRow> bad;
  if (IsBlank(*buffer) || names.empty()) {
    std::vector<std::shared_ptr<arrow::Field>> fs;
    for (const auto& n : include) fs.push_back(arrow::field(n, arrow::utf8()));
    LS_ASSIGN_OR_RAISE(table, arrow::Table::MakeEmpty(arrow::schema(fs)));
  } else {
    auto read = ReadStrings(buffer, o, names, include, failfast, &bad);
    if (!read.ok()) {
      if (failfast && !bad.empty()) {
        const auto& b = bad.front();
        std::string where = ctx.path;
        if (!o.multi_line && b.number > 0) {
          auto lines = SplitLines(std::string_view(
              reinterpret_cast<const char*>(buffer->data()), buffer->size()));
          if (b.number - 1 < static_cast<int64_t>(lines.size())) {
            where += ":" + std::to_string(lines[b.number - 1].number);
          }
        }
        return UserError(
            "malformed CSV record at {}: expected {} fields, found {} (mode FAILFAST)", where,
            b.expected, b.actual);
      }
      return WrapCsvError(read.status(), ctx.path);
    }
    LS_ASSIGN_OR_RAISE(table, (*read)->CombineChunks());
  }
  ctx.metrics->malformed_rows.fetch_add(static_cast<int64_t>(bad.size()),
                                        std::memory_order_relaxed);

  const int header_rows = o.header ? 1 : 0;
  std::vector<Line> lines;
  bool have_lines = false;
  auto line_of = [&](int64_t nonempty_index) -> const Line* {
    if (o.multi_line) return nullptr;
    if (!have_lines) {
      lines = SplitLines(
          std::string_view(reinterpret_cast<const char*>(buffer->data()), buffer->size()));
      have_lines = true;
    }
    if (nonempty_index < 0 || nonempty_index >= static_cast<int64_t>(lines.size())) return nullptr;
    return &lines[nonempty_index];
  };

  // String columns of the requested data fields, in `include` order.
  std::vector<std::shared_ptr<arrow::Array>> strings;
  for (int c = 0; c < table->num_columns(); ++c) strings.push_back(table->column(c)->chunk(0));
  int64_t num_rows = table->num_rows();
  // corrupt text per row index (only rows that have one).
  std::map<int64_t, std::string> corrupt;

  // PERMISSIVE keeps rows with the wrong field count: re-insert them at their
  // place, their fields padded with NULL or truncated, as Spark does.
  if (permissive && !bad.empty()) {
    std::vector<std::vector<std::optional<std::string>>> bad_fields;
    std::vector<int> include_pos;  // position of each include column among `names`
    for (const auto& n : include) {
      include_pos.push_back(static_cast<int>(
          std::find(names.begin(), names.end(), n) - names.begin()));
    }
    for (const auto& b : bad) {
      std::vector<BadRow> ignored;
      FileReadOptions single = o;
      single.header = false;
      auto t = ReadStrings(arrow::Buffer::FromString(b.text + "\n"), single, {}, {}, false,
                           &ignored);
      std::vector<std::optional<std::string>> row(include.size());
      if (t.ok() && (*t)->num_rows() == 1) {
        for (size_t k = 0; k < include.size(); ++k) {
          int src = include_pos[k];
          if (src < (*t)->num_columns()) {
            auto chunk = (*t)->column(src)->chunk(0);
            if (chunk->IsValid(0)) {
              row[k] = std::string(static_cast<const arrow::StringArray&>(*chunk).GetView(0));
            }
          }
        }
      }
      bad_fields.push_back(std::move(row));
    }
    // Merge: bad row k goes to data row (number - 1 - header); unknown
    // numbers go last.
    std::vector<arrow::StringBuilder> builders(include.size());
    size_t next_bad = 0;
    int64_t good = 0;
    int64_t out_row = 0;
    auto emit_bad = [&](size_t k) -> Status {
      for (size_t c = 0; c < include.size(); ++c) {
        if (bad_fields[k][c]) {
          LS_RETURN_NOT_OK(builders[c].Append(*bad_fields[k][c]));
        } else {
          LS_RETURN_NOT_OK(builders[c].AppendNull());
        }
      }
      corrupt[out_row++] = bad[k].text;
      return Status::OK();
    };
    while (good < num_rows || next_bad < bad.size()) {
      bool take_bad = next_bad < bad.size() &&
                      (good >= num_rows || (bad[next_bad].number > 0 &&
                                            bad[next_bad].number - 1 - header_rows <= out_row));
      if (take_bad) {
        LS_RETURN_NOT_OK(emit_bad(next_bad++));
        continue;
      }
      for (size_t c = 0; c < include.size(); ++c) {
        const auto& arr = static_cast<const arrow::StringArray&>(*strings[c]);
        if (arr.IsNull(good)) {
          LS_RETURN_NOT_OK(builders[c].AppendNull());
        } else {
          LS_RETURN_NOT_OK(builders[c].Append(arr.GetView(good)));
        }
      }
      ++good;
      ++out_row;
    }
    for (size_t c = 0; c < include.size(); ++c) {
      LS_RETURN_NOT_OK(builders[c].Finish(&strings[c]));
    }
    num_rows = out_row;
  }

  // Trimming, then conversion to the schema's types.
  std::vector<std::shared_ptr<arrow::Array>> converted(include.size());
  std::map<int64_t, size_t> bad_value_rows;  // row -> first column that failed
  for (size_t c = 0; c < include.size(); ++c) {
    auto arr = strings[c];
    if (o.ignore_leading_white_space || o.ignore_trailing_white_space) {
      const char* fn = o.ignore_leading_white_space && o.ignore_trailing_white_space
                           ? "utf8_trim_whitespace"
                           : (o.ignore_leading_white_space ? "utf8_ltrim_whitespace"
                                                           : "utf8_rtrim_whitespace");
      LS_ASSIGN_OR_RAISE(auto d, arrow::compute::CallFunction(fn, {arr}));
      arr = d.make_array();
      strings[c] = arr;
    }
    const auto& type = ctx.data_schema->GetFieldByName(include[c])->type();
    std::vector<int64_t> bad_rows;
    LS_ASSIGN_OR_RAISE(converted[c], ConvertStrings(arr, type, o, &bad_rows));
    for (int64_t r : bad_rows) bad_value_rows.emplace(r, c);
  }
  auto raw_text = [&](int64_t row) -> std::string {
    // Rows map to non-empty lines one to one only when nothing was skipped
    // before them (PERMISSIVE keeps all rows; FAILFAST stops at the first).
    if (const Line* l = line_of(row + header_rows)) {
      return std::string(reinterpret_cast<const char*>(buffer->data()) + l->begin,
                         l->end - l->begin);
    }
    std::string joined;
    for (size_t c = 0; c < include.size(); ++c) {
      if (c) joined.push_back(o.sep);
      if (strings[c]->IsValid(row)) {
        joined += static_cast<const arrow::StringArray&>(*strings[c]).GetView(row);
      }
    }
    return joined;
  };
  if (!bad_value_rows.empty()) {
    auto [row, col] = *bad_value_rows.begin();
    if (failfast) {
      std::string where = ctx.path;
      if (const Line* l = line_of(row + header_rows)) {
        where += ":" + std::to_string(l->number);
      } else {
        where += fmt::format(" (record {})", row + 1);
      }
      const auto& field = ctx.data_schema->GetFieldByName(include[col]);
      return UserError(
          "malformed CSV record at {}: cannot parse '{}' as {} for column '{}' (mode FAILFAST)",
          where, static_cast<const arrow::StringArray&>(*strings[col]).GetView(row),
          types::ToDDL(*field->type()), field->name());
    }
    ctx.metrics->malformed_rows.fetch_add(static_cast<int64_t>(bad_value_rows.size()),
                                          std::memory_order_relaxed);
    if (permissive && ctx.corrupt_index >= 0) {
      for (const auto& [r, c] : bad_value_rows) {
        if (!corrupt.count(r)) corrupt[r] = raw_text(r);
      }
    }
  }

  // Assemble the output columns.
  std::vector<std::shared_ptr<arrow::Array>> columns;
  for (int f : ctx.output_fields) {
    if (f == ctx.corrupt_index) {
      arrow::StringBuilder b;
      LS_RETURN_NOT_OK(b.Reserve(num_rows));
      auto it = corrupt.begin();
      for (int64_t r = 0; r < num_rows; ++r) {
        if (it != corrupt.end() && it->first == r) {
          LS_RETURN_NOT_OK(b.Append(it->second));
          ++it;
        } else {
          LS_RETURN_NOT_OK(b.AppendNull());
        }
      }
      std::shared_ptr<arrow::Array> a;
      LS_RETURN_NOT_OK(b.Finish(&a));
      columns.push_back(a);
    } else {
      const std::string& name = ctx.data_schema->field(f)->name();
      size_t c = std::find(include.begin(), include.end(), name) - include.begin();
      columns.push_back(converted[c]);
    }
  }
  auto out = arrow::Table::Make(ctx.output_schema, columns, num_rows);
  if (o.mode == FileReadOptions::Mode::kDropMalformed && !bad_value_rows.empty()) {
    arrow::BooleanBuilder keep;
    LS_RETURN_NOT_OK(keep.Reserve(num_rows));
    for (int64_t r = 0; r < num_rows; ++r) keep.UnsafeAppend(!bad_value_rows.count(r));
    std::shared_ptr<arrow::Array> mask;
    LS_RETURN_NOT_OK(keep.Finish(&mask));
    LS_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(out, mask));
    out = filtered.table();
  }
  return IterateTable(out, o.batch_size, ctx.metrics);
}

Result<BatchIterator> OpenTextFile(const ReadContext& ctx) {
  const FileReadOptions& o = *ctx.options;
  LS_ASSIGN_OR_RAISE(auto raw, ReadWholeFile(ctx.path));
  ctx.metrics->bytes_read.fetch_add(raw->size(), std::memory_order_relaxed);
  std::string_view data(reinterpret_cast<const char*>(raw->data()), raw->size());
  arrow::StringBuilder b;
  int64_t rows = 0;
  if (o.multi_line) {  // Spark's wholetext: one row per file
    LS_RETURN_NOT_OK(b.Append(data));
    rows = 1;
  } else {
    size_t i = 0;
    while (i < data.size()) {
      size_t j;
      size_t next;
      if (!o.line_sep.empty()) {
        j = data.find(o.line_sep, i);
        if (j == std::string_view::npos) j = data.size();
        next = j + o.line_sep.size();
      } else {
        j = i;
        while (j < data.size() && data[j] != '\n' && data[j] != '\r') ++j;
        next = j + 1;
        if (j < data.size() && data[j] == '\r' && j + 1 < data.size() && data[j + 1] == '\n') {
          ++next;
        }
      }
      LS_RETURN_NOT_OK(b.Append(data.substr(i, j - i)));
      ++rows;
      i = next;
    }
  }
  std::shared_ptr<arrow::Array> values;
  LS_RETURN_NOT_OK(b.Finish(&values));
  std::vector<std::shared_ptr<arrow::Array>> columns;
  for (size_t k = 0; k < ctx.output_fields.size(); ++k) columns.push_back(values);
  auto table = arrow::Table::Make(ctx.output_schema, columns, rows);
  return IterateTable(table, o.batch_size, ctx.metrics);
}

}  // namespace lakestream::formats::internal
