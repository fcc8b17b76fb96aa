// Spark's string functions (stringExpressions.scala, regexpExpressions.scala)
// over Arrow utf8/binary arrays. Characters are Unicode code points, as in
// Spark's UTF8String; regexes are Java regexes run by Arrow's regex kernels
// (regex_internal.h says why not the system RE2).
// Arrow kernels are used where their semantics are Spark's (lower, upper).
#include <arrow/compute/api.h>
#include <arrow/util/base64.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <random>

#include "expr/regex_internal.h"
#include "expr/row_kernel_internal.h"
#include "types/value_format.h"

namespace lakestream::expr {

namespace internal {

std::string QuoteRegex(std::string_view s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          u >= 0x80)) {
      if (c == '\0') {
        out += "\\x00";
        continue;
      }
      out += '\\';
    }
    out += c;
  }
  return out;
}

namespace {

/// Renames every capturing group (?P<gK>...) in order and wraps the whole
/// match as g0, so extract_regex can address groups by number.
std::string NumberGroups(std::string_view p, int* count) {
  std::string out = "(?P<g0>";
  int k = 0;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      out += c;
      out += p[++i];
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (c == '(') {
      if (i + 1 >= p.size() || p[i + 1] != '?') {
        out += "(?P<g" + std::to_string(++k) + ">";
        continue;
      }
      if (p.substr(i, 4) == "(?P<") {
        size_t close = p.find('>', i);
        if (close != std::string_view::npos) {
          out += "(?P<g" + std::to_string(++k) + ">";
          i = close;
          continue;
        }
      }
    }
    out += c;
  }
  *count = k;
  return out + ")";
}

}  // namespace

Result<std::shared_ptr<const JavaRegex>> CompileJavaRegex(std::string_view pattern,
                                                          std::string_view fn, bool dot_all,
                                                          bool case_insensitive) {
  // Java's named groups "(?<name>" are RE2's "(?P<name>".
  std::string translated;
  if (dot_all) translated += "(?s)";
  if (case_insensitive) translated += "(?i)";
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      translated += pattern.substr(i, 2);
      ++i;
      continue;
    }
    if (pattern.substr(i, 3) == "(?<" && i + 3 < pattern.size() && pattern[i + 3] != '=' &&
        pattern[i + 3] != '!') {
      translated += "(?P<";
      i += 2;
      continue;
    }
    translated += pattern[i];
  }
  // Validate with the engine that will run it.
  arrow::compute::MatchSubstringOptions opts(translated);
  auto probe = arrow::compute::CallFunction(
      "match_substring_regex", {arrow::Datum(std::make_shared<arrow::StringScalar>(""))}, &opts);
  if (!probe.ok()) {
    std::string msg = probe.status().message();
    std::string hint;
    if (msg.find("perl operator") != std::string::npos || msg.find("escape") != std::string::npos ||
        msg.find("repetition operator") != std::string::npos) {
      hint =
          " (lookahead/lookbehind, backreferences and possessive quantifiers are Java regex "
          "features that lakestream's RE2 engine does not support)";
    }
    return UserError(
        "[INVALID_PARAMETER_VALUE.PATTERN] The value of parameter(s) `regexp` in `{}` is "
        "invalid: '{}': {}{}",
        fn, pattern, msg, hint);
  }
  auto re = std::make_shared<JavaRegex>();
  re->source = std::string(pattern);
  re->pattern = translated;
  re->numbered = NumberGroups(translated, &re->num_groups);
  const auto& matched = probe->scalar_as<arrow::BooleanScalar>();
  re->matches_empty = matched.is_valid && matched.value;
  return std::shared_ptr<const JavaRegex>(std::move(re));
}

Result<std::string> LikeToRegex(std::string_view pattern, char escape) {
  std::string out = "(?s)^";
  out.reserve(pattern.size() * 2 + 8);
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == escape) {
      if (i + 1 >= pattern.size()) {
        return UserError(
            "[INVALID_FORMAT.ESC_AT_THE_END] The LIKE pattern '{}' is invalid: the escape "
            "character is not allowed to end a pattern",
            pattern);
      }
      char n = pattern[++i];
      if (n != '_' && n != '%' && n != escape) {
        return UserError(
            "[INVALID_FORMAT.ESC_IN_THE_MIDDLE] The LIKE pattern '{}' is invalid: the escape "
            "character is not allowed to precede '{}'",
            pattern, n);
      }
      out += QuoteRegex(std::string_view(&n, 1));
    } else if (c == '_') {
      out += '.';
    } else if (c == '%') {
      out += ".*";
    } else {
      out += QuoteRegex(std::string_view(&c, 1));
    }
  }
  out += '$';
  return out;
}

Result<std::string> JavaReplacementToRewrite(std::string_view rep, int num_groups) {
  std::string out;
  for (size_t i = 0; i < rep.size(); ++i) {
    char c = rep[i];
    if (c == '\\') {
      if (i + 1 >= rep.size()) {
        return UserError("character to be escaped is missing in replacement string '{}'", rep);
      }
      char n = rep[++i];
      if (n == '\\') {
        out += "\\\\";
      } else {
        out += n;
      }
    } else if (c == '$') {
      if (i + 1 >= rep.size()) {
        return UserError("Illegal group reference: group index is missing in '{}'", rep);
      }
      if (rep[i + 1] == '{') {
        return Unsupported("named group references ${{name}} in replacement '{}'", rep);
      }
      if (rep[i + 1] < '0' || rep[i + 1] > '9') {
        return UserError("Illegal group reference in replacement string '{}'", rep);
      }
      int g = rep[++i] - '0';
      // Java takes further digits while the number stays a valid group.
      while (i + 1 < rep.size() && rep[i + 1] >= '0' && rep[i + 1] <= '9' &&
             g * 10 + (rep[i + 1] - '0') <= num_groups) {
        g = g * 10 + (rep[++i] - '0');
      }
      if (g > num_groups) {
        return UserError("No group {} in regex for replacement '{}'", g, rep);
      }
      if (g > 9) return Unsupported("group references above $9 in replacement '{}'", rep);
      out += '\\';
      out += static_cast<char>('0' + g);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace internal

namespace {

using arrow::Datum;
using internal::CheckArity;
using internal::MapAllRows;
using internal::MapRows;
using internal::Rows;
using internal::TypeMismatch;
using types::TypePtr;
using internal::Call;
using internal::Utf8;
using internal::Int32;
using internal::Int64;
using internal::Bool;
using internal::Binary;
using Resolver = std::function<Result<ResolvedCall>(const CallSite&)>;



/// Checks that every argument can be a STRING (or an INT where `ints` says so)
/// and returns the casts.
Result<std::vector<TypePtr>> Coerce(const CallSite& site, std::string_view name,
                                    std::string_view signature, std::string_view kinds) {
  std::vector<TypePtr> out;
  for (size_t i = 0; i < site.arg_types.size(); ++i) {
    char k = i < kinds.size() ? kinds[i] : kinds.back();
    const auto& t = *site.arg_types[i];
    switch (k) {
      case 's':  // STRING
        if (!internal::IsStringCoercible(t)) return TypeMismatch(site, name, signature);
        out.push_back(Utf8());
        break;
      case 'i':  // INT
        if (!internal::IsIntCoercible(t)) return TypeMismatch(site, name, signature);
        out.push_back(Int32());
        break;
      case 'l':  // BIGINT
        if (!internal::IsIntCoercible(t)) return TypeMismatch(site, name, signature);
        out.push_back(Int64());
        break;
      case 'b':  // BINARY (strings are cast to their UTF-8 bytes)
        if (!internal::IsStringCoercible(t)) return TypeMismatch(site, name, signature);
        out.push_back(Binary());
        break;
      default:
        out.push_back(nullptr);
    }
  }
  return out;
}

bool IsBinary(const TypePtr& t) { return t->id() == arrow::Type::BINARY; }

/// Spark's UTF8String.substringSQL on code points (or bytes for BINARY).
std::string_view SubstringSQL(std::string_view s, int64_t pos, int64_t len, bool bytes) {
  int64_t n = bytes ? static_cast<int64_t>(s.size()) : internal::Utf8Length(s);
  int64_t start = pos > 0 ? pos - 1 : (pos < 0 ? n + pos : 0);
  int64_t end = start + len;
  if (start < 0) start = 0;
  if (start >= end || start >= n) return {};
  if (end > n) end = n;
  if (bytes) return s.substr(start, end - start);
  size_t b = internal::Utf8Offset(s, start);
  size_t e = b + internal::Utf8Offset(s.substr(b), end - start);
  return s.substr(b, e - b);
}

// ---------------------------------------------------------------------------
// Simple unary string -> string functions.

template <typename Fn>
Resolver UnaryString(std::string name, Fn fn) {
  return [name, fn](const CallSite& site) -> Result<ResolvedCall> {
    LS_RETURN_NOT_OK(CheckArity(site, name, 1, 1, "(STRING)"));
    LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, name, "(STRING)", "s"));
    return Call(Utf8(), casts, [fn](const std::vector<Datum>& args, int64_t length,
                                    const EvalContext& ctx) -> Result<Datum> {
      std::string buf;
      return MapRows<arrow::StringBuilder>(
          args, length, ctx, Utf8(), [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
            buf.clear();
            fn(r.Str(0, i), &buf);
            return b->Append(buf);
          });
    });
  };
}

Resolver ArrowUnaryString(std::string name, std::string arrow_fn) {
  return [name, arrow_fn](const CallSite& site) -> Result<ResolvedCall> {
    LS_RETURN_NOT_OK(CheckArity(site, name, 1, 1, "(STRING)"));
    LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, name, "(STRING)", "s"));
    return Call(Utf8(), casts, [arrow_fn](const std::vector<Datum>& args, int64_t length,
                                          const EvalContext& ctx) -> Result<Datum> {
      arrow::compute::ExecContext ec(ctx.pool);
      return arrow::compute::CallFunction(arrow_fn, {args[0]}, &ec);
    });
  };
}

Result<ResolvedCall> ResolveLength(const CallSite& site, std::string name, int mode) {
  // mode 0: characters (bytes for BINARY), 1: octets, 2: bits.
  LS_RETURN_NOT_OK(CheckArity(site, name, 1, 1, "(STRING or BINARY)"));
  bool binary = IsBinary(site.arg_types[0]);
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, name, "(STRING or BINARY)", binary ? "b" : "s"));
  return Call(Int32(), casts,
              [mode, binary](const std::vector<Datum>& args, int64_t length,
                             const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::Int32Builder>(
                    args, length, ctx, Int32(),
                    [&](const Rows& r, int64_t i, arrow::Int32Builder* b) {
                      auto s = r.Str(0, i);
                      int64_t n = (mode == 0 && !binary) ? internal::Utf8Length(s)
                                                         : static_cast<int64_t>(s.size());
                      if (mode == 2) n *= 8;
                      b->UnsafeAppend(static_cast<int32_t>(n));
                      return Status::OK();
                    });
              });
}

Result<ResolvedCall> ResolveSubstring(const CallSite& site, const std::string& name) {
  LS_RETURN_NOT_OK(CheckArity(site, name, 2, 3, "(STRING, INT[, INT])"));
  bool binary = IsBinary(site.arg_types[0]);
  LS_ASSIGN_OR_RAISE(auto casts,
                     Coerce(site, name, "(STRING, INT[, INT])", binary ? "bii" : "sii"));
  TypePtr out = binary ? Binary() : Utf8();
  return Call(out, casts,
              [binary, out](const std::vector<Datum>& args, int64_t length,
                            const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::BinaryBuilder>(
                    args, length, ctx, out, [&](const Rows& r, int64_t i, arrow::BinaryBuilder* b) {
                      int64_t len = r.arrays.size() > 2 ? r.I32(2, i) : INT32_MAX;
                      return b->Append(SubstringSQL(r.Str(0, i), r.I32(1, i), len, binary));
                    });
              });
}

Result<ResolvedCall> ResolveLeftRight(const CallSite& site, const std::string& name, bool left) {
  LS_RETURN_NOT_OK(CheckArity(site, name, 2, 2, "(STRING, INT)"));
  bool binary = IsBinary(site.arg_types[0]);
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, name, "(STRING, INT)", binary ? "bi" : "si"));
  TypePtr out = binary ? Binary() : Utf8();
  return Call(out, casts,
              [binary, out, left](const std::vector<Datum>& args, int64_t length,
                                  const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::BinaryBuilder>(
                    args, length, ctx, out, [&](const Rows& r, int64_t i, arrow::BinaryBuilder* b) {
                      int64_t n = r.I32(1, i);
                      if (n <= 0) return b->Append(std::string_view());
                      return b->Append(left ? SubstringSQL(r.Str(0, i), 1, n, binary)
                                            : SubstringSQL(r.Str(0, i), -n, INT32_MAX, binary));
                    });
              });
}

// ---------------------------------------------------------------------------
// concat / concat_ws

