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

/// Rewrites Spark's escaped quotes inside quoted values (\" -> ""), so that
/// Arrow can read them with escaping off. Arrow's escaping would also eat
/// backslashes in unquoted values (C:\dir), which Spark keeps. Quote state is
/// tracked like Arrow's parser: a quote opens a value only at its start.
std::string RewriteEscapedQuotes(std::string_view data, const FileReadOptions& o) {
  std::string out;
  out.reserve(data.size());
  bool in_quotes = false;
  bool field_start = true;
  for (size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    char next = i + 1 < data.size() ? data[i + 1] : '\0';
    if (in_quotes) {
      if (c == o.escape && next == o.quote) {
        out.push_back(o.quote);
        out.push_back(o.quote);
        ++i;
      } else if (c == o.quote && next == o.quote) {
        out.push_back(c);
        out.push_back(c);
        ++i;
      } else {
        if (c == o.quote || (!o.multi_line && (c == '\n' || c == '\r'))) in_quotes = false;
        out.push_back(c);
      }
      continue;
    }
    if (c == o.quote && field_start) {
      in_quotes = true;
      field_start = false;
    } else {
      field_start = c == o.sep || c == '\n' || c == '\r';
    }
    out.push_back(c);
  }
  return out;
}

bool HasEscapedQuote(std::string_view data, const FileReadOptions& o) {
  if (!o.quoting || o.escape == o.quote) return false;
  const char pattern[2] = {o.escape, o.quote};
  return data.find(std::string_view(pattern, 2)) != std::string_view::npos;
}

/// Applies the options Arrow lacks: a custom lineSep becomes '\n', comment
/// lines become empty lines (which Arrow skips) so line numbers stay physical,
/// and escaped quotes are rewritten (see RewriteEscapedQuotes).
Result<std::shared_ptr<arrow::Buffer>> PrepareBuffer(std::shared_ptr<arrow::Buffer> buffer,
                                                     const FileReadOptions& options) {
  bool custom_sep = !options.line_sep.empty() && options.line_sep != "\n" &&
                    options.line_sep != "\r\n" && options.line_sep != "\r";
  std::string_view view(reinterpret_cast<const char*>(buffer->data()), buffer->size());
  bool escapes = HasEscapedQuote(view, options);
  if (!custom_sep && !options.comment && !escapes) return buffer;
  std::string data(view);
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
  if (escapes) data = RewriteEscapedQuotes(data, options);
  return std::shared_ptr<arrow::Buffer>(arrow::Buffer::FromString(std::move(data)));
}

