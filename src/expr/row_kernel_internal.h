// Private helpers for the row-at-a-time kernels of the string, datetime, JSON,
// hash and collection function families: argument checking at resolve time
// and a loop skeleton that turns literal (scalar) arguments into arrays once
// per batch, so each kernel is a tight typed loop over `length` rows.
#pragma once

#include <arrow/array.h>
#include <arrow/array/concatenate.h>
#include <arrow/array/util.h>
#include <arrow/builder.h>
#include <arrow/datum.h>
#include <arrow/scalar.h>
#include <arrow/type.h>
#include <arrow/util/checked_cast.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "expr/function.h"
#include "types/types.h"

namespace lakestream::expr::internal {

/// The arguments of one call as arrays of equal length. When every argument is
/// a scalar the kernel runs over one row and the result is returned as a scalar.
struct Rows {
  std::vector<std::shared_ptr<arrow::Array>> arrays;
  int64_t length = 0;
  bool all_scalar = false;

  bool IsNull(size_t k, int64_t i) const { return arrays[k]->IsNull(i); }
  bool AnyNull(int64_t i) const {
    for (const auto& a : arrays) {
      if (a->IsNull(i)) return true;
    }
    return false;
  }
  std::string_view Str(size_t k, int64_t i) const {
    return arrow::internal::checked_cast<const arrow::BinaryArray&>(*arrays[k]).GetView(i);
  }
  template <typename ArrayT>
  const ArrayT& As(size_t k) const {
    return arrow::internal::checked_cast<const ArrayT&>(*arrays[k]);
  }
  int32_t I32(size_t k, int64_t i) const { return As<arrow::Int32Array>(k).Value(i); }
  int64_t I64(size_t k, int64_t i) const { return As<arrow::Int64Array>(k).Value(i); }
  double F64(size_t k, int64_t i) const { return As<arrow::DoubleArray>(k).Value(i); }
  bool Bool(size_t k, int64_t i) const { return As<arrow::BooleanArray>(k).Value(i); }
};

inline Result<Rows> ToRows(const std::vector<arrow::Datum>& args, int64_t length,
                           arrow::MemoryPool* pool) {
  Rows r;
  r.all_scalar = true;
  for (const auto& a : args) {
    if (!a.is_scalar()) r.all_scalar = false;
  }
  r.length = r.all_scalar ? 1 : length;
  r.arrays.reserve(args.size());
  for (const auto& a : args) {
    if (a.is_scalar()) {
      LS_ASSIGN_OR_RAISE(auto arr, arrow::MakeArrayFromScalar(*a.scalar(), r.length, pool));
      r.arrays.push_back(std::move(arr));
    } else if (a.is_array()) {
      r.arrays.push_back(a.make_array());
    } else if (a.is_chunked_array()) {
      auto chunked = a.chunked_array();
      if (chunked->num_chunks() == 1) {
        r.arrays.push_back(chunked->chunk(0));
      } else {
        LS_ASSIGN_OR_RAISE(auto arr, arrow::Concatenate(chunked->chunks(), pool));
        r.arrays.push_back(std::move(arr));
      }
    } else {
      return InternalError("function argument is neither an array nor a scalar");
    }
  }
  return r;
}

/// Wraps a kernel's output: a scalar when every input was a scalar.
inline Result<arrow::Datum> FromRows(const Rows& r, std::shared_ptr<arrow::Array> out) {
  if (r.all_scalar) {
    LS_ASSIGN_OR_RAISE(auto s, out->GetScalar(0));
    return arrow::Datum(std::move(s));
  }
  return arrow::Datum(std::move(out));
}

template <typename BuilderT>
Result<std::unique_ptr<BuilderT>> MakeTypedBuilder(const types::TypePtr& type,
                                                   arrow::MemoryPool* pool) {
  std::unique_ptr<arrow::ArrayBuilder> b;
  LS_RETURN_NOT_OK(arrow::MakeBuilder(pool, type, &b));
  return std::unique_ptr<BuilderT>(arrow::internal::checked_cast<BuilderT*>(b.release()));
}

/// Runs fn(rows, i, builder) for every row where no argument is NULL (NULL in,
/// NULL out: Spark's null-intolerant functions). fn returns Status.
template <typename BuilderT, typename Fn>
Result<arrow::Datum> MapRows(const std::vector<arrow::Datum>& args, int64_t length,
                             const EvalContext& ctx, const types::TypePtr& out_type, Fn&& fn) {
  LS_ASSIGN_OR_RAISE(Rows r, ToRows(args, length, ctx.pool));
  LS_ASSIGN_OR_RAISE(auto b, MakeTypedBuilder<BuilderT>(out_type, ctx.pool));
  LS_RETURN_NOT_OK(b->Reserve(r.length));
  for (int64_t i = 0; i < r.length; ++i) {
    if (r.AnyNull(i)) {
      LS_RETURN_NOT_OK(b->AppendNull());
      continue;
    }
    LS_RETURN_NOT_OK(fn(r, i, b.get()));
  }
  std::shared_ptr<arrow::Array> out;
  LS_RETURN_NOT_OK(b->Finish(&out));
  return FromRows(r, std::move(out));
}

/// Like MapRows but fn sees every row, NULLs included, and decides itself.
template <typename BuilderT, typename Fn>
Result<arrow::Datum> MapAllRows(const std::vector<arrow::Datum>& args, int64_t length,
                                const EvalContext& ctx, const types::TypePtr& out_type, Fn&& fn) {
  LS_ASSIGN_OR_RAISE(Rows r, ToRows(args, length, ctx.pool));
  LS_ASSIGN_OR_RAISE(auto b, MakeTypedBuilder<BuilderT>(out_type, ctx.pool));
  LS_RETURN_NOT_OK(b->Reserve(r.length));
  for (int64_t i = 0; i < r.length; ++i) {
    LS_RETURN_NOT_OK(fn(r, i, b.get()));
  }
  std::shared_ptr<arrow::Array> out;
  LS_RETURN_NOT_OK(b->Finish(&out));
  return FromRows(r, std::move(out));
}

/// "(INT, STRING)" for error messages.
inline std::string ArgTypeList(const CallSite& site) {
  std::string out = "(";
  for (size_t i = 0; i < site.arg_types.size(); ++i) {
    if (i) out += ", ";
    out += site.arg_types[i] ? types::ToDDL(*site.arg_types[i]) : "?";
  }
  return out + ")";
}

/// Checks the number of arguments; `signature` is Spark's, e.g. "(STRING, INT[, INT])".
inline Status CheckArity(const CallSite& site, std::string_view name, size_t min, size_t max,
                         std::string_view signature) {
  size_t n = site.arg_types.size();
  if (n < min || n > max) {
    return UserError("[WRONG_NUM_ARGS] function {} expects {} but got {} argument(s) {}", name,
                     signature, n, ArgTypeList(site));
  }
  return Status::OK();
}

inline Status TypeMismatch(const CallSite& site, std::string_view name,
                           std::string_view signature) {
  return UserError("[DATATYPE_MISMATCH] function {} expects {} but got {}", name, signature,
                   ArgTypeList(site));
}

/// Atomic types that Spark implicitly casts to STRING for string functions.
inline bool IsStringCoercible(const arrow::DataType& t) {
  switch (t.id()) {
    case arrow::Type::STRING:
    case arrow::Type::NA:
    case arrow::Type::BOOL:
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
    case arrow::Type::DECIMAL128:
    case arrow::Type::DATE32:
    case arrow::Type::TIMESTAMP:
    case arrow::Type::BINARY:
      return true;
    default:
      return false;
  }
}

/// Types Spark implicitly casts to an integer (INT/BIGINT) argument.
inline bool IsIntCoercible(const arrow::DataType& t) {
  return t.id() == arrow::Type::NA || types::IsIntegral(t) || t.id() == arrow::Type::STRING;
}

/// The literal value of argument k as a string, if it is a non-NULL literal.
inline const std::string* LiteralString(const CallSite& site, size_t k, std::string* storage) {
  if (k >= site.literal_args.size() || !site.literal_args[k] || !site.literal_args[k]->is_valid) {
    return nullptr;
  }
  const auto& s = *site.literal_args[k];
  if (s.type->id() == arrow::Type::STRING || s.type->id() == arrow::Type::BINARY) {
    *storage = std::string(arrow::internal::checked_cast<const arrow::BaseBinaryScalar&>(s).view());
    return storage;
  }
  *storage = s.ToString();
  return storage;
}

/// True if argument k is a literal NULL.
inline bool IsNullLiteral(const CallSite& site, size_t k) {
  return k < site.literal_args.size() && site.literal_args[k] && !site.literal_args[k]->is_valid;
}

inline bool IsLiteral(const CallSite& site, size_t k) {
  return k < site.literal_args.size() && site.literal_args[k] != nullptr;
}

// UTF-8 helpers. Spark's UTF8String counts code points by the lead byte, so a
// malformed sequence counts as one character per lead byte, as here.
inline int Utf8CharBytes(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC0) return 1;  // stray continuation byte: one char, as Spark
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

inline int64_t Utf8Length(std::string_view s) {
  int64_t n = 0;
  for (size_t i = 0; i < s.size(); i += Utf8CharBytes(static_cast<unsigned char>(s[i]))) ++n;
  return n;
}

/// Byte offset of code point `chars` (clamped to the end).
inline size_t Utf8Offset(std::string_view s, int64_t chars) {
  size_t i = 0;
  while (chars > 0 && i < s.size()) {
    i += Utf8CharBytes(static_cast<unsigned char>(s[i]));
    --chars;
  }
  return i < s.size() ? i : s.size();
}

/// Decodes the code point at s[*pos] and advances *pos.
inline uint32_t Utf8Decode(std::string_view s, size_t* pos) {
  unsigned char c = static_cast<unsigned char>(s[*pos]);
  int n = Utf8CharBytes(c);
  if (*pos + n > s.size()) n = static_cast<int>(s.size() - *pos);
  uint32_t cp;
  if (n == 1) {
    cp = c;
  } else if (n == 2) {
    cp = c & 0x1F;
  } else if (n == 3) {
    cp = c & 0x0F;
  } else {
    cp = c & 0x07;
  }
  for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[*pos + k]) & 0x3F);
  *pos += n;
  return cp;
}