Result<ResolvedCall> ResolveConcat(const CallSite& site) {
  bool all_binary = !site.arg_types.empty();
  bool any_list = false, all_list = !site.arg_types.empty();
  for (const auto& t : site.arg_types) {
    if (!IsBinary(t)) all_binary = false;
    if (t->id() == arrow::Type::LIST) {
      any_list = true;
    } else if (t->id() != arrow::Type::NA) {
      all_list = false;
    }
  }
  if (any_list) {
    if (!all_list) return TypeMismatch(site, "concat", "(ARRAY, ...) or (STRING, ...)");
    TypePtr list_type;
    for (const auto& t : site.arg_types) {
      if (t->id() != arrow::Type::LIST) continue;
      if (!list_type) {
        list_type = t;
      } else if (!list_type->Equals(*t)) {
        return TypeMismatch(site, "concat", "arrays of the same element type");
      }
    }
    std::vector<TypePtr> casts(site.arg_types.size(), list_type);
    return Call(list_type, casts,
                [list_type](const std::vector<Datum>& args, int64_t length,
                            const EvalContext& ctx) -> Result<Datum> {
                  LS_ASSIGN_OR_RAISE(Rows r, internal::ToRows(args, length, ctx.pool));
                  std::vector<const arrow::ListArray*> lists;
                  for (auto& a : r.arrays) lists.push_back(static_cast<arrow::ListArray*>(a.get()));
                  LS_ASSIGN_OR_RAISE(auto b, internal::MakeTypedBuilder<arrow::ListBuilder>(
                                                 list_type, ctx.pool));
                  auto* vb = b->value_builder();
                  for (int64_t i = 0; i < r.length; ++i) {
                    if (r.AnyNull(i)) {
                      LS_RETURN_NOT_OK(b->AppendNull());
                      continue;
                    }
                    LS_RETURN_NOT_OK(b->Append());
                    for (auto* l : lists) {
                      LS_RETURN_NOT_OK(vb->AppendArraySlice(*l->values()->data(),
                                                            l->value_offset(i), l->value_length(i)));
                    }
                  }
                  std::shared_ptr<arrow::Array> out;
                  LS_RETURN_NOT_OK(b->Finish(&out));
                  return internal::FromRows(r, out);
                });
  }
  LS_ASSIGN_OR_RAISE(auto casts,
                     Coerce(site, "concat", "(STRING, ...)", all_binary ? "b" : "s"));
  TypePtr out = all_binary ? Binary() : Utf8();
  return Call(out, casts,
              [out](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                std::string buf;
                return MapRows<arrow::BinaryBuilder>(
                    args, length, ctx, out, [&](const Rows& r, int64_t i, arrow::BinaryBuilder* b) {
                      buf.clear();
                      for (size_t k = 0; k < r.arrays.size(); ++k) buf += r.Str(k, i);
                      return b->Append(buf);
                    });
              });
}

Result<ResolvedCall> ResolveConcatWs(const CallSite& site) {
  if (site.arg_types.empty()) {
    return CheckArity(site, "concat_ws", 1, SIZE_MAX, "(STRING, STRING | ARRAY<STRING>, ...)");
  }
  std::vector<TypePtr> casts;
  for (size_t k = 0; k < site.arg_types.size(); ++k) {
    const auto& t = site.arg_types[k];
    if (k > 0 && t->id() == arrow::Type::LIST) {
      casts.push_back(arrow::list(arrow::utf8()));
    } else if (internal::IsStringCoercible(*t)) {
      casts.push_back(Utf8());
    } else {
      return TypeMismatch(site, "concat_ws", "(STRING, STRING | ARRAY<STRING>, ...)");
    }
  }
  return Call(
      Utf8(), casts,
      [](const std::vector<Datum>& args, int64_t length, const EvalContext& ctx) -> Result<Datum> {
        std::string buf;
        return MapAllRows<arrow::StringBuilder>(
            args, length, ctx, Utf8(), [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
              if (r.IsNull(0, i)) return b->AppendNull();
              auto sep = r.Str(0, i);
              buf.clear();
              bool first = true;
              auto add = [&](std::string_view v) {
                if (!first) buf += sep;
                buf += v;
                first = false;
              };
              for (size_t k = 1; k < r.arrays.size(); ++k) {
                if (r.IsNull(k, i)) continue;
                if (r.arrays[k]->type_id() == arrow::Type::LIST) {
                  const auto& l = r.As<arrow::ListArray>(k);
                  const auto& v = static_cast<const arrow::StringArray&>(*l.values());
                  for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
                    if (!v.IsNull(j)) add(v.GetView(j));
                  }
                } else {
                  add(r.Str(k, i));
                }
              }
              return b->Append(buf);
            });
      });
}

// ---------------------------------------------------------------------------
// trim

/// Code points of `chars` (for trim's optional argument).
bool ContainsChar(std::string_view chars, std::string_view ch) {
  size_t p = 0;
  while (p < chars.size()) {
    size_t n = internal::Utf8CharBytes(static_cast<unsigned char>(chars[p]));
    if (chars.substr(p, n) == ch) return true;
    p += n;
  }
  return false;
}

std::string_view TrimView(std::string_view s, std::string_view chars, bool left, bool right) {
  size_t b = 0, e = s.size();
  if (left) {
    while (b < e) {
      size_t n = internal::Utf8CharBytes(static_cast<unsigned char>(s[b]));
      if (!ContainsChar(chars, s.substr(b, n))) break;
      b += n;
    }
  }
  if (right) {
    while (e > b) {
      size_t start = e - 1;
      while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
      if (!ContainsChar(chars, s.substr(start, e - start))) break;
      e = start;
    }
  }
  return s.substr(b, e - b);
}

/// The two-argument forms differ in order, as in Spark: trim/ltrim/rtrim take
/// (trimStr, str) (StringTrim's secondary constructor, also what TRIM(BOTH x
/// FROM s) parses to), btrim takes (str, trimStr).
Resolver Trim(std::string name, bool left, bool right) {
  const bool chars_first = name != "btrim";
  return [=](const CallSite& site) -> Result<ResolvedCall> {
    LS_RETURN_NOT_OK(CheckArity(site, name, 1, 2, "(STRING[, STRING trimChars])"));
    LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, name, "(STRING[, STRING])", "ss"));
    return Call(Utf8(), casts,
                [=](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                  return MapRows<arrow::StringBuilder>(
                      args, length, ctx, Utf8(),
                      [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                        // Spark trims only ' ' (0x20) by default, not all whitespace.
                        if (r.arrays.size() == 1) return b->Append(TrimView(r.Str(0, i), " ", left, right));
                        size_t src = chars_first ? 1 : 0;
                        return b->Append(TrimView(r.Str(src, i), r.Str(1 - src, i), left, right));
                      });
                });
  };
}

// ---------------------------------------------------------------------------
// split / replace / regexes

/// The compiled regex of a literal pattern argument, or nullptr.
Result<std::shared_ptr<const internal::JavaRegex>> LiteralRegex(const CallSite& site, size_t k,
                                                                const std::string& fn) {
  std::string storage;
  const std::string* p = internal::LiteralString(site, k, &storage);
  if (!p) return nullptr;
  return internal::CompileJavaRegex(*p, fn);
}

using RowRegex = std::function<Result<const internal::JavaRegex*>(std::string_view)>;
using RegexApply = std::function<Result<std::shared_ptr<arrow::Array>>(
    const std::shared_ptr<arrow::Array>& strings, const internal::JavaRegex& re, const Rows& r,
    int64_t row, arrow::compute::ExecContext* ec)>;

/// Runs `apply` over the whole string column (argument 0) when the pattern
/// (argument 1) and all other parameters are literals; otherwise row by row,
/// compiling each row's pattern through `row_regex`.
Result<Datum> RunRegex(const std::vector<Datum>& args, int64_t length, const EvalContext& ctx,
                       const internal::JavaRegex* lit, const TypePtr& out,
                       const RowRegex& row_regex, const RegexApply& apply) {
  LS_ASSIGN_OR_RAISE(Rows r, internal::ToRows(args, length, ctx.pool));
  arrow::compute::ExecContext ec(ctx.pool);
  bool params_literal = true;
  for (size_t k = 1; k < args.size(); ++k) params_literal &= args[k].is_scalar();
  if (lit && params_literal) {
    for (size_t k = 1; k < args.size(); ++k) {
      if (!args[k].scalar()->is_valid) {
        LS_ASSIGN_OR_RAISE(auto nulls, arrow::MakeArrayOfNull(out, r.length, ctx.pool));
        return internal::FromRows(r, nulls);
      }
    }
    LS_ASSIGN_OR_RAISE(auto res, apply(r.arrays[0], *lit, r, 0, &ec));
    return internal::FromRows(r, res);
  }
  LS_ASSIGN_OR_RAISE(auto b, internal::MakeTypedBuilder<arrow::ArrayBuilder>(out, ctx.pool));
  for (int64_t i = 0; i < r.length; ++i) {
    if (r.AnyNull(i)) {
      LS_RETURN_NOT_OK(b->AppendNull());
      continue;
    }
    const internal::JavaRegex* re = lit;
    if (!re) {
      LS_ASSIGN_OR_RAISE(re, row_regex(r.Str(1, i)));
    }
    LS_ASSIGN_OR_RAISE(auto res, apply(r.arrays[0]->Slice(i, 1), *re, r, i, &ec));
    LS_RETURN_NOT_OK(b->AppendArraySlice(*res->data(), 0, 1));
  }
  std::shared_ptr<arrow::Array> res;
  LS_RETURN_NOT_OK(b->Finish(&res));
  return internal::FromRows(r, res);
}

Result<std::shared_ptr<arrow::Array>> CallKernel(const std::string& name,
                                                 const std::shared_ptr<arrow::Array>& in,
                                                 const arrow::compute::FunctionOptions& opts,
                                                 arrow::compute::ExecContext* ec) {
  LS_ASSIGN_OR_RAISE(Datum d, arrow::compute::CallFunction(name, {Datum(in)}, &opts, ec));
  return d.make_array();
}

Result<ResolvedCall> ResolveSplit(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "split", 2, 3, "(STRING, STRING regex[, INT limit])"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "split", "(STRING, STRING[, INT])", "ssi"));
  LS_ASSIGN_OR_RAISE(auto lit, LiteralRegex(site, 1, "split"));
  TypePtr out = arrow::list(arrow::utf8());
  return Call(
      out, casts,
      [lit, out](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
        internal::RegexCache cache("split");
        return RunRegex(
            args, length, ctx, lit.get(), out, [&](std::string_view p) { return cache.Get(p); },
            [&](const std::shared_ptr<arrow::Array>& strings, const internal::JavaRegex& re,
                const Rows& r, int64_t row, arrow::compute::ExecContext* ec)
                -> Result<std::shared_ptr<arrow::Array>> {
              int32_t limit = r.arrays.size() > 2 ? r.I32(2, row) : -1;
              if (!re.source.empty()) {
                // Java's split(regex, limit): at most `limit` pieces when limit > 0.
                arrow::compute::SplitPatternOptions opts(re.pattern, limit > 0 ? limit - 1 : -1);
                return CallKernel("split_pattern_regex", strings, opts, ec);
              }
              // Empty pattern: one character per piece, at most `limit` (Spark 4).
              arrow::ListBuilder b(ec->memory_pool(), std::make_shared<arrow::StringBuilder>());
              auto* vb = static_cast<arrow::StringBuilder*>(b.value_builder());
              const auto& sa = static_cast<const arrow::StringArray&>(*strings);
              for (int64_t i = 0; i < sa.length(); ++i) {
                if (sa.IsNull(i)) {
                  LS_RETURN_NOT_OK(b.AppendNull());
                  continue;
                }
                LS_RETURN_NOT_OK(b.Append());
                auto s = sa.GetView(i);
                if (s.empty()) {
                  LS_RETURN_NOT_OK(vb->Append(s));
                  continue;
                }
                int64_t n = internal::Utf8Length(s);
                int64_t parts = (limit > n || limit <= 0) ? n : limit;
                size_t p = 0;
                for (int64_t k = 0; k < parts; ++k) {
                  size_t len = internal::Utf8CharBytes(static_cast<unsigned char>(s[p]));
                  LS_RETURN_NOT_OK(vb->Append(s.substr(p, len)));
                  p += len;
                }
              }
              std::shared_ptr<arrow::Array> res;
              LS_RETURN_NOT_OK(b.Finish(&res));
              return res;
            });
      });
}

Result<ResolvedCall> ResolveReplace(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "replace", 2, 3, "(STRING, STRING search[, STRING replace])"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "replace", "(STRING, STRING[, STRING])", "s"));
  return Call(Utf8(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                std::string buf;
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(),
                    [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                      auto s = r.Str(0, i);
                      auto search = r.Str(1, i);
                      std::string_view rep = r.arrays.size() > 2 ? r.Str(2, i) : "";
                      if (search.empty()) return b->Append(s);
                      buf.clear();
                      size_t p = 0;
                      while (true) {
                        size_t f = s.find(search, p);
                        if (f == std::string_view::npos) break;
                        buf.append(s.substr(p, f - p));
                        buf.append(rep);
                        p = f + search.size();
                      }
                      buf.append(s.substr(p));
                      return b->Append(buf);
                    });
              });
}

