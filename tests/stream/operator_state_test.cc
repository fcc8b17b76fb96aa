// OperatorState: keys routed over shuffle partitions, and a restart with
// another spark.sql.shuffle.partitions keeping the checkpoint's number.
#include "stream/operator_state.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "state/state_store.h"

namespace lakestream::stream {
namespace {

namespace fs = std::filesystem;

class TempStateDir {
 public:
  TempStateDir() {
    std::string tmpl = (fs::temp_directory_path() / "lakestream-opstate-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempStateDir() {
    state::ReleaseCachedStateStores(path_);
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(OperatorState, RestartKeepsTheCheckpointsPartitionCount) {
  TempStateDir dir;
  const std::string schema = "key STRING, value STRING";
  {
    auto st = OperatorState::Open(dir.path(), 2, 4, schema, "test operator", false);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    ASSERT_TRUE((*st)->Load(0).ok());
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE((*st)->Put("k" + std::to_string(i), "v" + std::to_string(i)).ok());
    }
    ASSERT_TRUE((*st)->Commit().ok());
    EXPECT_EQ((*st)->partitions(), 4);
  }
  for (int p = 0; p < 4; ++p) {
    EXPECT_TRUE(fs::is_directory(fs::path(dir.path()) / "2" / std::to_string(p))) << p;
  }
  state::ReleaseCachedStateStores(dir.path());
  // Restarted with spark.sql.shuffle.partitions = 2: every key is still found.
  auto st = OperatorState::Open(dir.path(), 2, 2, schema, "test operator", false);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ((*st)->partitions(), 4);
  ASSERT_TRUE((*st)->Load(1).ok());
  for (int i = 0; i < 100; ++i) {
    auto v = (*st)->Get("k" + std::to_string(i));
    ASSERT_TRUE(v.ok());
    ASSERT_TRUE(v->has_value()) << "k" << i;
    EXPECT_EQ(**v, "v" + std::to_string(i));
  }
  // A new operator of the same query takes the setting.
  auto fresh = OperatorState::Open(dir.path(), 3, 2, schema, "other operator", false);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)->partitions(), 2);
}

TEST(OperatorState, PartitionCountIsRecordedBeforeAnyStoreExists) {
  TempStateDir dir;
  const std::string schema = "key STRING, value STRING";
  // Killed after opening, before any partition folder was made.
  ASSERT_TRUE(OperatorState::Open(dir.path(), 0, 5, schema, "op", false).ok());
  const fs::path record = fs::path(dir.path()) / "0" / "_metadata" / "partitions";
  ASSERT_TRUE(fs::exists(record));
  auto again = OperatorState::Open(dir.path(), 0, 8, schema, "op", false);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->partitions(), 5);

  // A checkpoint from before the record: counted from its folders, then recorded.
  fs::remove(record);
  fs::create_directories(fs::path(dir.path()) / "0" / "0");
  fs::create_directories(fs::path(dir.path()) / "0" / "1");
  auto old = OperatorState::Open(dir.path(), 0, 8, schema, "op", false);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ((*old)->partitions(), 2);
  EXPECT_TRUE(fs::exists(record));

  // A damaged record is an error naming the file, not a guess.
  { std::ofstream(record, std::ios::trunc) << "eight"; }
  auto bad = OperatorState::Open(dir.path(), 0, 8, schema, "op", false);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(record.string()), std::string::npos)
      << bad.status().ToString();
}

}  // namespace
}  // namespace lakestream::stream