arrow::csv::ParseOptions MakeParseOptions(const FileReadOptions& o) {
  auto p = arrow::csv::ParseOptions::Defaults();
  p.delimiter = o.sep;
  p.quoting = o.quoting;
  p.quote_char = o.quote;
  p.double_quote = true;
  // Escaped quotes were rewritten to doubled quotes by PrepareBuffer.
  p.escaping = false;
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
/// `skip_rows` rows (blank ones included) are skipped first.
Result<std::shared_ptr<arrow::Table>> ReadStrings(const std::shared_ptr<arrow::Buffer>& buffer,
                                                  const FileReadOptions& options,
                                                  const std::vector<std::string>& names,
                                                  const std::vector<std::string>& include,
                                                  int32_t skip_rows, std::vector<BadRow>* bad) {
  auto read = arrow::csv::ReadOptions::Defaults();
  read.use_threads = false;  // the scan parallelizes across tasks
  if (!names.empty()) {
    read.column_names = names;
    read.skip_rows = skip_rows;
  } else {
    read.autogenerate_column_names = !options.header;
  }
  auto parse = MakeParseOptions(options);
  parse.invalid_row_handler = [bad](const arrow::csv::InvalidRow& row) {
    bad->push_back(BadRow{row.number, row.expected_columns, row.actual_columns,
                          std::string(row.text)});
    return arrow::csv::InvalidRowResult::Skip;
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
    if (!options.infer_schema && !options.multi_line) {
      // Only the column names are needed: parse the first non-blank line.
      std::string_view text(reinterpret_cast<const char*>(buffer->data()), buffer->size());
      auto lines = SplitLines(text.substr(0, std::min<size_t>(text.size(), 1 << 20)));
      if (!lines.empty() && lines.front().end < static_cast<int64_t>(text.size())) {
        buffer = arrow::SliceBuffer(buffer, 0, lines.front().end + 1);
      }
    }
    std::vector<BadRow> bad;
    auto table = ReadStrings(buffer, options, {}, {}, 0, &bad);
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
  LS_ASSIGN_OR_RAISE(auto range, ReadLineRange(ctx.path, ctx.offset, ctx.length));
  ctx.metrics->bytes_read.fetch_add(range.data->size(), std::memory_order_relaxed);
  LS_ASSIGN_OR_RAISE(auto buffer, PrepareBuffer(range.data, o));
  const std::string_view text(reinterpret_cast<const char*>(buffer->data()), buffer->size());
  // Only the range at the start of the file has the header.
  const bool header = o.header && range.begin == 0;

  // Data columns: the schema without the corrupt-record column, by position.
  std::vector<std::string> names;
  for (int i = 0; i < ctx.data_schema->num_fields(); ++i) {
    if (i != ctx.corrupt_index) names.push_back(ctx.data_schema->field(i)->name());
  }
  // Columns to convert: the requested ones, except the corrupt column.
  std::vector<std::string> include;
  for (int f : ctx.output_fields) {
    if (f != ctx.corrupt_index) include.push_back(ctx.data_schema->field(f)->name());
  }
  // A count-only projection still parses one column (Arrow reads all when
  // include_columns is empty).
  if (include.empty() && !names.empty()) include.push_back(names[0]);

  // Arrow's skip_rows counts blank lines too; its invalid-row numbers count
  // the skipped rows and then non-blank lines.
  int32_t header_skip = 0;
  if (header) {
    size_t i = 0;
    while (i < text.size() && (text[i] == '\n' || text[i] == '\r')) {
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++i;
      ++header_skip;
    }
    ++header_skip;
  }
  const int header_lines = header ? 1 : 0;  // non-blank lines before the data

  std::shared_ptr<arrow::Table> table;
  std::vector<BadRow> bad;
  if (IsBlank(*buffer) || names.empty()) {
    std::vector<std::shared_ptr<arrow::Field>> fs;
    for (const auto& n : include) fs.push_back(arrow::field(n, arrow::utf8()));
    LS_ASSIGN_OR_RAISE(table, arrow::Table::MakeEmpty(arrow::schema(fs)));
  } else {
    auto read = ReadStrings(buffer, o, names, include, header_skip, &bad);
    if (!read.ok()) return WrapCsvError(read.status(), ctx.path);
    LS_ASSIGN_OR_RAISE(table, (*read)->CombineChunks());
  }
  // Position of each bad row among all data rows (-1: unknown).
  std::vector<int64_t> bad_pos;
  for (const auto& b : bad) bad_pos.push_back(b.number > 0 ? b.number - 1 - header_skip : -1);

  std::vector<Line> lines;
  bool have_lines = false;
  // The physical line of data row `pos` (counting malformed rows), if known.
  auto line_of = [&](int64_t pos) -> const Line* {
    if (o.multi_line || pos < 0) return nullptr;
    if (!have_lines) {
      lines = SplitLines(text);
      have_lines = true;
    }
    int64_t idx = pos + header_lines;
    if (idx >= static_cast<int64_t>(lines.size())) return nullptr;
    return &lines[idx];
  };
  auto where = [&](int64_t pos) {
    if (const Line* l = line_of(pos)) {
      auto first = range.FirstLineNumber();
      if (first.ok()) return fmt::format("{}:{}", ctx.path, *first - 1 + l->number);
    }
    return fmt::format("{} (record {})", ctx.path, pos + 1);
  };

  // String columns of the requested data fields, in `include` order.
  std::vector<std::shared_ptr<arrow::Array>> strings;
  for (int c = 0; c < table->num_columns(); ++c) strings.push_back(table->column(c)->chunk(0));
  int64_t num_rows = table->num_rows();
  std::map<int64_t, std::string> corrupt;  // output row -> raw text

  // PERMISSIVE keeps rows with the wrong field count: re-insert them at their
  // place, their fields padded with NULL or truncated, as Spark does.
  const bool spliced = permissive && !bad.empty();
  if (spliced) {
    std::vector<std::vector<std::optional<std::string>>> bad_fields;
    std::vector<int> include_pos;  // position of each include column among `names`
    for (const auto& n : include) {
      include_pos.push_back(
          static_cast<int>(std::find(names.begin(), names.end(), n) - names.begin()));
    }
    for (const auto& b : bad) {
      std::vector<BadRow> ignored;
      FileReadOptions single = o;
      single.header = false;
      auto t = ReadStrings(arrow::Buffer::FromString(b.text + "\n"), single, {}, {}, 0, &ignored);
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
    std::vector<arrow::StringBuilder> builders(include.size());
    size_t next_bad = 0;
    int64_t good = 0;
    int64_t out_row = 0;
    while (good < num_rows || next_bad < bad.size()) {
      bool take_bad = next_bad < bad.size() &&
                      (good >= num_rows || (bad_pos[next_bad] >= 0 && bad_pos[next_bad] <= out_row));
      if (take_bad) {
        for (size_t c = 0; c < include.size(); ++c) {
          const auto& v = bad_fields[next_bad][c];
          LS_RETURN_NOT_OK(v ? builders[c].Append(*v) : builders[c].AppendNull());
        }
        corrupt[out_row++] = bad[next_bad++].text;
        continue;
      }
      for (size_t c = 0; c < include.size(); ++c) {
        const auto& arr = static_cast<const arrow::StringArray&>(*strings[c]);
        LS_RETURN_NOT_OK(arr.IsNull(good) ? builders[c].AppendNull()
                                          : builders[c].Append(arr.GetView(good)));
      }
      ++good;
      ++out_row;
    }
    for (size_t c = 0; c < include.size(); ++c) {
      LS_RETURN_NOT_OK(builders[c].Finish(&strings[c]));
    }
    num_rows = out_row;
  }
  // Position among all data rows of output row `r`: the identity once
  // malformed rows were spliced back, else skip over the dropped ones.
  auto position_of = [&](int64_t r) {
    if (spliced) return r;
    int64_t pos = r;
    for (int64_t p : bad_pos) {
      if (p >= 0 && p <= pos) ++pos;
    }
    return pos;
  };

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

  if (failfast && (!bad.empty() || !bad_value_rows.empty())) {
    // Report whichever malformed record comes first in the file.
    int64_t value_pos = bad_value_rows.empty() ? INT64_MAX
                                               : position_of(bad_value_rows.begin()->first);
    int64_t count_pos = bad.empty() ? INT64_MAX : (bad_pos[0] >= 0 ? bad_pos[0] : INT64_MAX - 1);
    if (count_pos <= value_pos) {
      return UserError("malformed CSV record at {}: expected {} fields, found {} (mode FAILFAST)",
                       where(bad_pos[0]), bad[0].expected, bad[0].actual);
    }
    auto [row, col] = *bad_value_rows.begin();
    const auto& field = ctx.data_schema->GetFieldByName(include[col]);
    return UserError(
        "malformed CSV record at {}: cannot parse '{}' as {} for column '{}' (mode FAILFAST)",
        where(value_pos), static_cast<const arrow::StringArray&>(*strings[col]).GetView(row),
        types::ToDDL(*field->type()), field->name());
  }
  ctx.metrics->malformed_rows.fetch_add(
      static_cast<int64_t>(bad.size() + bad_value_rows.size()), std::memory_order_relaxed);
  if (permissive && ctx.corrupt_index >= 0) {
    for (const auto& [r, c] : bad_value_rows) {
      if (corrupt.count(r)) continue;
      if (const Line* l = line_of(r)) {
        corrupt[r] = std::string(text.substr(l->begin, l->end - l->begin));
      } else {  // records spanning lines: rebuild the text from the fields
        std::string joined;
        for (size_t k = 0; k < include.size(); ++k) {
          if (k) joined.push_back(o.sep);
          if (strings[k]->IsValid(r)) {
            joined += static_cast<const arrow::StringArray&>(*strings[k]).GetView(r);
          }
        }
        corrupt[r] = std::move(joined);
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
  LS_ASSIGN_OR_RAISE(auto range, ReadLineRange(ctx.path, ctx.offset, ctx.length));
  ctx.metrics->bytes_read.fetch_add(range.data->size(), std::memory_order_relaxed);
  std::string_view data(reinterpret_cast<const char*>(range.data->data()), range.data->size());
  arrow::StringBuilder b;
  int64_t rows = 0;
  if (o.whole_text) {
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