/// (offset, length) of group `g` in row `i` of an extract_regex_span result; false if absent.
bool Span(const arrow::StructArray& spans, int g, int64_t i, int32_t* off, int32_t* len) {
  if (spans.IsNull(i)) return false;
  const auto& f = static_cast<const arrow::FixedSizeListArray&>(*spans.field(g));
  if (f.IsNull(i)) return false;
  const auto& v = static_cast<const arrow::Int32Array&>(*f.values());
  *off = v.Value(f.value_offset(i));
  *len = v.Value(f.value_offset(i) + 1);
  return true;
}

/// Java's Matcher.replaceAll from character `pos` (1-based), match by match.
/// Used when the pattern can match "": after a non-empty match Java also
/// replaces an empty match at its end ('aaa' =~ s/a*/X/ is "XX"), which
/// Arrow's kernel does not.
Result<std::shared_ptr<arrow::Array>> JavaReplaceAll(const std::shared_ptr<arrow::Array>& strings,
                                                     const internal::JavaRegex& re,
                                                     const std::string& rewrite, int64_t pos,
                                                     arrow::compute::ExecContext* ec) {
  arrow::compute::ExtractRegexSpanOptions opts(re.numbered);
  const auto& sa = static_cast<const arrow::StringArray&>(*strings);
  arrow::StringBuilder b(ec->memory_pool());
  std::string out;
  for (int64_t i = 0; i < sa.length(); ++i) {
    if (sa.IsNull(i)) {
      LS_RETURN_NOT_OK(b.AppendNull());
      continue;
    }
    auto s = sa.GetView(i);
    size_t p = internal::Utf8Offset(s, pos - 1);
    out.assign(s.substr(0, p));
    if (pos > 1 && p >= s.size()) {
      LS_RETURN_NOT_OK(b.Append(s));
      continue;
    }
    size_t copied = p;  // s[0, copied) is in `out`
    while (p <= s.size()) {
      arrow::StringBuilder one;
      LS_RETURN_NOT_OK(one.Append(s.substr(p)));
      std::shared_ptr<arrow::Array> rest;
      LS_RETURN_NOT_OK(one.Finish(&rest));
      LS_ASSIGN_OR_RAISE(auto spans_arr, CallKernel("extract_regex_span", rest, opts, ec));
      const auto& spans = static_cast<const arrow::StructArray&>(*spans_arr);
      int32_t off0, len0;
      if (!Span(spans, 0, 0, &off0, &len0)) break;
      size_t ms = p + off0, me = ms + len0;
      out.append(s.substr(copied, ms - copied));
      for (size_t k = 0; k < rewrite.size(); ++k) {
        if (rewrite[k] == '\\' && k + 1 < rewrite.size()) {
          char n = rewrite[++k];
          if (n >= '0' && n <= '9') {
            int32_t off, len;
            if (Span(spans, n - '0', 0, &off, &len)) out.append(s.substr(p + off, len));
          } else {
            out.push_back(n);
          }
        } else {
          out.push_back(rewrite[k]);
        }
      }
      copied = me;
      if (len0 == 0) {
        if (me >= s.size()) break;
        p = me + internal::Utf8CharBytes(static_cast<unsigned char>(s[me]));
        out.append(s.substr(me, p - me));
        copied = p;
      } else {
        p = me;
      }
    }
    if (copied < s.size()) out.append(s.substr(copied));
    LS_RETURN_NOT_OK(b.Append(out));
  }
  std::shared_ptr<arrow::Array> res;
  LS_RETURN_NOT_OK(b.Finish(&res));
  return res;
}

Result<ResolvedCall> ResolveRegexpReplace(const CallSite& site) {
  const char* sig = "(STRING, STRING regex, STRING replacement[, INT position])";
  LS_RETURN_NOT_OK(CheckArity(site, "regexp_replace", 3, 4, sig));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "regexp_replace", sig, "sssi"));
  LS_ASSIGN_OR_RAISE(auto lit, LiteralRegex(site, 1, "regexp_replace"));
  return Call(
      Utf8(), casts,
      [lit](const std::vector<Datum>& args, int64_t length, const EvalContext& ctx) -> Result<Datum> {
        internal::RegexCache cache("regexp_replace");
        return RunRegex(
            args, length, ctx, lit.get(), Utf8(), [&](std::string_view p) { return cache.Get(p); },
            [&](const std::shared_ptr<arrow::Array>& strings, const internal::JavaRegex& re,
                const Rows& r, int64_t row, arrow::compute::ExecContext* ec)
                -> Result<std::shared_ptr<arrow::Array>> {
              LS_ASSIGN_OR_RAISE(std::string rewrite, internal::JavaReplacementToRewrite(
                                                          r.Str(2, row), re.num_groups));
              int64_t pos = r.arrays.size() > 3 ? r.I32(3, row) : 1;
              if (pos <= 0) {
                return ExecutionError(
                    "[INVALID_PARAMETER_VALUE.REGEX_POSITION] The value of parameter(s) "
                    "`position` in `regexp_replace` is invalid: expects a positive value but got {}",
                    pos);
              }
              arrow::compute::ReplaceSubstringOptions opts(re.pattern, rewrite, -1);
              if (re.matches_empty) return JavaReplaceAll(strings, re, rewrite, pos, ec);
              if (pos == 1) return CallKernel("replace_substring_regex", strings, opts, ec);
              // Replace only after the first pos-1 characters.
              const auto& sa = static_cast<const arrow::StringArray&>(*strings);
              arrow::StringBuilder b(ec->memory_pool());
              for (int64_t i = 0; i < sa.length(); ++i) {
                if (sa.IsNull(i)) {
                  LS_RETURN_NOT_OK(b.AppendNull());
                  continue;
                }
                auto s = sa.GetView(i);
                size_t off = internal::Utf8Offset(s, pos - 1);
                if (off >= s.size()) {
                  LS_RETURN_NOT_OK(b.Append(s));
                  continue;
                }
                arrow::StringBuilder one;
                LS_RETURN_NOT_OK(one.Append(s.substr(off)));
                std::shared_ptr<arrow::Array> tail;
                LS_RETURN_NOT_OK(one.Finish(&tail));
                LS_ASSIGN_OR_RAISE(auto rep, CallKernel("replace_substring_regex", tail, opts, ec));
                std::string v(s.substr(0, off));
                v += static_cast<const arrow::StringArray&>(*rep).GetView(0);
                LS_RETURN_NOT_OK(b.Append(v));
              }
              std::shared_ptr<arrow::Array> res;
              LS_RETURN_NOT_OK(b.Finish(&res));
              return res;
            });
      });
}

Status CheckGroupIndex(const internal::JavaRegex& re, int32_t idx, const char* fn) {
  if (idx < 0 || idx > re.num_groups) {
    return ExecutionError(
        "[INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] The value of parameter(s) `idx` in `{}` is "
        "invalid: Expects group index between 0 and {}, but got {}.",
        fn, re.num_groups, idx);
  }
  return Status::OK();
}

Result<ResolvedCall> ResolveRegexpExtract(const CallSite& site, bool all) {
  const char* fn = all ? "regexp_extract_all" : "regexp_extract";
  const char* sig = "(STRING, STRING regex[, INT idx])";
  LS_RETURN_NOT_OK(CheckArity(site, fn, 2, 3, sig));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, fn, sig, "ssi"));
  LS_ASSIGN_OR_RAISE(auto lit, LiteralRegex(site, 1, fn));
  TypePtr out = all ? arrow::list(arrow::utf8()) : Utf8();
  return Call(
      out, casts,
      [lit, all, fn, out](const std::vector<Datum>& args, int64_t length,
                          const EvalContext& ctx) -> Result<Datum> {
        internal::RegexCache cache(fn);
        return RunRegex(
            args, length, ctx, lit.get(), out, [&](std::string_view p) { return cache.Get(p); },
            [&](const std::shared_ptr<arrow::Array>& strings, const internal::JavaRegex& re,
                const Rows& r, int64_t row, arrow::compute::ExecContext* ec)
                -> Result<std::shared_ptr<arrow::Array>> {
              int32_t idx = r.arrays.size() > 2 ? r.I32(2, row) : 1;
              LS_RETURN_NOT_OK(CheckGroupIndex(re, idx, fn));
              arrow::compute::ExtractRegexSpanOptions opts(re.numbered);
              const auto& sa = static_cast<const arrow::StringArray&>(*strings);
              if (!all) {
                LS_ASSIGN_OR_RAISE(auto spans_arr, CallKernel("extract_regex_span", strings, opts, ec));
                const auto& spans = static_cast<const arrow::StructArray&>(*spans_arr);
                arrow::StringBuilder b(ec->memory_pool());
                for (int64_t i = 0; i < sa.length(); ++i) {
                  if (sa.IsNull(i)) {
                    LS_RETURN_NOT_OK(b.AppendNull());
                    continue;
                  }
                  int32_t off, len;
                  // Spark: no match or a group that did not take part gives ''.
                  if (!Span(spans, idx, i, &off, &len)) {
                    LS_RETURN_NOT_OK(b.Append(std::string_view()));
                  } else {
                    LS_RETURN_NOT_OK(b.Append(sa.GetView(i).substr(off, len)));
                  }
                }
                std::shared_ptr<arrow::Array> res;
                LS_RETURN_NOT_OK(b.Finish(&res));
                return res;
              }
              arrow::ListBuilder b(ec->memory_pool(), std::make_shared<arrow::StringBuilder>());
              auto* vb = static_cast<arrow::StringBuilder*>(b.value_builder());
              for (int64_t i = 0; i < sa.length(); ++i) {
                if (sa.IsNull(i)) {
                  LS_RETURN_NOT_OK(b.AppendNull());
                  continue;
                }
                LS_RETURN_NOT_OK(b.Append());
                auto s = sa.GetView(i);
                size_t pos = 0;
                while (pos <= s.size()) {
                  arrow::StringBuilder one;
                  LS_RETURN_NOT_OK(one.Append(s.substr(pos)));
                  std::shared_ptr<arrow::Array> rest;
                  LS_RETURN_NOT_OK(one.Finish(&rest));
                  LS_ASSIGN_OR_RAISE(auto spans_arr, CallKernel("extract_regex_span", rest, opts, ec));
                  const auto& spans = static_cast<const arrow::StructArray&>(*spans_arr);
                  int32_t off0, len0, off, len;
                  if (!Span(spans, 0, 0, &off0, &len0)) break;
                  if (Span(spans, idx, 0, &off, &len)) {
                    LS_RETURN_NOT_OK(vb->Append(s.substr(pos + off, len)));
                  } else {
                    LS_RETURN_NOT_OK(vb->Append(std::string_view()));
                  }
                  size_t end = pos + off0 + len0;
                  if (len0 == 0) {
                    if (end >= s.size()) break;
                    end += internal::Utf8CharBytes(static_cast<unsigned char>(s[end]));
                  }
                  pos = end;
                }
              }
              std::shared_ptr<arrow::Array> res;
              LS_RETURN_NOT_OK(b.Finish(&res));
              return res;
            });
      });
}

Result<ResolvedCall> ResolveRlike(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "rlike", 2, 2, "(STRING, STRING regex)"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "rlike", "(STRING, STRING)", "ss"));
  LS_ASSIGN_OR_RAISE(auto lit, LiteralRegex(site, 1, "rlike"));
  return Call(Bool(), casts,
              [lit](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                internal::RegexCache cache("rlike");
                return RunRegex(
                    args, length, ctx, lit.get(), Bool(),
                    [&](std::string_view p) { return cache.Get(p); },
                    [&](const std::shared_ptr<arrow::Array>& strings, const internal::JavaRegex& re,
                        const Rows& r, int64_t row, arrow::compute::ExecContext* ec) {
                      arrow::compute::MatchSubstringOptions opts(re.pattern);
                      return CallKernel("match_substring_regex", strings, opts, ec);
                    });
              });
}

Result<char> EscapeChar(const CallSite& site, const char* fn) {
  if (site.arg_types.size() < 3) return '\\';
  std::string storage;
  const std::string* e = internal::LiteralString(site, 2, &storage);
  if (!e || e->size() != 1) {
    return UserError("the escape argument of {} must be a one-character string literal", fn);
  }
  return (*e)[0];
}

