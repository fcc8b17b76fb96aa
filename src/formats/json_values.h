// JSON documents parsed one at a time into columns: the values of Kafka
// records, which a source hands over straight from the client's buffers
// instead of first copying them into a BINARY column.
#pragma once

#include <arrow/api.h>

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "formats/file_source.h"

namespace lakestream::formats {

/// Parses JSON objects with `schema` under options.mode, as the JSON file
/// reader does: PERMISSIVE keeps malformed rows with NULL fields and the raw
/// text in the corrupt-record column (when the schema has one), DROPMALFORMED
/// drops them, FAILFAST fails naming `where()`. Not thread-safe: one per
/// reading task.
class JsonValueParser {
 public:
  static Result<std::unique_ptr<JsonValueParser>> Make(const SchemaPtr& schema,
                                                       const FileReadOptions& options);
  ~JsonValueParser();

  /// Parses one document (`is_null`: a NULL value, which is malformed).
  /// Returns whether the row is kept: false when DROPMALFORMED dropped it.
  Result<bool> Append(const char* data, size_t size, bool is_null,
                      const std::function<std::string()>& where);

  /// Malformed documents seen since Make (made NULL, or dropped).
  int64_t malformed() const { return malformed_; }

  /// One array per schema field over the kept rows appended since the last
  /// Finish; starts over.
  Result<arrow::ArrayVector> Finish();

 private:
  struct Impl;
  explicit JsonValueParser(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  int64_t malformed_ = 0;
};

}  // namespace lakestream::formats
