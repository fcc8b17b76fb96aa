// hash (Murmur3_x86_32) and xxhash64 bit-for-bit against Spark, and the digests.
// Expected values were checked against Spark 4.0.1.
#include "family_test_util.h"

namespace lakestream::expr::testing {
namespace {

arrow::Datum Lit(std::shared_ptr<arrow::Scalar> s) { return arrow::Datum(std::move(s)); }

int32_t HashOf(FamilyHarness& h, const std::string& fn, std::vector<arrow::Datum> args) {
  auto r = h.Call(fn, args);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return 0;
  return std::static_pointer_cast<arrow::Int32Scalar>(r->scalar())->value;
}

int64_t XxOf(FamilyHarness& h, std::vector<arrow::Datum> args) {
  auto r = h.Call("xxhash64", args);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return 0;
  return std::static_pointer_cast<arrow::Int64Scalar>(r->scalar())->value;
}

TEST(HashFunctions, Murmur3MatchesSpark) {
  FamilyHarness h;
  auto i1 = Lit(std::make_shared<arrow::Int32Scalar>(1));
  EXPECT_EQ(HashOf(h, "hash", {i1}), -559580957);
  EXPECT_EQ(HashOf(h, "hash", {Lit(std::make_shared<arrow::Int64Scalar>(1))}), -1712319331);
  EXPECT_EQ(HashOf(h, "hash", {LS("abc")}), 1322437556);
  EXPECT_EQ(HashOf(h, "hash", {LS("abcde")}), 814637928);  // trailing bytes mixed one by one
  EXPECT_EQ(HashOf(h, "hash", {LS("")}), 142593372);
  EXPECT_EQ(HashOf(h, "hash", {LS("héllo wörld 12345")}), -1763834695);
  EXPECT_EQ(HashOf(h, "hash", {Lit(std::make_shared<arrow::StringScalar>())}), 42);
  EXPECT_EQ(HashOf(h, "hash", {i1, LS("a")}), -936062819);
  EXPECT_EQ(HashOf(h, "hash", {Lit(std::make_shared<arrow::DoubleScalar>(1.5))}), 1290763749);
  EXPECT_EQ(HashOf(h, "hash", {Lit(std::make_shared<arrow::Decimal128Scalar>(arrow::Decimal128(150),
                                                                            arrow::decimal128(10, 2)))}),
            -2056712946);
  auto big = arrow::Decimal128::FromString("123456789012345678905").ValueOrDie();
  EXPECT_EQ(HashOf(h, "hash", {Lit(std::make_shared<arrow::Decimal128Scalar>(big, arrow::decimal128(30, 1)))}),
            832414797);
  EXPECT_EQ(HashOf(h, "hash", {Lit(J(arrow::list(arrow::int32()), "[[1, 2]]")->GetScalar(0).ValueOrDie())}),
            -222940379);
  EXPECT_EQ(HashOf(h, "hash", {Lit(std::make_shared<arrow::BooleanScalar>(true))}), -559580957);
  EXPECT_EQ(HashOf(h, "hash", {Lit(std::make_shared<arrow::Date32Scalar>(18262))}), -725858435);
}

TEST(HashFunctions, XxHash64MatchesSpark) {
  FamilyHarness h;
  EXPECT_EQ(XxOf(h, {Lit(std::make_shared<arrow::Int32Scalar>(1))}), -6698625589789238999LL);
  EXPECT_EQ(XxOf(h, {Lit(std::make_shared<arrow::Int64Scalar>(1))}), -7001672635703045582LL);
  EXPECT_EQ(XxOf(h, {LS("abc")}), 1423657621850124518LL);
  EXPECT_EQ(XxOf(h, {LS("abcdefghijklmnopqrstuvwxyz0123456789")}), 2724237963427677065LL);
  EXPECT_EQ(XxOf(h, {LS("héllo wörld 12345")}), 2246582466413098926LL);
  EXPECT_EQ(XxOf(h, {Lit(std::make_shared<arrow::Int32Scalar>(1)), LS("a")}), 8205864924878002737LL);
  EXPECT_EQ(XxOf(h, {Lit(std::make_shared<arrow::StringScalar>())}), 42);
}

TEST(HashFunctions, ColumnsAndNulls) {
  FamilyHarness h;
  // A NULL leaves the running hash unchanged, row by row.
  ExpectArray(h.CallArray("hash", {arrow::Datum(J(arrow::int32(), "[1, null]")), LS("a")}), arrow::int32(),
              "[-936062819, " + std::to_string(HashOf(h, "hash", {LS("a")})) + "]");
  ExpectError(h.Resolve("hash", {arrow::Datum(J(arrow::map(arrow::int32(), arrow::int32()), "[[[1, 2]]]"))}),
              "HASH_MAP_TYPE");
}

TEST(HashFunctions, Digests) {
  FamilyHarness h;
  auto abc = S(R"(["abc", null])");
  ExpectArray(h.CallArray("md5", {abc}), arrow::utf8(), R"(["900150983cd24fb0d6963f7d28e17f72", null])");
  ExpectArray(h.CallArray("sha1", {abc}), arrow::utf8(), R"(["a9993e364706816aba3e25717850c26c9cd0d89d", null])");
  ExpectArray(h.CallArray("sha", {S(R"(["abc"])")}), arrow::utf8(), R"(["a9993e364706816aba3e25717850c26c9cd0d89d"])");
  ExpectArray(h.CallArray("sha2", {S(R"(["abc"])"), LI(256)}), arrow::utf8(),
              R"(["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"])");
  ExpectArray(h.CallArray("sha2", {S(R"(["abc"])"), LI(0)}), arrow::utf8(),
              R"(["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"])");
  ExpectArray(h.CallArray("sha2", {S(R"(["abc"])"), LI(224)}), arrow::utf8(),
              R"(["23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"])");
  ExpectArray(h.CallArray("sha2", {S(R"(["abc"])"), LI(100)}), arrow::utf8(), "[null]");
  ExpectArray(h.CallArray("crc32", {abc}), arrow::int64(), "[891568578, null]");
}

}  // namespace
}  // namespace lakestream::expr::testing