Result<ResolvedCall> ResolveLike(const CallSite& site, bool ilike) {
  const char* fn = ilike ? "ilike" : "like";
  LS_RETURN_NOT_OK(CheckArity(site, fn, 2, 3, "(STRING, STRING pattern[, STRING escape])"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, fn, "(STRING, STRING[, STRING])", "sss"));
  LS_ASSIGN_OR_RAISE(char escape, EscapeChar(site, fn));
  casts.resize(2);  // the escape is a literal read at bind time
  std::shared_ptr<const internal::JavaRegex> lit;
  std::string storage;
  if (const std::string* p = internal::LiteralString(site, 1, &storage)) {
    LS_ASSIGN_OR_RAISE(auto rx, internal::LikeToRegex(*p, escape));
    LS_ASSIGN_OR_RAISE(lit, internal::CompileJavaRegex(rx, fn, false, ilike));
  }
  return Call(Bool(), casts,
              [lit, escape, ilike, fn](const std::vector<Datum>& args, int64_t length,
                                       const EvalContext& ctx) -> Result<Datum> {
                std::vector<Datum> two(args.begin(), args.begin() + 2);
                std::string last;
                std::shared_ptr<const internal::JavaRegex> cur;
                return RunRegex(
                    two, length, ctx, lit.get(), Bool(),
                    [&](std::string_view p) -> Result<const internal::JavaRegex*> {
                      if (!cur || p != last) {
                        LS_ASSIGN_OR_RAISE(auto rx, internal::LikeToRegex(p, escape));
                        LS_ASSIGN_OR_RAISE(cur, internal::CompileJavaRegex(rx, fn, false, ilike));
                        last = std::string(p);
                      }
                      return cur.get();
                    },
                    [&](const std::shared_ptr<arrow::Array>& strings, const internal::JavaRegex& re,
                        const Rows& r, int64_t row, arrow::compute::ExecContext* ec) {
                      arrow::compute::MatchSubstringOptions opts(re.pattern);
                      return CallKernel("match_substring_regex", strings, opts, ec);
                    });
              });
}

// ---------------------------------------------------------------------------
// starts_with / ends_with / contains / instr / locate

Resolver Predicate(std::string name, int kind) {
  return [=](const CallSite& site) -> Result<ResolvedCall> {
    LS_RETURN_NOT_OK(CheckArity(site, name, 2, 2, "(STRING, STRING)"));
    bool binary = IsBinary(site.arg_types[0]) && IsBinary(site.arg_types[1]);
    LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, name, "(STRING, STRING)", binary ? "bb" : "ss"));
    return Call(Bool(), casts,
                [kind](const std::vector<Datum>& args, int64_t length,
                       const EvalContext& ctx) -> Result<Datum> {
                  return MapRows<arrow::BooleanBuilder>(
                      args, length, ctx, Bool(),
                      [&](const Rows& r, int64_t i, arrow::BooleanBuilder* b) {
                        auto s = r.Str(0, i);
                        auto p = r.Str(1, i);
                        bool v = kind == 0   ? s.starts_with(p)
                                 : kind == 1 ? s.ends_with(p)
                                             : s.find(p) != std::string_view::npos;
                        b->UnsafeAppend(v);
                        return Status::OK();
                      });
                });
  };
}

/// 1-based code point position of `sub` in `s` at or after code point `from`, 0 if absent.
int32_t CharIndexOf(std::string_view s, std::string_view sub, int64_t from) {
  size_t off = internal::Utf8Offset(s, from);
  if (from > 0 && off >= s.size() && !(sub.empty() && off == s.size())) return 0;
  size_t f = s.find(sub, off);
  if (f == std::string_view::npos) return 0;
  return static_cast<int32_t>(internal::Utf8Length(s.substr(0, f)) + 1);
}

Result<ResolvedCall> ResolveInstr(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "instr", 2, 2, "(STRING, STRING substr)"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "instr", "(STRING, STRING)", "ss"));
  return Call(Int32(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::Int32Builder>(
                    args, length, ctx, Int32(), [&](const Rows& r, int64_t i, arrow::Int32Builder* b) {
                      b->UnsafeAppend(CharIndexOf(r.Str(0, i), r.Str(1, i), 0));
                      return Status::OK();
                    });
              });
}

Result<ResolvedCall> ResolveLocate(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "locate", 2, 3, "(STRING substr, STRING[, INT pos])"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "locate", "(STRING, STRING[, INT])", "ssi"));
  auto rc = Call(Int32(), casts,
                 [](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                   return MapAllRows<arrow::Int32Builder>(
                       args, length, ctx, Int32(),
                       [&](const Rows& r, int64_t i, arrow::Int32Builder* b) -> Status {
                         // Spark: a NULL position gives 0, NULL strings give NULL.
                         if (r.arrays.size() > 2 && r.IsNull(2, i)) {
                           b->UnsafeAppend(0);
                           return Status::OK();
                         }
                         if (r.IsNull(0, i) || r.IsNull(1, i)) return b->AppendNull();
                         int64_t pos = r.arrays.size() > 2 ? r.I32(2, i) : 1;
                         b->UnsafeAppend(pos < 1 ? 0 : CharIndexOf(r.Str(1, i), r.Str(0, i), pos - 1));
                         return Status::OK();
                       });
                 });
  rc.null_intolerant = false;
  return rc;
}

// ---------------------------------------------------------------------------
// lpad / rpad / repeat / reverse / initcap / translate / space / ascii / chr

void Pad(std::string_view s, int64_t len, std::string_view pad, bool left, std::string* out) {
  int64_t n = internal::Utf8Length(s);
  int64_t spaces = len - n;
  if (spaces <= 0 || pad.empty()) {
    out->assign(SubstringSQL(s, 1, std::max<int64_t>(len, 0), false));
    return;
  }
  std::string fill;
  int64_t pad_chars = internal::Utf8Length(pad);
  int64_t full = spaces / pad_chars;
  for (int64_t k = 0; k < full; ++k) fill += pad;
  fill += pad.substr(0, internal::Utf8Offset(pad, spaces % pad_chars));
  if (left) {
    out->assign(fill);
    out->append(s);
  } else {
    out->assign(s);
    out->append(fill);
  }
}

Resolver PadFn(std::string name, bool left) {
  return [=](const CallSite& site) -> Result<ResolvedCall> {
    LS_RETURN_NOT_OK(CheckArity(site, name, 2, 3, "(STRING, INT len[, STRING pad])"));
    LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, name, "(STRING, INT[, STRING])", "sis"));
    return Call(Utf8(), casts,
                [left](const std::vector<Datum>& args, int64_t length,
                       const EvalContext& ctx) -> Result<Datum> {
                  std::string buf;
                  return MapRows<arrow::StringBuilder>(
                      args, length, ctx, Utf8(),
                      [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                        std::string_view pad = r.arrays.size() > 2 ? r.Str(2, i) : " ";
                        Pad(r.Str(0, i), r.I32(1, i), pad, left, &buf);
                        return b->Append(buf);
                      });
                });
  };
}

Result<ResolvedCall> ResolveRepeat(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "repeat", 2, 2, "(STRING, INT n)"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "repeat", "(STRING, INT)", "si"));
  return Call(Utf8(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                std::string buf;
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(),
                    [&](const Rows& r, int64_t i, arrow::StringBuilder* b) -> Status {
                      auto s = r.Str(0, i);
                      int64_t n = r.I32(1, i);
                      if (n > 0 && static_cast<int64_t>(s.size()) * n > (int64_t{1} << 31)) {
                        return ExecutionError("repeat: the result of {} bytes is too long",
                                              static_cast<int64_t>(s.size()) * n);
                      }
                      buf.clear();
                      for (int64_t k = 0; k < n; ++k) buf += s;
                      return b->Append(buf);
                    });
              });
}

void ReverseUtf8(std::string_view s, std::string* out) {
  out->resize(s.size());
  size_t p = 0;
  while (p < s.size()) {
    size_t n = internal::Utf8CharBytes(static_cast<unsigned char>(s[p]));
    if (p + n > s.size()) n = s.size() - p;
    std::memcpy(out->data() + (s.size() - p - n), s.data() + p, n);
    p += n;
  }
}

Result<ResolvedCall> ResolveReverse(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "reverse", 1, 1, "(STRING or ARRAY)"));
  if (site.arg_types[0]->id() == arrow::Type::LIST) {
    TypePtr t = site.arg_types[0];
    return Call(t, {nullptr},
                [t](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                  return MapRows<arrow::ListBuilder>(
                      args, length, ctx, t, [&](const Rows& r, int64_t i, arrow::ListBuilder* b) {
                        const auto& l = r.As<arrow::ListArray>(0);
                        LS_RETURN_NOT_OK(b->Append());
                        for (int64_t j = l.value_offset(i + 1) - 1; j >= l.value_offset(i); --j) {
                          LS_RETURN_NOT_OK(
                              b->value_builder()->AppendArraySlice(*l.values()->data(), j, 1));
                        }
                        return Status::OK();
                      });
                });
  }
  return UnaryString("reverse", ReverseUtf8)(site);
}

// Spark 4's initcap (CollationAwareUTF8String.toTitleCaseICU): the first code
// point of each word (words separated by ' ' only) takes its full title-case
// mapping, every other code point its full lower-case mapping ("ß" -> "Ss",
// "ǆ" -> "ǅ", "hello-world" -> "Hello-world"). ICU holds the mappings; ASCII
// rows skip it.
void InitCap(std::string_view s, std::string* out) {
  const bool ascii =
      std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) {
    out->assign(s);
    bool start = true;
    for (char& c : *out) {
      if (start && c >= 'a' && c <= 'z') {
        c = static_cast<char>(c - 'a' + 'A');
      } else if (!start && c >= 'A' && c <= 'Z') {
        c = static_cast<char>(c - 'A' + 'a');
      }
      start = c == ' ';
    }
    return;
  }
  // Invalid UTF-8 becomes U+FFFD, as Spark validates the string first.
  const icu::UnicodeString u =
      icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  icu::UnicodeString result;
  const int32_t n = u.length();
  int32_t i = 0;
  while (i < n) {
    const UChar32 c = u.char32At(i);
    icu::UnicodeString first(u, i, U16_LENGTH(c));
    first.toTitle(nullptr, icu::Locale::getRoot());
    result += first;
    i += U16_LENGTH(c);
    if (c == ' ') continue;  // the next code point starts a word too
    // The rest of the word, up to and including the ' ' that ends it.
    int32_t end = u.indexOf(static_cast<char16_t>(' '), i);
    end = end < 0 ? n : end + 1;
    icu::UnicodeString rest(u, i, end - i);
    rest.toLower(icu::Locale::getRoot());
    result += rest;
    i = end;
  }
  out->clear();
  result.toUTF8String(*out);
}

void Translate(std::string_view s, std::string_view from, std::string_view to, std::string* out) {
  // First occurrence in `from` wins; characters without a counterpart in `to` are removed.
  std::vector<std::pair<uint32_t, int64_t>> map;  // from char -> to char (-1 = delete)
  std::vector<uint32_t> to_chars;
  for (size_t p = 0; p < to.size();) to_chars.push_back(internal::Utf8Decode(to, &p));
  size_t k = 0;
  for (size_t p = 0; p < from.size(); ++k) {
    uint32_t c = internal::Utf8Decode(from, &p);
    bool seen = false;
    for (auto& e : map) seen |= e.first == c;
    if (!seen) map.emplace_back(c, k < to_chars.size() ? static_cast<int64_t>(to_chars[k]) : -1);
  }
  out->clear();
  for (size_t p = 0; p < s.size();) {
    size_t start = p;
    uint32_t c = internal::Utf8Decode(s, &p);
    const std::pair<uint32_t, int64_t>* hit = nullptr;
    for (auto& e : map) {
      if (e.first == c) hit = &e;
    }
    if (!hit) {
      out->append(s.substr(start, p - start));
    } else if (hit->second >= 0) {
      internal::Utf8Append(static_cast<uint32_t>(hit->second), out);
    }
  }
}

Result<ResolvedCall> ResolveTranslate(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "translate", 3, 3, "(STRING, STRING from, STRING to)"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "translate", "(STRING, STRING, STRING)", "sss"));
  return Call(Utf8(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                std::string buf;
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(), [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                      Translate(r.Str(0, i), r.Str(1, i), r.Str(2, i), &buf);
                      return b->Append(buf);
                    });
              });
}

Result<ResolvedCall> ResolveSpace(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "space", 1, 1, "(INT n)"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "space", "(INT)", "i"));
  return Call(Utf8(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(), [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                      int32_t n = std::max(r.I32(0, i), 0);
                      return b->Append(std::string(n, ' '));
                    });
              });
}

Result<ResolvedCall> ResolveAscii(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "ascii", 1, 1, "(STRING)"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "ascii", "(STRING)", "s"));
  return Call(Int32(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::Int32Builder>(
                    args, length, ctx, Int32(), [&](const Rows& r, int64_t i, arrow::Int32Builder* b) {
                      auto s = r.Str(0, i);
                      size_t p = 0;
                      b->UnsafeAppend(s.empty() ? 0 : static_cast<int32_t>(internal::Utf8Decode(s, &p)));
                      return Status::OK();
                    });
              });
}

Result<ResolvedCall> ResolveChr(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "chr", 1, 1, "(BIGINT)"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "chr", "(BIGINT)", "l"));
  return Call(Utf8(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                std::string buf;
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(), [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                      int64_t n = r.I64(0, i);
                      buf.clear();
                      // Spark: negative -> "", else the Latin-1 character (n & 0xFF).
                      if (n >= 0) internal::Utf8Append(static_cast<uint32_t>(n & 0xFF), &buf);
                      return b->Append(buf);
                    });
              });
}

