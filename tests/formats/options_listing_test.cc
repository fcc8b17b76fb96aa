// FileReadOptions parsing and file listing (folders, hidden files, globs).
#include <gtest/gtest.h>

#include "formats/file_source.h"
#include "formats_test_util.h"

namespace lakestream::formats {
namespace {

using testing::ScratchDir;
using testing::Strings;

TEST(FileReadOptions, Defaults) {
  ASSERT_OK_AND_ASSIGN(auto o, FileReadOptions::FromMap({}));
  EXPECT_FALSE(o.header);
  EXPECT_EQ(o.sep, ',');
  EXPECT_EQ(o.quote, '"');
  EXPECT_EQ(o.escape, '\\');
  EXPECT_FALSE(o.infer_schema);
  EXPECT_EQ(o.mode, FileReadOptions::Mode::kPermissive);
  EXPECT_EQ(o.column_name_of_corrupt_record, "_corrupt_record");
  EXPECT_EQ(o.null_value, "");
  EXPECT_FALSE(o.multi_line);
  EXPECT_FALSE(o.recursive_file_lookup);
}

TEST(FileReadOptions, CaseInsensitiveKeysAndValues) {
  ASSERT_OK_AND_ASSIGN(auto o, FileReadOptions::FromMap({{"HEADER", "True"},
                                                         {"Sep", ";"},
                                                         {"inferschema", "TRUE"},
                                                         {"Mode", "failFast"},
                                                         {"Format", "CSV"},
                                                         {"delimiter", "\\t"},
                                                         {"nullValue", "NA"},
                                                         {"comment", "#"},
                                                         {"multiLine", "true"},
                                                         {"quote", ""},
                                                         {"lineSep", ";"},
                                                         {"recursiveFileLookup", "true"},
                                                         {"pathGlobFilter", "*.csv"},
                                                         {"ignoreLeadingWhiteSpace", "true"},
                                                         {"encoding", "utf8"}}));
  EXPECT_TRUE(o.header);
  EXPECT_EQ(o.sep, '\t');  // "delimiter" sorts after "Sep" in the map and wins
  EXPECT_TRUE(o.infer_schema);
  EXPECT_EQ(o.mode, FileReadOptions::Mode::kFailFast);
  EXPECT_EQ(o.format, "csv");
  EXPECT_EQ(o.null_value, "NA");
  ASSERT_TRUE(o.comment.has_value());
  EXPECT_EQ(*o.comment, '#');
  EXPECT_TRUE(o.multi_line);
  EXPECT_FALSE(o.quoting);
  EXPECT_EQ(o.line_sep, ";");
  EXPECT_TRUE(o.recursive_file_lookup);
  EXPECT_EQ(o.path_glob_filter, "*.csv");
  EXPECT_TRUE(o.ignore_leading_white_space);
}

TEST(FileReadOptions, BadValuesAreClearErrors) {
  auto r = FileReadOptions::FromMap({{"header", "yes"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "read_files: option 'header' expects true or false, got 'yes'");
  r = FileReadOptions::FromMap({{"mode", "lenient"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("PERMISSIVE, DROPMALFORMED or FAILFAST"), std::string::npos);
  r = FileReadOptions::FromMap({{"sep", ";;"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("single character"), std::string::npos);
  r = FileReadOptions::FromMap({{"encoding", "ISO-8859-1"}});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotImplemented());
  EXPECT_NE(r.status().message().find("only UTF-8"), std::string::npos);
  r = FileReadOptions::FromMap({{"format", "orc"}});
  ASSERT_FALSE(r.ok());
  r = FileReadOptions::FromMap({{"samplingRatio", "2"}});
  ASSERT_FALSE(r.ok());
}

TEST(FileReadOptions, UnknownOptionsAreKept) {
  ASSERT_OK_AND_ASSIGN(auto o, FileReadOptions::FromMap({{"someFutureOption", "x"}}));
  ASSERT_EQ(o.extra.size(), 1u);
  EXPECT_EQ(o.extra["someFutureOption"], "x");
}

class ListingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("t/a.csv", "1\n");
    dir_.Write("t/b.csv", "2\n");
    dir_.Write("t/c.json", "{}\n");
    dir_.Write("t/_SUCCESS", "");
    dir_.Write("t/.a.csv.crc", "");
    dir_.Write("t/_delta_log/0.json", "");
    dir_.Write("t/sub/d.csv", "3\n");
    dir_.Write("t/sub2/e.csv", "4\n");
  }
  std::vector<std::string> Names(const std::vector<std::string>& files) {
    std::vector<std::string> out;
    for (const auto& f : files) out.push_back(f.substr(dir_.path().size() + 3));
    return out;
  }
  ScratchDir dir_;
  FileReadOptions options_;
};

TEST_F(ListingTest, SingleFile) {
  ASSERT_OK_AND_ASSIGN(auto files, ListFiles(dir_ / "t/a.csv", options_));
  EXPECT_EQ(Names(files), (Strings{"a.csv"}));
}

TEST_F(ListingTest, FolderSkipsHiddenAndSubfolders) {
  ASSERT_OK_AND_ASSIGN(auto files, ListFiles(dir_ / "t", options_));
  EXPECT_EQ(Names(files), (Strings{"a.csv", "b.csv", "c.json"}));
}

TEST_F(ListingTest, RecursiveAndGlobFilter) {
  options_.recursive_file_lookup = true;
  options_.path_glob_filter = "*.csv";
  ASSERT_OK_AND_ASSIGN(auto files, ListFiles(dir_ / "t", options_));
  EXPECT_EQ(Names(files), (Strings{"a.csv", "b.csv", "sub/d.csv", "sub2/e.csv"}));
}

TEST_F(ListingTest, Globs) {
  ASSERT_OK_AND_ASSIGN(auto files, ListFiles(dir_ / "t/*", options_));
  EXPECT_EQ(Names(files), (Strings{"a.csv", "b.csv", "c.json", "sub/d.csv", "sub2/e.csv"}));
  ASSERT_OK_AND_ASSIGN(files, ListFiles(dir_ / "t/*.csv", options_));
  EXPECT_EQ(Names(files), (Strings{"a.csv", "b.csv"}));
  ASSERT_OK_AND_ASSIGN(files, ListFiles(dir_ / "t/?.csv", options_));
  EXPECT_EQ(Names(files), (Strings{"a.csv", "b.csv"}));
  ASSERT_OK_AND_ASSIGN(files, ListFiles(dir_ / "t/[b-c].*", options_));
  EXPECT_EQ(Names(files), (Strings{"b.csv", "c.json"}));
  ASSERT_OK_AND_ASSIGN(files, ListFiles(dir_ / "t/{a,c}.*", options_));
  EXPECT_EQ(Names(files), (Strings{"a.csv", "c.json"}));
  // A glob in a folder component; matched folders are listed.
  ASSERT_OK_AND_ASSIGN(files, ListFiles(dir_ / "t/sub*/*.csv", options_));
  EXPECT_EQ(Names(files), (Strings{"sub/d.csv", "sub2/e.csv"}));
  ASSERT_OK_AND_ASSIGN(files, ListFiles(dir_ / "t/sub{,2}", options_));
  EXPECT_EQ(Names(files), (Strings{"sub/d.csv", "sub2/e.csv"}));
}

TEST_F(ListingTest, Errors) {
  auto r = ListFiles(dir_ / "nope", options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "[PATH_NOT_FOUND] Path does not exist: " + (dir_ / "nope"));
  r = ListFiles(dir_ / "t/*.parquet", options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "no files match " + (dir_ / "t/*.parquet"));
}

TEST_F(ListingTest, SeveralPaths) {
  ASSERT_OK_AND_ASSIGN(auto files,
                       ListFiles(std::vector<std::string>{dir_ / "t/b.csv", dir_ / "t/a.csv"},
                                 options_));
  EXPECT_EQ(Names(files), (Strings{"b.csv", "a.csv"}));
}

}  // namespace
}  // namespace lakestream::formats
