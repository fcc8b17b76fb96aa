// Spark's hash functions (hash.scala): hash() is Murmur3_x86_32 and xxhash64()
// is XXH64, both seeded with 42 and chained over the arguments over Spark's
// byte layout (ints as 4 bytes, longs and timestamps as 8, strings as UTF-8,
// decimals as their unscaled long or BigInteger bytes), so values hash to the
// same numbers as in Spark (and rows land in the same buckets). md5, sha1,
// sha2 use OpenSSL's EVP digests; crc32 is the zlib polynomial.
#include <openssl/evp.h>
#include <xxhash.h>

#include <array>
#include <cmath>
#include <cstring>

#include "expr/hash_internal.h"
#include "expr/row_kernel_internal.h"

namespace lakestream::expr {

namespace {

using arrow::Datum;
using internal::CheckArity;
using internal::MapRows;
using internal::Rows;
using internal::TypeMismatch;
using types::TypePtr;
using Resolver = std::function<Result<ResolvedCall>(const CallSite&)>;

inline uint32_t Rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

/// Spark's org.apache.spark.unsafe.hash.Murmur3_x86_32.
struct Murmur3 {
  static uint32_t MixK1(uint32_t k1) {
    k1 *= 0xcc9e2d51u;
    k1 = Rotl32(k1, 15);
    return k1 * 0x1b873593u;
  }
  static uint32_t MixH1(uint32_t h1, uint32_t k1) {
    h1 ^= k1;
    h1 = Rotl32(h1, 13);
    return h1 * 5 + 0xe6546b64u;
  }
  static uint32_t Fmix(uint32_t h1, uint32_t len) {
    h1 ^= len;
    h1 ^= h1 >> 16;
    h1 *= 0x85ebca6bu;
    h1 ^= h1 >> 13;
    h1 *= 0xc2b2ae35u;
    h1 ^= h1 >> 16;
    return h1;
  }
  static uint64_t Int(int32_t v, uint64_t seed) {
    return Fmix(MixH1(static_cast<uint32_t>(seed), MixK1(static_cast<uint32_t>(v))), 4);
  }
  static uint64_t Long(int64_t v, uint64_t seed) {
    uint32_t low = static_cast<uint32_t>(v);
    uint32_t high = static_cast<uint32_t>(static_cast<uint64_t>(v) >> 32);
    uint32_t h1 = MixH1(static_cast<uint32_t>(seed), MixK1(low));
    h1 = MixH1(h1, MixK1(high));
    return Fmix(h1, 8);
  }
  static uint64_t Bytes(std::string_view s, uint64_t seed) {
    // Spark's hashUnsafeBytes: 4-byte little-endian words, then each trailing
    // byte (sign-extended) mixed as a word of its own.
    uint32_t h1 = static_cast<uint32_t>(seed);
    size_t aligned = s.size() - s.size() % 4;
    for (size_t i = 0; i < aligned; i += 4) {
      uint32_t w;
      std::memcpy(&w, s.data() + i, 4);
      h1 = MixH1(h1, MixK1(w));
    }
    for (size_t i = aligned; i < s.size(); ++i) {
      int32_t b = static_cast<signed char>(s[i]);
      h1 = MixH1(h1, MixK1(static_cast<uint32_t>(b)));
    }
    return Fmix(h1, static_cast<uint32_t>(s.size()));
  }
};

/// Spark's XXH64: the standard algorithm over the same little-endian bytes.
struct XxHash64 {
  static uint64_t Int(int32_t v, uint64_t seed) { return XXH64(&v, 4, seed); }
  static uint64_t Long(int64_t v, uint64_t seed) { return XXH64(&v, 8, seed); }
  static uint64_t Bytes(std::string_view s, uint64_t seed) { return XXH64(s.data(), s.size(), seed); }
};

/// BigInteger.toByteArray of a decimal's unscaled value: minimal big-endian two's complement.
std::string BigIntegerBytes(const arrow::Decimal128& d) {
  uint8_t le[16];
  d.ToBytes(le);
  std::string be(16, '\0');
  for (int i = 0; i < 16; ++i) be[i] = static_cast<char>(le[15 - i]);
  size_t start = 0;
  while (start < 15) {
    auto b0 = static_cast<uint8_t>(be[start]);
    auto b1 = static_cast<uint8_t>(be[start + 1]);
    if ((b0 == 0x00 && !(b1 & 0x80)) || (b0 == 0xFF && (b1 & 0x80))) {
      ++start;
    } else {
      break;
    }
  }
  return be.substr(start);
}

/// Folds element i of `a` into `seed` (NULL leaves it unchanged, as in Spark).
template <typename H>
Result<uint64_t> HashElement(const arrow::Array& a, int64_t i, uint64_t seed) {
  if (a.IsNull(i)) return seed;
  switch (a.type_id()) {
    case arrow::Type::NA: return seed;
    case arrow::Type::BOOL:
      return H::Int(static_cast<const arrow::BooleanArray&>(a).Value(i) ? 1 : 0, seed);
    case arrow::Type::INT8: return H::Int(static_cast<const arrow::Int8Array&>(a).Value(i), seed);
    case arrow::Type::INT16: return H::Int(static_cast<const arrow::Int16Array&>(a).Value(i), seed);
    case arrow::Type::INT32: return H::Int(static_cast<const arrow::Int32Array&>(a).Value(i), seed);
    case arrow::Type::DATE32: return H::Int(static_cast<const arrow::Date32Array&>(a).Value(i), seed);
    case arrow::Type::INT64: return H::Long(static_cast<const arrow::Int64Array&>(a).Value(i), seed);
    case arrow::Type::TIMESTAMP:
      return H::Long(static_cast<const arrow::TimestampArray&>(a).Value(i), seed);
    case arrow::Type::DURATION:
      return H::Long(static_cast<const arrow::DurationArray&>(a).Value(i), seed);
    case arrow::Type::INTERVAL_MONTHS:
      return H::Int(static_cast<const arrow::MonthIntervalArray&>(a).Value(i), seed);
    case arrow::Type::FLOAT: {
      float f = static_cast<const arrow::FloatArray&>(a).Value(i);
      if (f == 0.0f) f = 0.0f;  // -0.0 hashes as 0.0
      int32_t bits;
      if (std::isnan(f)) {
        bits = 0x7fc00000;  // Float.floatToIntBits canonical NaN
      } else {
        std::memcpy(&bits, &f, 4);
      }
      return H::Int(bits, seed);
    }
    case arrow::Type::DOUBLE: {
      double d = static_cast<const arrow::DoubleArray&>(a).Value(i);
      if (d == 0.0) d = 0.0;
      int64_t bits;
      if (std::isnan(d)) {
        bits = 0x7ff8000000000000LL;
      } else {
        std::memcpy(&bits, &d, 8);
      }
      return H::Long(bits, seed);
    }
    case arrow::Type::DECIMAL128: {
      const auto& da = static_cast<const arrow::Decimal128Array&>(a);
      arrow::Decimal128 v(da.GetValue(i));
      int32_t precision = static_cast<const arrow::Decimal128Type&>(*a.type()).precision();
      if (precision <= 18) return H::Long(static_cast<int64_t>(v.low_bits()), seed);
      return H::Bytes(BigIntegerBytes(v), seed);
    }
    case arrow::Type::STRING:
    case arrow::Type::BINARY:
      return H::Bytes(static_cast<const arrow::BinaryArray&>(a).GetView(i), seed);
    case arrow::Type::LARGE_STRING:
    case arrow::Type::LARGE_BINARY:
      return H::Bytes(static_cast<const arrow::LargeBinaryArray&>(a).GetView(i), seed);
    case arrow::Type::LIST: {
      const auto& l = static_cast<const arrow::ListArray&>(a);
      for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
        LS_ASSIGN_OR_RAISE(seed, HashElement<H>(*l.values(), j, seed));
      }
      return seed;
    }
    case arrow::Type::MAP: {
      const auto& m = static_cast<const arrow::MapArray&>(a);
      for (int64_t j = m.value_offset(i); j < m.value_offset(i + 1); ++j) {
        LS_ASSIGN_OR_RAISE(seed, HashElement<H>(*m.keys(), j, seed));
        LS_ASSIGN_OR_RAISE(seed, HashElement<H>(*m.items(), j, seed));
      }
      return seed;
    }
    case arrow::Type::STRUCT: {
      const auto& s = static_cast<const arrow::StructArray&>(a);
      for (int f = 0; f < s.num_fields(); ++f) {
        LS_ASSIGN_OR_RAISE(auto child, s.GetFlattenedField(f));
        LS_ASSIGN_OR_RAISE(seed, HashElement<H>(*child, i, seed));
      }
      return seed;
    }
    default:
      return Unsupported("hashing values of type {}", a.type()->ToString());
  }
}

bool Hashable(const arrow::DataType& t) {
  switch (t.id()) {
    case arrow::Type::LIST: return Hashable(*t.field(0)->type());
    case arrow::Type::MAP:
      return false;  // Spark: "hash of MAP type is not supported" (HASH_MAP_TYPE)
    case arrow::Type::STRUCT:
      for (const auto& f : t.fields()) {
        if (!Hashable(*f->type())) return false;
      }
      return true;
    default:
      return true;
  }
}

template <typename H, typename BuilderT>
Resolver HashFn(std::string name, TypePtr out) {
  return [=](const CallSite& site) -> Result<ResolvedCall> {
    if (site.arg_types.empty()) {
      return UserError("[WRONG_NUM_ARGS] function {} requires at least one argument", name);
    }
    for (const auto& t : site.arg_types) {
      if (!Hashable(*t)) {
        return UserError(
            "[DATATYPE_MISMATCH.HASH_MAP_TYPE] Cannot resolve \"{}\" due to data type mismatch: "
            "Input to the function `{}` cannot contain elements of the \"MAP\" type.",
            name, name);
      }
    }
    ResolvedCall rc;
    rc.result_type = out;
    rc.arg_types.assign(site.arg_types.size(), nullptr);
    rc.null_intolerant = false;
    rc.exec = [out](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
      LS_ASSIGN_OR_RAISE(Rows r, internal::ToRows(args, length, ctx.pool));
      std::vector<uint64_t> h(r.length, 42);
      for (const auto& a : r.arrays) {
        for (int64_t i = 0; i < r.length; ++i) {
          LS_ASSIGN_OR_RAISE(h[i], HashElement<H>(*a, i, h[i]));
        }
      }
      BuilderT b(ctx.pool);
      LS_RETURN_NOT_OK(b.Reserve(r.length));
      for (int64_t i = 0; i < r.length; ++i) {
        b.UnsafeAppend(static_cast<typename BuilderT::value_type>(h[i]));
      }
      std::shared_ptr<arrow::Array> res;
      LS_RETURN_NOT_OK(b.Finish(&res));
      return internal::FromRows(r, res);
    };
    return rc;
  };
}

const EVP_MD* DigestFor(int bits) {
  switch (bits) {
    case 224: return EVP_sha224();
    case 0:
    case 256: return EVP_sha256();
    case 384: return EVP_sha384();
    case 512: return EVP_sha512();
    case 1: return EVP_sha1();
    case 5: return EVP_md5();
    default: return nullptr;
  }
}

Status Digest(std::string_view s, const EVP_MD* md, std::string* hex) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(s.data(), s.size(), buf, &n, md, nullptr) != 1) {
    return InternalError("OpenSSL digest failed");
  }
  static const char kHex[] = "0123456789abcdef";
  hex->resize(n * 2);
  for (unsigned k = 0; k < n; ++k) {
    (*hex)[2 * k] = kHex[buf[k] >> 4];
    (*hex)[2 * k + 1] = kHex[buf[k] & 15];
  }
  return Status::OK();
}