void Soundex(std::string_view s, std::string* out) {
  // Spark's UTF8String.soundex: non-letter first char -> input unchanged.
  static const char kCodes[] = "01230120022455012623010202";  // A..Z
  out->assign(s);
  if (s.empty()) return;
  char f = s[0];
  if (f >= 'a' && f <= 'z') f = static_cast<char>(f - 32);
  if (f < 'A' || f > 'Z') return;
  std::string r(1, f);
  char last = kCodes[f - 'A'];
  for (size_t i = 1; i < s.size() && r.size() < 4; ++i) {
    char c = s[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    if (c < 'A' || c > 'Z') {
      last = '0';
      continue;
    }
    char code = kCodes[c - 'A'];
    if (code == '7') continue;
    if (c == 'H' || c == 'W') continue;  // H and W do not separate equal codes
    if (code != '0' && code != last) r += code;
    last = code;
  }
  while (r.size() < 4) r += '0';
  *out = r;
}

// ---------------------------------------------------------------------------
// base64 / hex / encode / decode

static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void Base64Encode(std::string_view s, std::string* out) {
  out->clear();
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(s[i]) << 16) |
                 (static_cast<unsigned char>(s[i + 1]) << 8) | static_cast<unsigned char>(s[i + 2]);
    out->push_back(kB64[v >> 18]);
    out->push_back(kB64[(v >> 12) & 63]);
    out->push_back(kB64[(v >> 6) & 63]);
    out->push_back(kB64[v & 63]);
  }
  if (i < s.size()) {
    uint32_t v = static_cast<unsigned char>(s[i]) << 16;
    if (i + 1 < s.size()) v |= static_cast<unsigned char>(s[i + 1]) << 8;
    out->push_back(kB64[v >> 18]);
    out->push_back(kB64[(v >> 12) & 63]);
    out->push_back(i + 1 < s.size() ? kB64[(v >> 6) & 63] : '=');
    out->push_back('=');
  }
}

/// Java's MIME decoder, as Spark's unbase64: characters outside the alphabet
/// are ignored, '=' ends the data.
bool Base64Decode(std::string_view s, std::string* out) {
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      break;
    } else {
      continue;
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return bits < 6;  // a single dangling sextet cannot encode a byte
}

bool HexDecode(std::string_view s, std::string* out) {
  out->clear();
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  size_t i = 0;
  if (s.size() % 2 == 1) {  // Spark: an odd digit count gets a leading 0
    int v = nib(s[0]);
    if (v < 0) return false;
    out->push_back(static_cast<char>(v));
    i = 1;
  }
  for (; i + 1 < s.size() + 1 && i < s.size(); i += 2) {
    int a = nib(s[i]), b = nib(s[i + 1]);
    if (a < 0 || b < 0) return false;
    out->push_back(static_cast<char>(a * 16 + b));
  }
  return true;
}

void HexEncode(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789ABCDEF";
  out->clear();
  for (unsigned char c : s) {
    out->push_back(kHex[c >> 4]);
    out->push_back(kHex[c & 15]);
  }
}

Result<ResolvedCall> ResolveBase64(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "base64", 1, 1, "(BINARY)"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "base64", "(BINARY)", "b"));
  return Call(Utf8(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                std::string buf;
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(), [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                      Base64Encode(r.Str(0, i), &buf);
                      return b->Append(buf);
                    });
              });
}

Result<ResolvedCall> ResolveUnbase64(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "unbase64", 1, 1, "(STRING)"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "unbase64", "(STRING)", "s"));
  return Call(Binary(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                std::string buf;
                return MapRows<arrow::BinaryBuilder>(
                    args, length, ctx, Binary(),
                    [&](const Rows& r, int64_t i, arrow::BinaryBuilder* b) -> Status {
                      if (!Base64Decode(r.Str(0, i), &buf)) {
                        return ExecutionError(
                            "[CONVERSION_INVALID_INPUT] The value '{}' (STRING) cannot be "
                            "converted to BINARY because it is a malformed 'BASE64'. Use "
                            "`try_to_binary` to tolerate malformed input.",
                            r.Str(0, i));
                      }
                      return b->Append(buf);
                    });
              });
}

Result<ResolvedCall> ResolveHex(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "hex", 1, 1, "(BIGINT or STRING or BINARY)"));
  const auto& t = *site.arg_types[0];
  if (types::IsIntegral(t)) {
    return Call(Utf8(), {Int64()},
                [](const std::vector<Datum>& args, int64_t length,
                   const EvalContext& ctx) -> Result<Datum> {
                  return MapRows<arrow::StringBuilder>(
                      args, length, ctx, Utf8(),
                      [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                        // Long.toHexString upper-cased: two's complement, no leading zeros.
                        char buf[17];
                        auto res = std::to_chars(buf, buf + 16, static_cast<uint64_t>(r.I64(0, i)), 16);
                        for (char* p = buf; p < res.ptr; ++p) *p = static_cast<char>(std::toupper(*p));
                        return b->Append(std::string_view(buf, res.ptr - buf));
                      });
                });
  }
  if (!internal::IsStringCoercible(t)) return TypeMismatch(site, "hex", "(BIGINT or STRING or BINARY)");
  return Call(Utf8(), {t.id() == arrow::Type::BINARY ? Binary() : Utf8()},
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                std::string buf;
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(), [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                      HexEncode(r.Str(0, i), &buf);
                      return b->Append(buf);
                    });
              });
}

Result<ResolvedCall> ResolveUnhex(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "unhex", 1, 1, "(STRING)"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "unhex", "(STRING)", "s"));
  auto rc = Call(Binary(), casts,
                 [](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                   std::string buf;
                   return MapRows<arrow::BinaryBuilder>(
                       args, length, ctx, Binary(),
                       [&](const Rows& r, int64_t i, arrow::BinaryBuilder* b) {
                         // Spark: invalid hex -> NULL.
                         if (!HexDecode(r.Str(0, i), &buf)) return b->AppendNull();
                         return b->Append(buf);
                       });
                 });
  return rc;
}

std::string NormalizeCharset(std::string_view cs) {
  std::string s;
  for (char c : cs) {
    if (c != '-' && c != '_') s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

Status UnknownCharset(std::string_view cs, const char* fn) {
  return UserError(
      "[INVALID_PARAMETER_VALUE.CHARSET] The value of parameter(s) `charset` in `{}` is invalid: "
      "expects one of the 'US-ASCII', 'ISO-8859-1', 'UTF-8', but got '{}'.",
      fn, cs);
}

Result<ResolvedCall> ResolveEncodeDecode(const CallSite& site, bool encode) {
  const char* fn = encode ? "encode" : "decode";
  LS_RETURN_NOT_OK(CheckArity(site, fn, 2, 2, encode ? "(STRING, STRING charset)"
                                                     : "(BINARY, STRING charset)"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, fn, "(STRING, STRING)", encode ? "ss" : "bs"));
  TypePtr out = encode ? Binary() : Utf8();
  return Call(out, casts,
              [encode, fn, out](const std::vector<Datum>& args, int64_t length,
                                const EvalContext& ctx) -> Result<Datum> {
                std::string buf;
                return MapRows<arrow::BinaryBuilder>(
                    args, length, ctx, out,
                    [&](const Rows& r, int64_t i, arrow::BinaryBuilder* b) -> Status {
                      auto s = r.Str(0, i);
                      std::string cs = NormalizeCharset(r.Str(1, i));
                      if (cs == "utf8") return b->Append(s);
                      if (cs == "usascii") {
                        buf.clear();
                        if (encode) {
                          for (size_t p = 0; p < s.size();) {
                            uint32_t c = internal::Utf8Decode(s, &p);
                            buf.push_back(c < 0x80 ? static_cast<char>(c) : '?');
                          }
                        } else {
                          for (unsigned char c : s) {
                            if (c < 0x80) {
                              buf.push_back(static_cast<char>(c));
                            } else {
                              buf += "\xEF\xBF\xBD";
                            }
                          }
                        }
                        return b->Append(buf);
                      }
                      if (cs == "iso88591" || cs == "latin1") {
                        buf.clear();
                        if (encode) {
                          for (size_t p = 0; p < s.size();) {
                            uint32_t c = internal::Utf8Decode(s, &p);
                            buf.push_back(c < 0x100 ? static_cast<char>(c) : '?');
                          }
                        } else {
                          for (unsigned char c : s) internal::Utf8Append(c, &buf);
                        }
                        return b->Append(buf);
                      }
                      return UnknownCharset(r.Str(1, i), fn);
                    });
              });
}

// ---------------------------------------------------------------------------
// format_string (Java's Formatter subset)

/// Rounds a plain decimal digit string (as std::to_chars prints) half-up to
/// `precision` fraction digits, as Java's Formatter does for %f.
std::string RoundHalfUp(std::string s, int precision) {
  bool neg = !s.empty() && s[0] == '-';
  if (neg) s.erase(0, 1);
  size_t dot = s.find('.');
  std::string ip = dot == std::string::npos ? s : s.substr(0, dot);
  std::string fp = dot == std::string::npos ? "" : s.substr(dot + 1);
  if (static_cast<int>(fp.size()) > precision) {
    bool up = fp[precision] >= '5';
    fp.resize(precision);
    if (up) {
      std::string digits = ip + fp;
      int k = static_cast<int>(digits.size()) - 1;
      while (k >= 0 && digits[k] == '9') digits[k--] = '0';
      if (k < 0) {
        digits.insert(0, "1");
      } else {
        ++digits[k];
      }
      ip = digits.substr(0, digits.size() - precision);
      fp = digits.substr(digits.size() - precision);
    }
  }
  while (static_cast<int>(fp.size()) < precision) fp += '0';
  std::string out = neg ? "-" : "";
  out += ip.empty() ? "0" : ip;
  if (precision > 0) out += "." + fp;
  return out;
}

std::string Group(const std::string& digits) {
  // digits: optional '-', integer part, optional fraction.
  size_t start = digits[0] == '-' ? 1 : 0;
  size_t end = digits.find('.');
  if (end == std::string::npos) end = digits.size();
  std::string ip = digits.substr(start, end - start);
  std::string g;
  for (size_t i = 0; i < ip.size(); ++i) {
    if (i > 0 && (ip.size() - i) % 3 == 0) g += ',';
    g += ip[i];
  }
  return digits.substr(0, start) + g + digits.substr(end);
}

// Lengths as java.lang.String counts them (UTF-16 code units), for
// java.util.Formatter's width and precision.
int64_t Utf16Length(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) n += c >= 0xF0 ? 2 : 1;
  }
  return n;
}

// The first `units` UTF-16 code units of `s`; a supplementary character cut in
// half leaves its lone high surrogate, which Java encodes to UTF-8 as '?'.
std::string Utf16Prefix(std::string_view s, int64_t units) {
  size_t i = 0;
  while (i < s.size() && units > 0) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (len == 4 && units == 1) return std::string(s.substr(0, i)) + "?";
    units -= len == 4 ? 2 : 1;
    i = std::min(s.size(), i + len);
  }
  return std::string(s.substr(0, i));
}

struct FormatSpec {
  int arg_index = -1;  // explicit n$ (0-based), -1 = next
  std::string flags;
  int width = -1;
  int precision = -1;
  char conv = 's';
};