inline void Utf8Append(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

/// A resolution: result type, implicit argument casts and the kernel. One
/// definition for every function family.
inline ResolvedCall Call(types::TypePtr result, std::vector<types::TypePtr> arg_types, ScalarExec exec,
                         bool null_intolerant = true) {
  ResolvedCall c;
  c.result_type = std::move(result);
  c.arg_types = std::move(arg_types);
  c.exec = std::move(exec);
  c.null_intolerant = null_intolerant;
  return c;
}

// Spark types the families name often (Arrow returns shared singletons).
inline const types::TypePtr& Utf8() { static const types::TypePtr t = arrow::utf8(); return t; }
inline const types::TypePtr& Int32() { static const types::TypePtr t = arrow::int32(); return t; }
inline const types::TypePtr& Int64() { static const types::TypePtr t = arrow::int64(); return t; }
inline const types::TypePtr& Bool() { static const types::TypePtr t = arrow::boolean(); return t; }
inline const types::TypePtr& Binary() { static const types::TypePtr t = arrow::binary(); return t; }
inline const types::TypePtr& Date() { static const types::TypePtr t = arrow::date32(); return t; }
inline const types::TypePtr& Ts() { static const types::TypePtr t = types::Timestamp(); return t; }
inline const types::TypePtr& TsNtz() { static const types::TypePtr t = types::TimestampNtz(); return t; }

}  // namespace lakestream::expr::internal
