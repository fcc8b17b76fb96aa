#include "common/config.h"

#include <gtest/gtest.h>

namespace lakestream {

TEST(SessionConfig, AnsiDefaultsOnAndCanBeTurnedOff) {
  SessionConfig c;
  EXPECT_TRUE(c.ansi);
  std::string err;
  ASSERT_TRUE(c.Set("spark.sql.ansi.enabled", "FALSE", &err));
  EXPECT_FALSE(c.ansi);
  EXPECT_FALSE(c.Set("spark.sql.ansi.enabled", "maybe", &err));
  EXPECT_NE(err.find("spark.sql.ansi.enabled"), std::string::npos);
}

TEST(SessionConfig, UnknownKeysAreKept) {
  SessionConfig c;
  std::string err;
  ASSERT_TRUE(c.Set("my.key", "x", &err));
  EXPECT_EQ(c.raw.at("my.key"), "x");
}

}  // namespace lakestream
