// Helpers shared by the plan tests that run SQL through a Session.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "plan/session.h"

namespace lakestream::plan::test_util {

/// The rows `sql` returns, each as its values' text joined by '|', in
/// result order; an empty list (and a test failure) when it fails.
inline std::vector<std::string> QueryRows(Session& session, const std::string& sql) {
  auto r = session.ExecuteSql(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  std::vector<std::string> out;
  if (!r.ok()) return out;
  for (const auto& b : r->batches) {
    for (int64_t i = 0; i < b->num_rows(); ++i) {
      std::string row;
      for (int c = 0; c < b->num_columns(); ++c)
        row += (c ? "|" : "") + (*b->column(c)->GetScalar(i))->ToString();
      out.push_back(row);
    }
  }
  return out;
}

/// A fresh temporary folder named after `prefix`, the process and the
/// running test (removed first if a crashed run left it).
inline std::filesystem::path FreshTestDir(const std::string& prefix) {
  auto dir = std::filesystem::temp_directory_path() /
             (prefix + "-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace lakestream::plan::test_util