Status CheckBinaryArg(const CallSite& site, const std::string& name, const char* sig) {
  if (!internal::IsStringCoercible(*site.arg_types[0])) return TypeMismatch(site, name, sig);
  return Status::OK();
}

/// md5 (code 5) and sha1 (code 1): one BINARY argument.
Resolver DigestFn(std::string name, int code) {
  return [=](const CallSite& site) -> Result<ResolvedCall> {
    LS_RETURN_NOT_OK(CheckArity(site, name, 1, 1, "(BINARY)"));
    LS_RETURN_NOT_OK(CheckBinaryArg(site, name, "(BINARY)"));
    ResolvedCall rc;
    rc.result_type = arrow::utf8();
    rc.arg_types = {arrow::binary()};
    rc.exec = [code](const std::vector<Datum>& args, int64_t length,
                     const EvalContext& ctx) -> Result<Datum> {
      const EVP_MD* md = DigestFor(code);
      std::string hex;
      return MapRows<arrow::StringBuilder>(args, length, ctx, arrow::utf8(),
                                           [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                                             LS_RETURN_NOT_OK(Digest(r.Str(0, i), md, &hex));
                                             return b->Append(hex);
                                           });
    };
    return rc;
  };
}

Result<ResolvedCall> ResolveSha2(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "sha2", 2, 2, "(BINARY, INT bitLength)"));
  LS_RETURN_NOT_OK(CheckBinaryArg(site, "sha2", "(BINARY, INT)"));
  if (!internal::IsIntCoercible(*site.arg_types[1])) return TypeMismatch(site, "sha2", "(BINARY, INT)");
  ResolvedCall rc;
  rc.result_type = arrow::utf8();
  rc.arg_types = {arrow::binary(), arrow::int32()};
  rc.exec = [](const std::vector<Datum>& args, int64_t length,
               const EvalContext& ctx) -> Result<Datum> {
    std::string hex;
    return MapRows<arrow::StringBuilder>(args, length, ctx, arrow::utf8(),
                                         [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                                           int bits = r.I32(1, i);
                                           // Spark: an unsupported bit length gives NULL.
                                           if (bits != 0 && bits != 224 && bits != 256 &&
                                               bits != 384 && bits != 512) {
                                             return b->AppendNull();
                                           }
                                           LS_RETURN_NOT_OK(Digest(r.Str(0, i), DigestFor(bits), &hex));
                                           return b->Append(hex);
                                         });
  };
  return rc;
}

