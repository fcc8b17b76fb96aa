#include "cli/output.h"

#include <algorithm>
#include <vector>

#include "types/types.h"
#include "types/value_format.h"

namespace lakestream::cli {

std::string JsonEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

namespace {

// Every cell as text (nullopt for NULL), row-major.
std::vector<std::vector<std::optional<std::string>>> Cells(const plan::QueryResult& r, const std::string& tz) {
  std::vector<std::vector<std::optional<std::string>>> rows;
  types::FormatOptions opts;
  opts.time_zone = tz;
  for (const auto& b : r.batches) {
    size_t base = rows.size();
    rows.resize(base + b->num_rows(), std::vector<std::optional<std::string>>(b->num_columns()));
    for (int c = 0; c < b->num_columns(); ++c) {
      const auto& col = *b->column(c);
      for (int64_t i = 0; i < b->num_rows(); ++i) {
        if (col.IsValid(i)) rows[base + i][c] = types::FormatValue(col, i, opts);
      }
    }
  }
  return rows;
}

bool Quoted(const arrow::DataType& t) {
  return !(types::IsNumeric(t) || t.id() == arrow::Type::BOOL) || t.id() == arrow::Type::DECIMAL128;
}

}  // namespace

void PrintResult(const plan::QueryResult& r, OutputFormat format, const std::string& tz, std::ostream& out) {
  if (!r.schema) return;
  auto rows = Cells(r, tz);
  int n = r.schema->num_fields();
  if (format == OutputFormat::kCsv) {
    auto field = [](const std::string& s) {
      if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
      std::string q = "\"";
      for (char c : s) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
      return q + "\"";
    };
    for (int c = 0; c < n; ++c) out << (c ? "," : "") << field(r.schema->field(c)->name());
    out << "\r\n";
    for (const auto& row : rows) {
      for (int c = 0; c < n; ++c) out << (c ? "," : "") << (row[c] ? field(*row[c]) : "");
      out << "\r\n";
    }
    return;
  }
  if (format == OutputFormat::kJson) {
    for (const auto& row : rows) {
      out << "{";
      for (int c = 0; c < n; ++c) {
        out << (c ? "," : "") << JsonEscape(r.schema->field(c)->name()) << ":";
        const auto& t = *r.schema->field(c)->type();
        if (!row[c]) {
          out << "null";
        } else if (!Quoted(t) && *row[c] != "NaN" && row[c]->find("Infinity") == std::string::npos) {
          out << *row[c];
        } else {
          out << JsonEscape(*row[c]);
        }
      }
      out << "}\n";
    }
    return;
  }
  // Spark's show(): +---+ framed columns, right-aligned.
  std::vector<size_t> width(n);
  for (int c = 0; c < n; ++c) width[c] = r.schema->field(c)->name().size();
  for (const auto& row : rows) {
    for (int c = 0; c < n; ++c) width[c] = std::max(width[c], row[c] ? row[c]->size() : 4);
  }
  auto rule = [&]() {
    out << "+";
    for (int c = 0; c < n; ++c) out << std::string(width[c] + 2, '-') << "+";
    out << "\n";
  };
  auto line = [&](const std::vector<std::string>& v) {
    out << "|";
    for (int c = 0; c < n; ++c) out << " " << std::string(width[c] - v[c].size(), ' ') << v[c] << " |";
    out << "\n";
  };
  rule();
  std::vector<std::string> header;
  for (int c = 0; c < n; ++c) header.push_back(r.schema->field(c)->name());
  line(header);
  rule();
  for (const auto& row : rows) {
    std::vector<std::string> v;
    for (int c = 0; c < n; ++c) v.push_back(row[c] ? *row[c] : "NULL");
    line(v);
  }
  rule();
}

std::string ResultToJsonLine(const plan::QueryResult& r, const std::string& tz) {
  std::string out = "{\"ok\":true,\"columns\":[";
  if (r.schema) {
    for (int c = 0; c < r.schema->num_fields(); ++c) out += (c ? "," : "") + JsonEscape(r.schema->field(c)->name());
  }
  out += "],\"types\":[";
  if (r.schema) {
    for (int c = 0; c < r.schema->num_fields(); ++c) {
      out += (c ? "," : "") + JsonEscape(types::SimpleString(*r.schema->field(c)->type()));
    }
  }
  out += "],\"rows\":[";
  if (r.schema) {
    auto rows = Cells(r, tz);
    for (size_t i = 0; i < rows.size(); ++i) {
      out += i ? ",[" : "[";
      for (size_t c = 0; c < rows[i].size(); ++c) {
        out += (c ? "," : "") + (rows[i][c] ? JsonEscape(*rows[i][c]) : std::string("null"));
      }
      out += "]";
    }
  }
  out += "]}";
  return out;
}

std::string ErrorToJsonLine(const std::string& message) {
  return "{\"ok\":false,\"error\":" + JsonEscape(message) + "}";
}

}  // namespace lakestream::cli
