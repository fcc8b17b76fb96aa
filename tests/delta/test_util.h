// Helpers for Delta tests: canonical row strings for order-insensitive table
// comparison, temp directories, reading a folder of Parquet files.
#pragma once

#include <arrow/table.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace lakestream::delta::testing {

/// One canonical string per row ("col=value|..."), sorted. Timestamps are
/// rendered as UTC microseconds whatever their unit/zone; columns are taken in
/// `column_order` (names, case-insensitive) when given, else table order.
Result<std::vector<std::string>> CanonicalRows(const arrow::Table& table,
                                               const std::vector<std::string>& column_order = {});

/// Reads and concatenates all visible *.parquet files of a folder.
Result<std::shared_ptr<arrow::Table>> ReadParquetFolder(const std::string& dir);

/// A fresh empty directory under /tmp, removed by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace lakestream::delta::testing