Status FormatOne(const FormatSpec& spec, const arrow::Array* arr, int64_t i, const EvalContext& ctx,
                 std::string* out) {
  bool is_null = arr == nullptr || arr->IsNull(i);
  std::string body;
  char conv = static_cast<char>(std::tolower(spec.conv));
  bool left = spec.flags.find('-') != std::string::npos;
  bool zero = spec.flags.find('0') != std::string::npos;
  bool plus = spec.flags.find('+') != std::string::npos;
  bool comma = spec.flags.find(',') != std::string::npos;
  bool space = spec.flags.find(' ') != std::string::npos;
  auto sign = [&](std::string s) {
    if (!s.empty() && s[0] != '-') {
      if (plus) {
        s.insert(0, "+");
      } else if (space) {
        s.insert(0, " ");
      }
    }
    return s;
  };
  if (conv == 'b') {
    if (is_null) {
      body = "false";
    } else if (arr->type_id() == arrow::Type::BOOL) {
      body = static_cast<const arrow::BooleanArray*>(arr)->Value(i) ? "true" : "false";
    } else {
      body = "true";
    }
  } else if (is_null) {
    body = "null";
  } else if (conv == 's') {
    types::FormatOptions fo;
    fo.time_zone = ctx.config->time_zone;
    body = types::FormatValue(*arr, i, fo);
  } else if (conv == 'd' || conv == 'x' || conv == 'o') {
    if (!types::IsIntegral(*arr->type())) {
      return ExecutionError(
          "format_string: %{} needs an integral argument but got {}", spec.conv,
          types::ToDDL(*arr->type()));
    }
    int64_t v = 0;
    switch (arr->type_id()) {
      case arrow::Type::INT8: v = static_cast<const arrow::Int8Array*>(arr)->Value(i); break;
      case arrow::Type::INT16: v = static_cast<const arrow::Int16Array*>(arr)->Value(i); break;
      case arrow::Type::INT32: v = static_cast<const arrow::Int32Array*>(arr)->Value(i); break;
      default: v = static_cast<const arrow::Int64Array*>(arr)->Value(i); break;
    }
    if (conv == 'd') {
      body = std::to_string(v);
      if (comma) body = Group(body);
      body = sign(body);
    } else {
      // Java prints negative values in two's complement of the argument's width.
      uint64_t u = static_cast<uint64_t>(v);
      int bits = arr->type()->byte_width() * 8;
      if (bits < 64) u &= (uint64_t{1} << bits) - 1;
      char buf[32];
      auto res = std::to_chars(buf, buf + sizeof(buf), u, conv == 'x' ? 16 : 8);
      body.assign(buf, res.ptr);
      if (spec.conv == 'X') {
        for (char& c : body) c = static_cast<char>(std::toupper(c));
      }
    }
  } else if (conv == 'f' || conv == 'e' || conv == 'g') {
    double v;
    if (arr->type_id() == arrow::Type::DOUBLE) {
      v = static_cast<const arrow::DoubleArray*>(arr)->Value(i);
    } else if (arr->type_id() == arrow::Type::FLOAT) {
      v = static_cast<const arrow::FloatArray*>(arr)->Value(i);
    } else if (arr->type_id() == arrow::Type::DECIMAL128) {
      types::FormatOptions fo;
      v = std::stod(types::FormatValue(*arr, i, fo));
    } else {
      return ExecutionError("format_string: %{} needs a floating-point argument but got {}",
                            spec.conv, types::ToDDL(*arr->type()));
    }
    int prec = spec.precision < 0 ? 6 : spec.precision;
    if (std::isnan(v)) {
      body = "NaN";
    } else if (std::isinf(v)) {
      body = v > 0 ? "Infinity" : "-Infinity";
    } else if (conv == 'f') {
      char buf[400];
      auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
      body = RoundHalfUp(std::string(buf, res.ptr), prec);
      if (comma) body = Group(body);
    } else {
      char buf[64];
      std::snprintf(buf, sizeof(buf), conv == 'e' ? "%.*e" : "%.*g", prec, v);
      body = buf;
    }
    body = sign(body);
  } else if (conv == 'c') {
    if (!types::IsIntegral(*arr->type())) {
      return ExecutionError("format_string: %c needs an integral argument");
    }
    body.clear();
    internal::Utf8Append(static_cast<uint32_t>(static_cast<const arrow::Int32Array*>(arr)->Value(i)),
                         &body);
  } else {
    return ExecutionError("format_string: unsupported conversion '%{}'", spec.conv);
  }
  // java.util.Formatter prints a NULL argument of any conversion but %b as the
  // text "null": precision truncates it and width pads it with spaces.
  const bool as_text = conv == 's' || conv == 'b' || is_null;
  if (as_text && spec.precision >= 0) body = Utf16Prefix(body, spec.precision);
  if (std::isupper(static_cast<unsigned char>(spec.conv)) && conv != 'x') {
    for (char& c : body) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  // Java pads to the width in UTF-16 code units: a supplementary character counts twice.
  const int64_t len = Utf16Length(body);
  if (spec.width > len) {
    size_t padn = spec.width - len;
    if (left) {
      body.append(padn, ' ');
    } else if (zero && !as_text) {
      size_t at = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
      body.insert(at, padn, '0');
    } else {
      body.insert(0, padn, ' ');
    }
  }
  out->append(body);
  return Status::OK();
}

Result<ResolvedCall> ResolveFormatString(const CallSite& site, const std::string& name) {
  if (site.arg_types.empty()) return CheckArity(site, name, 1, SIZE_MAX, "(STRING format, ...)");
  if (!internal::IsStringCoercible(*site.arg_types[0])) {
    return TypeMismatch(site, name, "(STRING format, ...)");
  }
  std::vector<TypePtr> casts(site.arg_types.size(), nullptr);
  casts[0] = Utf8();
  auto rc = Call(
      Utf8(), casts,
      [](const std::vector<Datum>& args, int64_t length, const EvalContext& ctx) -> Result<Datum> {
        std::string buf;
        return MapAllRows<arrow::StringBuilder>(
            args, length, ctx, Utf8(),
            [&](const Rows& r, int64_t i, arrow::StringBuilder* b) -> Status {
              if (r.IsNull(0, i)) return b->AppendNull();
              auto f = r.Str(0, i);
              buf.clear();
              int next = 0;
              for (size_t p = 0; p < f.size(); ++p) {
                if (f[p] != '%') {
                  buf += f[p];
                  continue;
                }
                FormatSpec spec;
                size_t q = p + 1;
                // argument index "n$"
                size_t d = q;
                while (d < f.size() && std::isdigit(static_cast<unsigned char>(f[d]))) ++d;
                if (d > q && d < f.size() && f[d] == '$') {
                  spec.arg_index = std::stoi(std::string(f.substr(q, d - q))) - 1;
                  q = d + 1;
                }
                while (q < f.size() && std::string_view("-#+ 0,(").find(f[q]) != std::string_view::npos) {
                  spec.flags += f[q++];
                }
                d = q;
                while (d < f.size() && std::isdigit(static_cast<unsigned char>(f[d]))) ++d;
                if (d > q) spec.width = std::stoi(std::string(f.substr(q, d - q)));
                q = d;
                if (q < f.size() && f[q] == '.') {
                  d = ++q;
                  while (d < f.size() && std::isdigit(static_cast<unsigned char>(f[d]))) ++d;
                  spec.precision = d > q ? std::stoi(std::string(f.substr(q, d - q))) : 0;
                  q = d;
                }
                if (q >= f.size()) {
                  return ExecutionError("format_string: incomplete format specifier at the end of '{}'",
                                        f);
                }
                spec.conv = f[q];
                p = q;
                if (spec.conv == '%') {
                  buf += '%';
                  continue;
                }
                if (spec.conv == 'n') {
                  buf += '\n';
                  continue;
                }
                int idx = spec.arg_index >= 0 ? spec.arg_index : next++;
                const arrow::Array* arr =
                    idx + 1 < static_cast<int>(r.arrays.size()) ? r.arrays[idx + 1].get() : nullptr;
                if (!arr) {
                  return ExecutionError(
                      "format_string: format specifier '%{}' has no matching argument in '{}'",
                      spec.conv, f);
                }
                LS_RETURN_NOT_OK(FormatOne(spec, arr, i, ctx, &buf));
              }
              return b->Append(buf);
            });
      });
  rc.null_intolerant = false;
  return rc;
}

Result<ResolvedCall> ResolveFormatNumber(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "format_number", 2, 2, "(NUMERIC, INT decimals)"));
  if (!types::IsNumeric(*site.arg_types[0]) && site.arg_types[0]->id() != arrow::Type::NA) {
    return TypeMismatch(site, "format_number", "(NUMERIC, INT)");
  }
  if (!internal::IsIntCoercible(*site.arg_types[1])) {
    return TypeMismatch(site, "format_number", "(NUMERIC, INT)");
  }
  return Call(Utf8(), {arrow::float64(), Int32()},
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(), [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                      int32_t d = r.I32(1, i);
                      if (d < 0) return b->AppendNull();
                      double v = r.F64(0, i);
                      // DecimalFormat rounds HALF_EVEN on the exact binary value,
                      // which printf's %.*f does too.
                      char buf[400];
                      std::snprintf(buf, sizeof(buf), "%.*f", std::min(d, 300), v);
                      return b->Append(Group(buf));
                    });
              });
}

Result<ResolvedCall> ResolveUuid(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "uuid", 0, 1, "()"));
  auto rc = Call(Utf8(), std::vector<TypePtr>(site.arg_types.size(), nullptr),
                 [](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                   thread_local std::mt19937_64 rng{std::random_device{}()};
                   arrow::StringBuilder b(ctx.pool);
                   LS_RETURN_NOT_OK(b.Reserve(length));
                   static const char kHex[] = "0123456789abcdef";
                   char buf[36];
                   for (int64_t i = 0; i < length; ++i) {
                     uint64_t hi = rng(), lo = rng();
                     hi = (hi & ~uint64_t{0xF000}) | 0x4000;  // version 4
                     lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);  // IETF variant
                     int k = 0;
                     for (int n = 0; n < 32; ++n) {
                       if (n == 8 || n == 12 || n == 16 || n == 20) buf[k++] = '-';
                       uint64_t w = n < 16 ? hi : lo;
                       buf[k++] = kHex[(w >> (60 - 4 * (n % 16))) & 15];
                     }
                     LS_RETURN_NOT_OK(b.Append(buf, 36));
                   }
                   std::shared_ptr<arrow::Array> out;
                   LS_RETURN_NOT_OK(b.Finish(&out));
                   return Datum(out);
                 });
  rc.deterministic = false;
  rc.null_intolerant = false;
  return rc;
}

Result<ResolvedCall> ResolveToBinary(const CallSite& site, bool try_mode) {
  const char* fn = try_mode ? "try_to_binary" : "to_binary";
  LS_RETURN_NOT_OK(CheckArity(site, fn, 1, 2, "(STRING[, STRING format])"));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, fn, "(STRING[, STRING])", "ss"));
  std::string fmt = "hex";
  if (site.arg_types.size() > 1) {
    std::string storage;
    const std::string* f = internal::LiteralString(site, 1, &storage);
    if (!f) return UserError("{}: the format must be a string literal", fn);
    fmt = NormalizeCharset(*f);
    if (fmt != "hex" && fmt != "utf8" && fmt != "base64") {
      return UserError(
          "[INVALID_PARAMETER_VALUE.BINARY_FORMAT] The value of parameter(s) `format` in `{}` is "
          "invalid: expects one of binary formats 'base64', 'hex', 'utf-8', but got '{}'.",
          fn, *f);
    }
  }
  casts.resize(1);
  return Call(Binary(), casts,
              [fmt, try_mode, fn](const std::vector<Datum>& args, int64_t length,
                                  const EvalContext& ctx) -> Result<Datum> {
                std::string buf;
                std::vector<Datum> one{args[0]};
                return MapRows<arrow::BinaryBuilder>(
                    one, length, ctx, Binary(),
                    [&](const Rows& r, int64_t i, arrow::BinaryBuilder* b) -> Status {
                      auto s = r.Str(0, i);
                      bool ok = true;
                      if (fmt == "utf8") return b->Append(s);
                      ok = fmt == "hex" ? HexDecode(s, &buf) : Base64Decode(s, &buf);
                      if (ok) return b->Append(buf);
                      if (try_mode) return b->AppendNull();
                      return ExecutionError(
                          "[CONVERSION_INVALID_INPUT] The value '{}' (STRING) cannot be "
                          "converted to BINARY because it is a malformed '{}'. Use "
                          "`try_to_binary` to tolerate malformed input.",
                          s, fmt == "hex" ? "HEX" : "BASE64");
                    });
              });
}

void Add(FunctionRegistry* r, const std::string& name, Resolver resolve) {
  r->AddScalar(ScalarFunction{name, std::move(resolve)});
}

// ---------------------------------------------------------------------------
// regexp_count / regexp_substr / regexp_instr, levenshtein, overlay,
// split_part, substring_index, elt, find_in_set, mask.

/// regexp_count (kind 0, INT), regexp_substr (1, STRING, NULL without a
/// match), regexp_instr (2, INT: 1-based character position, 0 without a match).
Result<ResolvedCall> ResolveRegexpFind(const CallSite& site, int kind) {
  static const char* kNames[] = {"regexp_count", "regexp_substr", "regexp_instr"};
  const char* fn = kNames[kind];
  const char* sig = kind == 2 ? "(STRING, STRING regex[, INT idx])" : "(STRING, STRING regex)";
  LS_RETURN_NOT_OK(CheckArity(site, fn, 2, kind == 2 ? 3 : 2, sig));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, fn, sig, "ssi"));
  LS_ASSIGN_OR_RAISE(auto lit, LiteralRegex(site, 1, fn));
  TypePtr out = kind == 1 ? Utf8() : Int32();
  return Call(
      out, casts,
      [lit, kind, fn, out](const std::vector<Datum>& args, int64_t length,
                           const EvalContext& ctx) -> Result<Datum> {
        internal::RegexCache cache(fn);
        return RunRegex(
            args, length, ctx, lit.get(), out, [&](std::string_view p) { return cache.Get(p); },
            [&](const std::shared_ptr<arrow::Array>& strings, const internal::JavaRegex& re,
                const Rows&, int64_t, arrow::compute::ExecContext* ec)
                -> Result<std::shared_ptr<arrow::Array>> {
              if (kind == 0) {
                arrow::compute::MatchSubstringOptions opts(re.pattern);
                LS_ASSIGN_OR_RAISE(auto counts,
                                   CallKernel("count_substring_regex", strings, opts, ec));
                if (counts->type_id() == arrow::Type::INT32) return counts;
                return arrow::compute::Cast(*counts, arrow::int32(),
                                            arrow::compute::CastOptions::Safe(), ec);
              }
              arrow::compute::ExtractRegexSpanOptions opts(re.numbered);
              LS_ASSIGN_OR_RAISE(auto spans_arr, CallKernel("extract_regex_span", strings, opts, ec));
              const auto& spans = static_cast<const arrow::StructArray&>(*spans_arr);
              const auto& sa = static_cast<const arrow::StringArray&>(*strings);
              LS_ASSIGN_OR_RAISE(auto b, internal::MakeTypedBuilder<arrow::ArrayBuilder>(
                                             out, ec->memory_pool()));
              for (int64_t i = 0; i < sa.length(); ++i) {
                int32_t off, len;
                bool hit = !sa.IsNull(i) && Span(spans, 0, i, &off, &len);
                if (sa.IsNull(i)) {
                  LS_RETURN_NOT_OK(b->AppendNull());
                } else if (kind == 1) {
                  auto* sb = static_cast<arrow::StringBuilder*>(b.get());
                  LS_RETURN_NOT_OK(hit ? sb->Append(sa.GetView(i).substr(off, len))
                                       : sb->AppendNull());
                } else {
                  int32_t pos = hit ? static_cast<int32_t>(
                                          internal::Utf8Length(sa.GetView(i).substr(0, off))) + 1
                                    : 0;
                  LS_RETURN_NOT_OK(static_cast<arrow::Int32Builder*>(b.get())->Append(pos));
                }
              }
              std::shared_ptr<arrow::Array> res;
              LS_RETURN_NOT_OK(b->Finish(&res));
              return res;
            });
      });
}