uint32_t Crc32(std::string_view s) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char ch : s) c = table[(c ^ ch) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

Result<ResolvedCall> ResolveCrc32(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "crc32", 1, 1, "(BINARY)"));
  LS_RETURN_NOT_OK(CheckBinaryArg(site, "crc32", "(BINARY)"));
  ResolvedCall rc;
  rc.result_type = arrow::int64();
  rc.arg_types = {arrow::binary()};
  rc.exec = [](const std::vector<Datum>& args, int64_t length,
               const EvalContext& ctx) -> Result<Datum> {
    return MapRows<arrow::Int64Builder>(args, length, ctx, arrow::int64(),
                                        [&](const Rows& r, int64_t i, arrow::Int64Builder* b) {
                                          b->UnsafeAppend(Crc32(r.Str(0, i)));
                                          return Status::OK();
                                        });
  };
  return rc;
}

}  // namespace

namespace internal {
Result<uint64_t> SparkXxHash64(const arrow::Array& a, int64_t i, uint64_t seed) {
  return HashElement<XxHash64>(a, i, seed);
}
}  // namespace internal

void RegisterHashFunctions(FunctionRegistry* r) {
  r->AddScalar({"hash", HashFn<Murmur3, arrow::Int32Builder>("hash", arrow::int32())});
  r->AddScalar({"xxhash64", HashFn<XxHash64, arrow::Int64Builder>("xxhash64", arrow::int64())});
  r->AddScalar({"md5", DigestFn("md5", 5)});
  r->AddScalar({"sha1", DigestFn("sha1", 1)});
  r->AddAlias("sha", "sha1");
  r->AddScalar({"sha2", ResolveSha2});
  r->AddScalar({"crc32", ResolveCrc32});
}

}  // namespace lakestream::expr
