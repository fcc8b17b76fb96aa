// OperatorState: keys routed over shuffle partitions, and a restart with
// another spark.sql.shuffle.partitions keeping the checkpoint's number.
#include "stream/operator_state.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
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

}  // namespace
}  // namespace lakestream::stream
