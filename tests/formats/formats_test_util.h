// Helpers shared by the formats tests: a scratch folder per test and
// one-call reading of files into a table.
#pragma once

#include <arrow/table.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "formats/file_source.h"

#define LS_CONCAT_INNER(a, b) a##b
#define LS_CONCAT(a, b) LS_CONCAT_INNER(a, b)
#define ASSERT_OK(expr)                                 \
  do {                                                  \
    auto _st = (expr);                                  \
    ASSERT_TRUE(_st.ok()) << _st.ToString();            \
  } while (0)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, rexpr)      \
  auto tmp = (rexpr);                                   \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();     \
  lhs = std::move(tmp).ValueUnsafe();
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL(LS_CONCAT(_res_, __COUNTER__), lhs, rexpr)

namespace lakestream::formats::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("lakestream-formats-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& content) const {
    auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  std::string path() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// Lists, resolves the schema and reads everything.
inline Result<std::shared_ptr<arrow::Table>> ReadPath(
    const std::string& path, const std::map<std::string, std::string>& option_map,
    ScanRequest request = {}) {
  LS_ASSIGN_OR_RAISE(auto options, FileReadOptions::FromMap(option_map));
  LS_ASSIGN_OR_RAISE(auto files, ListFiles(path, options));
  LS_ASSIGN_OR_RAISE(auto schema, ResolveSchema(files, options));
  LS_ASSIGN_OR_RAISE(auto scanner, FileScanner::Make(files, schema, options, request));
  return scanner->ReadAll();
}

/// Column `name` of `table` as Spark-ish text per row ("null" for NULL).
inline std::vector<std::string> Column(const arrow::Table& table, const std::string& name) {
  std::vector<std::string> out;
  auto col = table.GetColumnByName(name);
  if (!col) return {"<no column " + name + ">"};
  for (const auto& chunk : col->chunks()) {
    for (int64_t i = 0; i < chunk->length(); ++i) {
      auto s = chunk->GetScalar(i);
      out.push_back(!s.ok() || !(*s)->is_valid ? "null" : (*s)->ToString());
    }
  }
  return out;
}

using Strings = std::vector<std::string>;

}  // namespace lakestream::formats::testing