std::vector<uint32_t> CodePoints(std::string_view s) {
  std::vector<uint32_t> out;
  size_t pos = 0;
  while (pos < s.size()) out.push_back(internal::Utf8Decode(s, &pos));
  return out;
}

int32_t Levenshtein(std::string_view a, std::string_view b) {
  auto x = CodePoints(a), y = CodePoints(b);
  std::vector<int32_t> prev(y.size() + 1), cur(y.size() + 1);
  for (size_t j = 0; j <= y.size(); ++j) prev[j] = static_cast<int32_t>(j);
  for (size_t i = 1; i <= x.size(); ++i) {
    cur[0] = static_cast<int32_t>(i);
    for (size_t j = 1; j <= y.size(); ++j) {
      int32_t cost = x[i - 1] == y[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
    }
    std::swap(prev, cur);
  }
  return prev[y.size()];
}

Result<ResolvedCall> ResolveLevenshtein(const CallSite& site) {
  const char* sig = "(STRING, STRING[, INT threshold])";
  LS_RETURN_NOT_OK(CheckArity(site, "levenshtein", 2, 3, sig));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "levenshtein", sig, "ssi"));
  return Call(Int32(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::Int32Builder>(
                    args, length, ctx, Int32(), [&](const Rows& r, int64_t i, arrow::Int32Builder* b) {
                      int32_t d = Levenshtein(r.Str(0, i), r.Str(1, i));
                      // With a threshold Spark returns -1 once the distance exceeds it.
                      if (r.arrays.size() > 2 && d > r.I32(2, i)) d = -1;
                      return b->Append(d);
                    });
              });
}

Result<ResolvedCall> ResolveOverlay(const CallSite& site) {
  const char* sig = "(STRING, STRING, INT pos[, INT len])";
  LS_RETURN_NOT_OK(CheckArity(site, "overlay", 3, 4, sig));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "overlay", sig, "ssii"));
  return Call(Utf8(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                std::string buf;
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(), [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                      auto s = r.Str(0, i), rep = r.Str(1, i);
                      int64_t pos = r.I32(2, i);
                      int64_t len = r.arrays.size() > 3 && r.I32(3, i) >= 0
                                        ? r.I32(3, i)
                                        : internal::Utf8Length(rep);
                      buf.assign(SubstringSQL(s, 1, pos - 1, false));
                      buf += rep;
                      buf += SubstringSQL(s, pos + len, std::numeric_limits<int32_t>::max(), false);
                      return b->Append(buf);
                    });
              });
}

/// The pieces of `s` split at every `delim` (the whole string for an empty delimiter).
std::vector<std::string_view> SplitOn(std::string_view s, std::string_view delim) {
  std::vector<std::string_view> parts;
  if (delim.empty()) {
    parts.push_back(s);
    return parts;
  }
  size_t start = 0;
  while (true) {
    size_t at = s.find(delim, start);
    if (at == std::string_view::npos) break;
    parts.push_back(s.substr(start, at - start));
    start = at + delim.size();
  }
  parts.push_back(s.substr(start));
  return parts;
}

Result<ResolvedCall> ResolveSplitPart(const CallSite& site) {
  const char* sig = "(STRING, STRING delimiter, INT partNum)";
  LS_RETURN_NOT_OK(CheckArity(site, "split_part", 3, 3, sig));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "split_part", sig, "ssi"));
  return Call(Utf8(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(),
                    [&](const Rows& r, int64_t i, arrow::StringBuilder* b) -> Status {
                      int64_t k = r.I32(2, i);
                      if (k == 0) {
                        return ExecutionError(
                            "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be "
                            "either < 0 or > 0 (the first element has index 1).");
                      }
                      auto s = r.Str(0, i);
                      if (s.empty()) return b->Append(std::string_view());
                      auto parts = SplitOn(s, r.Str(1, i));
                      int64_t n = static_cast<int64_t>(parts.size());
                      int64_t idx = k > 0 ? k - 1 : n + k;
                      if (idx < 0 || idx >= n) return b->Append(std::string_view());
                      return b->Append(parts[idx]);
                    });
              });
}

Result<ResolvedCall> ResolveSubstringIndex(const CallSite& site) {
  const char* sig = "(STRING, STRING delimiter, INT count)";
  LS_RETURN_NOT_OK(CheckArity(site, "substring_index", 3, 3, sig));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "substring_index", sig, "ssi"));
  return Call(Utf8(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(),
                    [&](const Rows& r, int64_t i, arrow::StringBuilder* b) -> Status {
                      auto s = r.Str(0, i), delim = r.Str(1, i);
                      int64_t count = r.I32(2, i);
                      if (delim.empty() || count == 0) return b->Append(std::string_view());
                      // Occurrences may overlap, as Spark's UTF8String.subStringIndex.
                      if (count > 0) {
                        size_t at = 0, from = 0;
                        for (int64_t c = 0; c < count; ++c) {
                          at = s.find(delim, from);
                          if (at == std::string_view::npos) return b->Append(s);
                          from = at + 1;
                        }
                        return b->Append(s.substr(0, at));
                      }
                      int64_t at = static_cast<int64_t>(s.size()) -
                                   static_cast<int64_t>(delim.size()) + 1;
                      for (int64_t c = 0; c < -count; ++c) {
                        if (at - 1 < 0) return b->Append(s);
                        size_t found = s.rfind(delim, static_cast<size_t>(at - 1));
                        if (found == std::string_view::npos) return b->Append(s);
                        at = static_cast<int64_t>(found);
                      }
                      return b->Append(s.substr(at + delim.size()));
                    });
              });
}

Result<ResolvedCall> ResolveElt(const CallSite& site) {
  const char* sig = "(INT, STRING, ...)";
  if (site.arg_types.size() < 2) {
    return UserError("[WRONG_NUM_ARGS] function elt expects {} but got {} argument(s) {}", sig,
                     site.arg_types.size(), internal::ArgTypeList(site));
  }
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "elt", sig, "is"));
  ResolvedCall c = Call(Utf8(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                bool ansi = ctx.ansi();
                return MapAllRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(),
                    [&](const Rows& r, int64_t i, arrow::StringBuilder* b) -> Status {
                      if (r.IsNull(0, i)) return b->AppendNull();
                      int64_t k = r.I32(0, i);
                      int64_t n = static_cast<int64_t>(r.arrays.size()) - 1;
                      if (k < 1 || k > n) {
                        if (ansi) {
                          return ExecutionError(
                              "[INVALID_ARRAY_INDEX] The index {} is out of bounds. The array has "
                              "{} elements. Use the SQL function `get()` to tolerate accessing "
                              "element at invalid index and return NULL instead.",
                              k, n);
                        }
                        return b->AppendNull();
                      }
                      if (r.IsNull(static_cast<size_t>(k), i)) return b->AppendNull();
                      return b->Append(r.Str(static_cast<size_t>(k), i));
                    });
              });
  c.null_intolerant = false;
  return c;
}

Result<ResolvedCall> ResolveFindInSet(const CallSite& site) {
  const char* sig = "(STRING, STRING)";
  LS_RETURN_NOT_OK(CheckArity(site, "find_in_set", 2, 2, sig));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "find_in_set", sig, "ss"));
  return Call(Int32(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::Int32Builder>(
                    args, length, ctx, Int32(), [&](const Rows& r, int64_t i, arrow::Int32Builder* b) {
                      auto word = r.Str(0, i);
                      int32_t found = 0;
                      if (word.find(',') == std::string_view::npos) {
                        auto parts = SplitOn(r.Str(1, i), ",");
                        for (size_t k = 0; k < parts.size(); ++k) {
                          if (parts[k] == word) {
                            found = static_cast<int32_t>(k) + 1;
                            break;
                          }
                        }
                      }
                      return b->Append(found);
                    });
              });
}

/// mask(s[, upper='X'[, lower='x'[, digit='n'[, other=NULL]]]]): a NULL
/// replacement keeps those characters.
Result<ResolvedCall> ResolveMask(const CallSite& site) {
  const char* sig = "(STRING[, STRING upper[, STRING lower[, STRING digit[, STRING other]]]])";
  LS_RETURN_NOT_OK(CheckArity(site, "mask", 1, 5, sig));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "mask", sig, "s"));
  ResolvedCall c = Call(Utf8(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                std::string buf;
                return MapAllRows<arrow::StringBuilder>(
                    args, length, ctx, Utf8(),
                    [&](const Rows& r, int64_t i, arrow::StringBuilder* b) -> Status {
                      if (r.IsNull(0, i)) return b->AppendNull();
                      static const char* kDefaults[] = {"X", "x", "n"};
                      std::string_view rep[4];
                      bool keep[4];
                      for (size_t k = 0; k < 4; ++k) {
                        if (k + 1 < r.arrays.size()) {
                          keep[k] = r.IsNull(k + 1, i);
                          if (!keep[k]) rep[k] = r.Str(k + 1, i);
                        } else {
                          keep[k] = k == 3;
                          if (k < 3) rep[k] = kDefaults[k];
                        }
                      }
                      auto s = r.Str(0, i);
                      buf.clear();
                      size_t pos = 0;
                      while (pos < s.size()) {
                        size_t start = pos;
                        uint32_t cp = internal::Utf8Decode(s, &pos);
                        int cls = cp >= 'A' && cp <= 'Z'   ? 0
                                  : cp >= 'a' && cp <= 'z' ? 1
                                  : cp >= '0' && cp <= '9' ? 2
                                                           : 3;
                        if (keep[cls]) {
                          buf += s.substr(start, pos - start);
                        } else {
                          size_t p0 = 0;  // the first character of the replacement
                          if (!rep[cls].empty()) internal::Utf8Decode(rep[cls], &p0);
                          buf += rep[cls].substr(0, p0);
                        }
                      }
                      return b->Append(buf);
                    });
              });
  c.null_intolerant = false;
  return c;
}

// ---------------------------------------------------------------------------
// to_number / try_to_number with Spark's number formats: digits '9' / '0',
// decimal point '.' / 'D', grouping ',' / 'G', currency '$', sign 'S'
// (leading or trailing), 'MI' (trailing minus) and 'PR' (angle brackets).
// The result is DECIMAL(digits, fraction digits) of the format.

struct NumberFormat {
  std::string text;
  int32_t int_digits = 0;
  int32_t frac_digits = 0;
  bool dollar = false;
  bool sign_lead = false, sign_trail = false, mi = false, pr = false;
};

Result<NumberFormat> ParseNumberFormat(std::string_view f, const char* fn) {
  NumberFormat nf;
  nf.text = std::string(f);
  std::string u;
  for (char c : f) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  bool seen_point = false, seen_digit = false;
  for (size_t i = 0; i < u.size(); ++i) {
    char c = u[i];
    if (c == '9' || c == '0') {
      (seen_point ? nf.frac_digits : nf.int_digits)++;
      seen_digit = true;
    } else if (c == '.' || c == 'D') {
      if (seen_point) break;
      seen_point = true;
    } else if (c == ',' || c == 'G') {
      continue;
    } else if (c == '$') {
      nf.dollar = true;
    } else if (c == 'S') {
      (seen_digit ? nf.sign_trail : nf.sign_lead) = true;
    } else if (u.compare(i, 2, "MI") == 0) {
      nf.mi = true;
      ++i;
    } else if (u.compare(i, 2, "PR") == 0) {
      nf.pr = true;
      ++i;
    } else {
      return UserError("[INVALID_FORMAT.UNEXPECTED_TOKEN] The format is invalid: '{}'. Found the "
                       "unexpected character '{}' in the format string of {}.",
                       f, f[i], fn);
    }
  }
  if (nf.int_digits + nf.frac_digits == 0) {
    return UserError("[INVALID_FORMAT.WRONG_NUM_DIGIT] The format is invalid: '{}'. The format "
                     "string requires at least one number digit.",
                     f);
  }
  return nf;
}

