// Delta test helpers.
#include "test_util.h"

#include <arrow/array.h>
#include <arrow/scalar.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>

#include "connectors/delta/checkpoint.h"
#include "storage/filesystem.h"

namespace lakestream::delta::testing {
namespace {

std::string Canon(const arrow::Array& arr, int64_t i) {
  if (arr.IsNull(i)) return "NULL";
  switch (arr.type_id()) {
    case arrow::Type::TIMESTAMP: {
      const auto& t = static_cast<const arrow::TimestampType&>(*arr.type());
      int64_t v = static_cast<const arrow::TimestampArray&>(arr).Value(i);
      switch (t.unit()) {
        case arrow::TimeUnit::SECOND: v *= 1000000; break;
        case arrow::TimeUnit::MILLI: v *= 1000; break;
        case arrow::TimeUnit::MICRO: break;
        case arrow::TimeUnit::NANO: v /= 1000; break;
      }
      return "ts:" + std::to_string(v);
    }
    case arrow::Type::STRUCT: {
      const auto& s = static_cast<const arrow::StructArray&>(arr);
      std::string out = "{";
      for (int f = 0; f < s.num_fields(); ++f) {
        if (f) out += ",";
        out += s.type()->field(f)->name() + ":" + Canon(*s.field(f), i);
      }
      return out + "}";
    }
    case arrow::Type::LIST: {
      const auto& l = static_cast<const arrow::ListArray&>(arr);
      std::string out = "[";
      for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
        if (j != l.value_offset(i)) out += ",";
        out += Canon(*l.values(), j);
      }
      return out + "]";
    }
    case arrow::Type::MAP: {
      const auto& m = static_cast<const arrow::MapArray&>(arr);
      std::vector<std::string> entries;
      for (int64_t j = m.value_offset(i); j < m.value_offset(i + 1); ++j) {
        entries.push_back(Canon(*m.keys(), j) + "->" + Canon(*m.items(), j));
      }
      std::sort(entries.begin(), entries.end());
      std::string out = "map{";
      for (const auto& e : entries) out += e + ",";
      return out + "}";
    }
    case arrow::Type::LARGE_STRING:
      return std::string(static_cast<const arrow::LargeStringArray&>(arr).GetView(i));
    default: {
      auto s = arr.GetScalar(i);
      return s.ok() ? (*s)->ToString() : "?";
    }
  }
}

}  // namespace

Result<std::vector<std::string>> CanonicalRows(const arrow::Table& table,
                                               const std::vector<std::string>& column_order) {
  LS_ASSIGN_OR_RAISE(auto batch, table.CombineChunksToBatch());
  std::vector<int> cols;
  if (column_order.empty()) {
    for (int c = 0; c < batch->num_columns(); ++c) cols.push_back(c);
  } else {
    for (const auto& name : column_order) {
      int found = -1;
      for (int c = 0; c < batch->num_columns(); ++c) {
        const auto& n = batch->schema()->field(c)->name();
        if (n.size() == name.size() && ::strcasecmp(n.c_str(), name.c_str()) == 0) found = c;
      }
      if (found < 0) return Status::Invalid("column '", name, "' missing from table");
      cols.push_back(found);
    }
  }
  std::vector<std::string> rows;
  for (int64_t r = 0; r < batch->num_rows(); ++r) {
    std::string row;
    for (int c : cols) {
      row += batch->schema()->field(c)->name() + "=" + Canon(*batch->column(c), r) + "|";
    }
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

Result<std::shared_ptr<arrow::Table>> ReadParquetFolder(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name[0] == '.' || name[0] == '_') continue;
    if (name.size() > 8 && name.substr(name.size() - 8) == ".parquet") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::shared_ptr<arrow::Table>> tables;
  for (const auto& f : files) {
    LS_ASSIGN_OR_RAISE(auto t, ReadParquetTable(storage::LocalFs().get(), f));
    tables.push_back(t);
  }
  if (tables.empty()) return Status::Invalid("no parquet files in ", dir);
  arrow::ConcatenateTablesOptions opts;
  opts.unify_schemas = true;
  return arrow::ConcatenateTables(tables, opts);
}

TempDir::TempDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  path_ = (std::filesystem::temp_directory_path() /
           ("ls_delta_" + tag + "_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter++)))
              .string();
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() { std::filesystem::remove_all(path_); }

}  // namespace lakestream::delta::testing
