// Conformance against the Delta Lake golden tables (../shared/testdata/delta/
// golden, see its README): every case's latest snapshot must read back equal
// (order-insensitive) to its expected/ data; the invalid ones must be refused
// with a clear error; cases needing a feature not built yet must fail with the
// unsupported-feature error and are listed in kKnownUnsupported, which can
// only shrink (a listed case that starts passing fails the test).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "connectors/delta/log.h"
#include "connectors/delta/scan.h"
#include "test_util.h"

namespace lakestream::delta {
namespace {

const std::string kGolden = std::string(LAKESTREAM_TESTDATA_DIR) + "/delta/golden";

// Cases that must be refused, with a fragment the error must contain.
const std::map<std::string, std::string> kMustFail = {
    {"versions-not-contiguous", "versions not contiguous: missing 00000000000000000001.json"},
    {"deltalog-state-reconstruction-without-protocol", "no protocol action"},
    {"deltalog-state-reconstruction-from-checkpoint-missing-metadata", "no metaData action"},
    {"deltalog-state-reconstruction-from-checkpoint-missing-protocol", "no protocol action"},
    {"hive", "is not a Delta table"},
    // A log-only case (upstream it checks add paths) whose log has no metaData.
    {"data-reader-absolute-paths-escaped-chars", "no metaData action"},
};

// Cases failing with the Unsupported error today. This list can only shrink.
const std::set<std::string> kKnownUnsupported = {};

std::vector<std::string> ListCases() {
  std::vector<std::string> out;
  if (!std::filesystem::exists(kGolden)) return out;
  for (const auto& e : std::filesystem::directory_iterator(kGolden)) {
    if (e.is_directory()) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status ReadCase(const std::string& name, std::string* detail) {
  std::string dir = kGolden + "/" + name;
  auto log = DeltaLog::Open(dir + "/delta");
  LS_ASSIGN_OR_RAISE(auto snap, log->Latest());
  if (!std::filesystem::exists(dir + "/expected")) return Status::OK();  // log-only case
  LS_ASSIGN_OR_RAISE(auto scan, DeltaScan::Make(snap));
  LS_ASSIGN_OR_RAISE(auto actual, scan->ReadAll());
  LS_ASSIGN_OR_RAISE(auto expected, testing::ReadParquetFolder(dir + "/expected"));
  std::vector<std::string> order;
  for (const auto& f : expected->schema()->fields()) order.push_back(f->name());
  LS_ASSIGN_OR_RAISE(auto want, testing::CanonicalRows(*expected, order));
  LS_ASSIGN_OR_RAISE(auto got, testing::CanonicalRows(*actual, order));
  if (want != got) {
    *detail = fmt::format("expected {} rows, got {}", want.size(), got.size());
    for (size_t i = 0; i < std::max(want.size(), got.size()) && i < 3; ++i) {
      *detail += fmt::format("\n  want[{}]={}\n  got [{}]={}", i,
                             i < want.size() ? want[i] : "-", i, i < got.size() ? got[i] : "-");
    }
    return Status::Invalid("content differs");
  }
  return Status::OK();
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, ReadsAsExpected) {
  const std::string& name = GetParam();
  std::string detail;
  Status st = ReadCase(name, &detail);
  auto must_fail = kMustFail.find(name);
  if (must_fail != kMustFail.end()) {
    ASSERT_FALSE(st.ok()) << name << " must be refused";
    EXPECT_NE(st.message().find(must_fail->second), std::string::npos) << st.ToString();
    return;
  }
  if (kKnownUnsupported.count(name)) {
    ASSERT_FALSE(st.ok()) << name << " now passes: remove it from kKnownUnsupported";
    EXPECT_TRUE(st.IsNotImplemented()) << st.ToString();
    return;
  }
  EXPECT_TRUE(st.ok()) << name << ": " << st.ToString() << " " << detail;
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenTest, ::testing::ValuesIn(ListCases()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

TEST(GoldenCoverage, AllCasesPresent) { EXPECT_GE(ListCases().size(), 50u); }

}  // namespace
}  // namespace lakestream::delta