/// Parses `s` by `nf`; false when it does not match.
bool ParseByFormat(std::string_view s, const NumberFormat& nf, arrow::Decimal128* out) {
  bool neg = false;
  if (nf.pr && s.size() >= 2 && s.front() == '<' && s.back() == '>') {
    neg = true;
    s = s.substr(1, s.size() - 2);
  }
  if ((nf.sign_lead) && !s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if ((nf.sign_trail || nf.mi) && !s.empty() && (s.back() == '-' || s.back() == '+')) {
    neg = s.back() == '-';
    s.remove_suffix(1);
  }
  if (nf.dollar) {
    if (s.empty() || s[0] != '$') return false;
    s.remove_prefix(1);
  }
  if (!nf.sign_lead && !s.empty() && s[0] == '-') return false;
  int32_t int_digits = 0, frac_digits = 0;
  bool point = false;
  arrow::Decimal128 v(0);
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      if (point) {
        if (++frac_digits > nf.frac_digits) return false;
      } else if (++int_digits > nf.int_digits) {
        return false;
      }
      v = v * arrow::Decimal128(10) + arrow::Decimal128(c - '0');
    } else if (c == '.' && !point && nf.frac_digits >= 0) {
      point = true;
    } else if (c == ',' && !point) {
      continue;
    } else {
      return false;
    }
  }
  if (int_digits + frac_digits == 0) return false;
  for (int32_t k = frac_digits; k < nf.frac_digits; ++k) v = v * arrow::Decimal128(10);
  if (neg) v.Negate();
  *out = v;
  return true;
}

Result<ResolvedCall> ResolveToNumber(const CallSite& site, bool try_mode) {
  const char* fn = try_mode ? "try_to_number" : "to_number";
  const char* sig = "(STRING, STRING format)";
  LS_RETURN_NOT_OK(CheckArity(site, fn, 2, 2, sig));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, fn, sig, "ss"));
  std::string storage;
  const std::string* f = internal::LiteralString(site, 1, &storage);
  if (!f) {
    return UserError("[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] the format of {} must be a string "
                     "literal", fn);
  }
  LS_ASSIGN_OR_RAISE(NumberFormat nf, ParseNumberFormat(*f, fn));
  TypePtr out = arrow::decimal128(std::max(1, nf.int_digits + nf.frac_digits), nf.frac_digits);
  return Call(out, casts,
              [nf, out, try_mode](const std::vector<Datum>& args, int64_t length,
                                  const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::Decimal128Builder>(
                    args, length, ctx, out,
                    [&](const Rows& r, int64_t i, arrow::Decimal128Builder* b) -> Status {
                      arrow::Decimal128 v;
                      if (ParseByFormat(r.Str(0, i), nf, &v)) return b->Append(v);
                      if (try_mode) return b->AppendNull();
                      return ExecutionError(
                          "[INVALID_FORMAT.MISMATCH_INPUT] The format is invalid: '{}'. The input "
                          "string '{}' does not match the format.",
                          nf.text, r.Str(0, i));
                    });
              });
}

/// sentences(s[, lang, country]): sentences split at '.', '!' and '?', each a
/// list of its words (runs of letters, digits and apostrophes); an
/// approximation of Java's BreakIterator for plain text.
Result<ResolvedCall> ResolveSentences(const CallSite& site) {
  const char* sig = "(STRING[, STRING language[, STRING country]])";
  LS_RETURN_NOT_OK(CheckArity(site, "sentences", 1, 3, sig));
  LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "sentences", sig, "s"));
  TypePtr out = arrow::list(arrow::list(arrow::utf8()));
  return Call(out, casts,
              [out](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                std::vector<Datum> one{args[0]};
                return MapRows<arrow::ListBuilder>(
                    one, length, ctx, out, [&](const Rows& r, int64_t i, arrow::ListBuilder* b) -> Status {
                      auto* sb = static_cast<arrow::ListBuilder*>(b->value_builder());
                      auto* wb = static_cast<arrow::StringBuilder*>(sb->value_builder());
                      LS_RETURN_NOT_OK(b->Append());
                      auto s = r.Str(0, i);
                      bool open = false;
                      size_t pos = 0;
                      while (pos < s.size()) {
                        size_t start = pos;
                        uint32_t cp = internal::Utf8Decode(s, &pos);
                        bool word_char = cp >= 0x80 || std::isalnum(static_cast<int>(cp)) || cp == '\'';
                        if (word_char) {
                          size_t end = pos;
                          while (end < s.size()) {
                            size_t next = end;
                            uint32_t c2 = internal::Utf8Decode(s, &next);
                            if (!(c2 >= 0x80 || std::isalnum(static_cast<int>(c2)) || c2 == '\'')) break;
                            end = next;
                          }
                          if (!open) {
                            LS_RETURN_NOT_OK(sb->Append());
                            open = true;
                          }
                          LS_RETURN_NOT_OK(wb->Append(s.substr(start, end - start)));
                          pos = end;
                        } else if (cp == '.' || cp == '!' || cp == '?') {
                          open = false;
                        }
                      }
                      return Status::OK();
                    });
              });
}

}  // namespace

void RegisterStringFunctions(FunctionRegistry* r) {
  Add(r, "lower", ArrowUnaryString("lower", "utf8_lower"));
  Add(r, "upper", [](const CallSite& site) -> Result<ResolvedCall> {
    // Java's toUpperCase uses full case mapping: 'ß' becomes "SS" (Arrow's
    // simple mapping gives 'ẞ'), so replace it before upper-casing.
    LS_RETURN_NOT_OK(CheckArity(site, "upper", 1, 1, "(STRING)"));
    LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "upper", "(STRING)", "s"));
    return Call(Utf8(), casts,
                [](const std::vector<Datum>& args, int64_t length,
                   const EvalContext& ctx) -> Result<Datum> {
                  arrow::compute::ExecContext ec(ctx.pool);
                  LS_ASSIGN_OR_RAISE(Datum upper, arrow::compute::CallFunction("utf8_upper", {args[0]}, &ec));
                  // Arrow maps U+00DF to U+1E9E (E1 BA 9E); Java gives "SS".
                  auto fix = [](std::string_view v, std::string* out) {
                    out->clear();
                    for (size_t i = 0; i < v.size(); ++i) {
                      if (i + 2 < v.size() + 0 && static_cast<unsigned char>(v[i]) == 0xE1 &&
                          static_cast<unsigned char>(v[i + 1]) == 0xBA && static_cast<unsigned char>(v[i + 2]) == 0x9E) {
                        *out += "SS";
                        i += 2;
                      } else {
                        *out += v[i];
                      }
                    }
                  };
                  std::string buf;
                  if (upper.is_scalar()) {
                    const auto& sc = upper.scalar_as<arrow::StringScalar>();
                    if (!sc.is_valid) return upper;
                    fix(sc.view(), &buf);
                    return Datum(std::make_shared<arrow::StringScalar>(buf));
                  }
                  auto arr = std::static_pointer_cast<arrow::StringArray>(upper.make_array());
                  if (std::string_view(reinterpret_cast<const char*>(arr->value_data()->data()),
                                       arr->value_data()->size()).find("\xE1\xBA\x9E") == std::string_view::npos) {
                    return upper;
                  }
                  arrow::StringBuilder b(ctx.pool);
                  for (int64_t i = 0; i < arr->length(); ++i) {
                    if (arr->IsNull(i)) {
                      LS_RETURN_NOT_OK(b.AppendNull());
                      continue;
                    }
                    fix(arr->GetView(i), &buf);
                    LS_RETURN_NOT_OK(b.Append(buf));
                  }
                  LS_ASSIGN_OR_RAISE(auto out, b.Finish());
                  return Datum(out);
                });
  });
  r->AddAlias("lcase", "lower");
  r->AddAlias("ucase", "upper");
  Add(r, "length", [](const CallSite& s) { return ResolveLength(s, "length", 0); });
  r->AddAlias("char_length", "length");
  r->AddAlias("character_length", "length");
  r->AddAlias("len", "length");
  Add(r, "octet_length", [](const CallSite& s) { return ResolveLength(s, "octet_length", 1); });
  Add(r, "bit_length", [](const CallSite& s) { return ResolveLength(s, "bit_length", 2); });
  Add(r, "substring", [](const CallSite& s) { return ResolveSubstring(s, "substring"); });
  r->AddAlias("substr", "substring");
  Add(r, "left", [](const CallSite& s) { return ResolveLeftRight(s, "left", true); });
  Add(r, "right", [](const CallSite& s) { return ResolveLeftRight(s, "right", false); });
  Add(r, "concat", ResolveConcat);
  Add(r, "concat_ws", ResolveConcatWs);
  Add(r, "trim", Trim("trim", true, true));
  Add(r, "btrim", Trim("btrim", true, true));
  Add(r, "ltrim", Trim("ltrim", true, false));
  Add(r, "rtrim", Trim("rtrim", false, true));
  Add(r, "split", ResolveSplit);
  Add(r, "replace", ResolveReplace);
  Add(r, "regexp_replace", ResolveRegexpReplace);
  Add(r, "regexp_extract", [](const CallSite& s) { return ResolveRegexpExtract(s, false); });
  Add(r, "regexp_extract_all", [](const CallSite& s) { return ResolveRegexpExtract(s, true); });
  Add(r, "rlike", ResolveRlike);
  r->AddAlias("regexp", "rlike");
  r->AddAlias("regexp_like", "rlike");
  Add(r, "like", [](const CallSite& s) { return ResolveLike(s, false); });
  Add(r, "ilike", [](const CallSite& s) { return ResolveLike(s, true); });
  Add(r, "startswith", Predicate("startswith", 0));
  Add(r, "endswith", Predicate("endswith", 1));
  Add(r, "contains", Predicate("contains", 2));
  r->AddAlias("starts_with", "startswith");
  r->AddAlias("ends_with", "endswith");
  Add(r, "instr", ResolveInstr);
  Add(r, "locate", ResolveLocate);
  r->AddAlias("position", "locate");
  Add(r, "lpad", PadFn("lpad", true));
  Add(r, "rpad", PadFn("rpad", false));
  Add(r, "repeat", ResolveRepeat);
  Add(r, "reverse", ResolveReverse);
  Add(r, "initcap", [](const CallSite& site) -> Result<ResolvedCall> {
    LS_RETURN_NOT_OK(CheckArity(site, "initcap", 1, 1, "(STRING)"));
    LS_ASSIGN_OR_RAISE(auto casts, Coerce(site, "initcap", "(STRING)", "s"));
    return Call(Utf8(), casts,
                [](const std::vector<Datum>& args, int64_t length,
                   const EvalContext& ctx) -> Result<Datum> {
                  std::string buf;
                  return MapRows<arrow::StringBuilder>(
                      args, length, ctx, Utf8(),
                      [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                        InitCap(r.Str(0, i), &buf);
                        return b->Append(buf);
                      });
                });
  });
  Add(r, "ascii", ResolveAscii);
  Add(r, "chr", ResolveChr);
  r->AddAlias("char", "chr");
  Add(r, "translate", ResolveTranslate);
  Add(r, "space", ResolveSpace);
  Add(r, "soundex", UnaryString("soundex", Soundex));
  Add(r, "format_string", [](const CallSite& s) { return ResolveFormatString(s, "format_string"); });
  r->AddAlias("printf", "format_string");
  Add(r, "format_number", ResolveFormatNumber);
  Add(r, "base64", ResolveBase64);
  Add(r, "unbase64", ResolveUnbase64);
  Add(r, "hex", ResolveHex);
  Add(r, "unhex", ResolveUnhex);
  Add(r, "encode", [](const CallSite& s) { return ResolveEncodeDecode(s, true); });
  Add(r, "decode", [](const CallSite& s) { return ResolveEncodeDecode(s, false); });
  Add(r, "to_binary", [](const CallSite& s) { return ResolveToBinary(s, false); });
  Add(r, "try_to_binary", [](const CallSite& s) { return ResolveToBinary(s, true); });
  Add(r, "uuid", ResolveUuid);
  Add(r, "regexp_count", [](const CallSite& s) { return ResolveRegexpFind(s, 0); });
  Add(r, "regexp_substr", [](const CallSite& s) { return ResolveRegexpFind(s, 1); });
  Add(r, "regexp_instr", [](const CallSite& s) { return ResolveRegexpFind(s, 2); });
  Add(r, "levenshtein", ResolveLevenshtein);
  Add(r, "overlay", ResolveOverlay);
  Add(r, "split_part", ResolveSplitPart);
  Add(r, "substring_index", ResolveSubstringIndex);
  Add(r, "elt", ResolveElt);
  Add(r, "find_in_set", ResolveFindInSet);
  Add(r, "mask", ResolveMask);
  Add(r, "sentences", ResolveSentences);
  Add(r, "to_number", [](const CallSite& s) { return ResolveToNumber(s, false); });
  Add(r, "try_to_number", [](const CallSite& s) { return ResolveToNumber(s, true); });
}

}  // namespace lakestream::expr
