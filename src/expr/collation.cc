// Spark 4 collations: collation keys, Spark's collation coercion for calls,
// collation-aware comparisons and predicates, collate()/collation(), and
// min/max over collated strings. See collation.h.
#include "expr/collation.h"

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/scalar.h>
#include <unicode/coll.h>
#include <unicode/locid.h>
#include <unicode/stsearch.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <memory>
#include <optional>
#include <set>

#include "expr/aggregate_internal.h"
#include "expr/kernel_util.h"

namespace lakestream::expr {

namespace {

using types::Collation;
using types::CollationStrength;
using types::TypePtr;

bool IsString(const TypePtr& t) { return t != nullptr && t->id() == arrow::Type::STRING; }

// ICU's root collator at the strength of the collation. Collator's const
// methods are thread-safe once its attributes are set, so one instance each
// serves every thread.
const icu::Collator* IcuCollator(Collation c) {
  static const icu::Collator* const kCollators[2] = {
      [] {
        UErrorCode st = U_ZERO_ERROR;
        auto* coll = icu::Collator::createInstance(icu::Locale::getRoot(), st);
        coll->setStrength(icu::Collator::TERTIARY);
        return coll;
      }(),
      [] {
        UErrorCode st = U_ZERO_ERROR;
        auto* coll = icu::Collator::createInstance(icu::Locale::getRoot(), st);
        coll->setStrength(icu::Collator::SECONDARY);
        return coll;
      }()};
  return kCollators[c == Collation::kUnicode ? 0 : 1];
}

// Spark's UTF8_LCASE lower-casing (CollationAwareUTF8String.lowerCaseCodePoints):
// ICU's single code point mapping, except U+0130 (two code points) and the
// final sigma (the same as sigma), so that equal strings have equal keys.
void AppendLowerCase(std::string_view v, std::string* out) {
  const auto* s = reinterpret_cast<const uint8_t*>(v.data());
  const int32_t n = static_cast<int32_t>(v.size());
  int32_t i = 0;
  while (i < n) {
    if (s[i] < 0x80) {
      char c = static_cast<char>(s[i++]);
      out->push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      continue;
    }
    UChar32 cp;
    int32_t start = i;
    U8_NEXT(s, i, n, cp);
    if (cp < 0) {  // invalid UTF-8: keep the bytes
      out->append(v.substr(start, i - start));
      continue;
    }
    auto append = [out](UChar32 c) {
      uint8_t buf[4];
      int32_t len = 0;
      U8_APPEND_UNSAFE(buf, len, c);  // c is a valid code point: at most 4 bytes
      out->append(reinterpret_cast<const char*>(buf), len);
    };
    if (cp == 0x0130) {
      append(0x0069);
      append(0x0307);
    } else if (cp == 0x03C2) {
      append(0x03C3);
    } else {
      append(u_tolower(cp));
    }
  }
}

void AppendSortKey(std::string_view v, Collation c, std::string* out) {
  icu::UnicodeString u =
      icu::UnicodeString::fromUTF8(icu::StringPiece(v.data(), static_cast<int32_t>(v.size())));
  const icu::Collator* coll = IcuCollator(c);
  uint8_t stack[256];
  int32_t len = coll->getSortKey(u, stack, sizeof(stack));
  if (len <= static_cast<int32_t>(sizeof(stack))) {
    out->append(reinterpret_cast<const char*>(stack), len);
    return;
  }
  size_t at = out->size();
  out->resize(at + len);
  coll->getSortKey(u, reinterpret_cast<uint8_t*>(out->data() + at), len);
}

Status ExplicitMismatch(const std::set<Collation>& cs) {
  std::string list;
  for (auto c : cs) {
    if (!list.empty()) list += ", ";
    list += "\"STRING COLLATE " + std::string(types::CollationName(c)) + "\"";
  }
  return UserError(
      "[COLLATION_MISMATCH.EXPLICIT] Could not determine which collation to use for string "
      "functions and operators. Error occurred due to the mismatch between explicit collations: "
      "[{}]. Decide on a single explicit collation and remove others.",
      list);
}

// Functions whose STRING result does not take the collation of their inputs.
bool KeepsResultCollation(const std::string& name) {
  static const std::set<std::string> kNames = {
      "collation", "collate",       "typeof",      "to_json",
      "cast",      "format_string", "printf",      "schema_of_json",
      "hex",       "md5",           "sha1",        "sha2",
      "sha",       "to_char",       "date_format", "current_timezone",
      "uuid",      "version"};
  return kNames.count(name) > 0;
}

// Functions where the collation of the arguments plays no part.
bool IgnoresCollation(const std::string& name) {
  return name == "collate" || name == "collation" || name == "typeof";
}

enum class Kind {
  kOther,
  kCompare,
  kExtreme,
  kPredicate,
  kIndex,
  kLike,
  kIlike,
  kRlike,
};

// String functions that Spark 4 runs under the collation of their arguments
// and that are not collation-aware here yet: a clear error rather than a
// byte-wise answer Spark would not give.
bool CollationUnaware(const std::string& name, size_t nargs) {
  static const std::set<std::string> kNames = {
      "replace",      "split",        "split_part",     "substring_index", "translate",
      "find_in_set",  "str_to_map",   "regexp_replace", "regexp_extract",  "regexp_extract_all",
      "regexp_count", "regexp_instr", "regexp_substr",  "levenshtein"};
  if (kNames.count(name)) return true;
  // trim(str, chars) and friends compare characters; one argument trims spaces.
  return nargs > 1 && (name == "trim" || name == "btrim" || name == "ltrim" || name == "rtrim");
}

Kind KindOf(const std::string& name) {
  static const std::set<std::string> kCompare = {"equal",           "not_equal", "less",
                                                 "less_equal",      "greater",   "greater_equal",
                                                 "equal_null_safe", "in"};
  if (kCompare.count(name)) return Kind::kCompare;
  if (name == "greatest" || name == "least") return Kind::kExtreme;
  if (name == "contains" || name == "startswith" || name == "endswith" || name == "starts_with" ||
      name == "ends_with") {
    return Kind::kPredicate;
  }
  if (name == "instr" || name == "locate" || name == "position") return Kind::kIndex;
  if (name == "like") return Kind::kLike;
  if (name == "ilike") return Kind::kIlike;
  if (name == "rlike" || name == "regexp" || name == "regexp_like") return Kind::kRlike;
  return Kind::kOther;
}

// The STRING arguments (by the resolved argument types) replaced by their keys.
Result<std::vector<arrow::Datum>> KeysOf(const std::vector<arrow::Datum>& args, Collation c,
                                         arrow::MemoryPool* pool) {
  std::vector<arrow::Datum> out;
  out.reserve(args.size());
  for (const auto& a : args) {
    if (a.type() && a.type()->id() == arrow::Type::STRING) {
      ARROW_ASSIGN_OR_RAISE(auto k, CollationKeys(a, c, pool));
      out.push_back(std::move(k));
    } else {
      out.push_back(a);
    }
  }
  return out;
}

// ICU string search for contains/startswith/endswith under UNICODE(_CI), as
// Spark's CollationSupport does with java's StringSearch.
Result<arrow::Datum> IcuPredicate(const std::string& name, Collation c,
                                  const std::vector<arrow::Datum>& args, int64_t length,
                                  arrow::MemoryPool* pool) {
  const bool scalar = args[0].is_scalar() && args[1].is_scalar();
  const int64_t n = scalar ? 1 : length;
  ARROW_ASSIGN_OR_RAISE(auto l, internal::ToArray(args[0], n, pool));
  ARROW_ASSIGN_OR_RAISE(auto r, internal::ToArray(args[1], n, pool));
  const auto& ls = static_cast<const arrow::StringArray&>(*l);
  const auto& rs = static_cast<const arrow::StringArray&>(*r);
  arrow::BooleanBuilder b(pool);
  ARROW_RETURN_NOT_OK(b.Reserve(n));
  std::unique_ptr<icu::RuleBasedCollator> coll(
      static_cast<icu::RuleBasedCollator*>(IcuCollator(c)->clone()));
  for (int64_t i = 0; i < n; ++i) {
    if (ls.IsNull(i) || rs.IsNull(i)) {
      b.UnsafeAppendNull();
      continue;
    }
    auto text = icu::UnicodeString::fromUTF8(std::string(ls.GetView(i)));
    auto pat = icu::UnicodeString::fromUTF8(std::string(rs.GetView(i)));
    if (pat.isEmpty()) {
      b.UnsafeAppend(true);
      continue;
    }
    if (text.isEmpty()) {
      b.UnsafeAppend(false);
      continue;
    }
    UErrorCode st = U_ZERO_ERROR;
    icu::StringSearch search(pat, text, coll.get(), nullptr, st);
    if (U_FAILURE(st))
      return ExecutionError("{}: ICU string search failed: {}", name, u_errorName(st));
    bool hit = false;
    if (name == "contains") {
      hit = search.first(st) != USEARCH_DONE;
    } else if (name == "startswith" || name == "starts_with") {
      hit = search.following(0, st) == 0;
    } else {
      int32_t at = search.last(st);
      hit = at != USEARCH_DONE && at + search.getMatchedLength() == text.length();
    }
    b.UnsafeAppend(hit);
  }
  ARROW_ASSIGN_OR_RAISE(auto out, b.Finish());
  if (scalar) return out->GetScalar(0);
  return arrow::Datum(out);
}

Status LikeUnsupported(const std::string& name, Collation c) {
  return UserError(
      "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: "
      "The first parameter requires the \"STRING\" type, however it has the type \"STRING "
      "COLLATE {}\" ({} supports UTF8_BINARY and UTF8_LCASE only).",
      name, types::CollationName(c), name);
}

}  // namespace

Result<CollationContext> ResolveCollation(const CallSite& site, std::string_view what) {
  std::set<Collation> explicit_cs, implicit_cs;
  for (size_t i = 0; i < site.arg_types.size(); ++i) {
    const auto& t = site.arg_types[i];
    if (!IsString(t)) continue;
    if (types::IsExplicitCollation(*t)) {
      explicit_cs.insert(types::CollationOf(*t));
    } else if (i >= site.literal_args.size() || site.literal_args[i] == nullptr) {
      implicit_cs.insert(types::CollationOf(*t));
    }
  }
  CollationContext ctx;
  if (explicit_cs.size() > 1) return ExplicitMismatch(explicit_cs);
  if (explicit_cs.size() == 1) {
    ctx.collation = *explicit_cs.begin();
    ctx.strength = CollationStrength::kExplicit;
    return ctx;
  }
  if (implicit_cs.size() > 1) {
    return UserError(
        "[INDETERMINATE_COLLATION_IN_EXPRESSION] Data type of \"{}\" has indeterminate "
        "collation. Use COLLATE clause to set the collation explicitly.",
        what);
  }
  if (implicit_cs.size() == 1) {
    ctx.collation = *implicit_cs.begin();
    ctx.strength = CollationStrength::kImplicit;
  }
  return ctx;
}

Result<TypePtr> CommonStringType(const TypePtr& a, const TypePtr& b) {
  const bool ea = types::IsExplicitCollation(*a), eb = types::IsExplicitCollation(*b);
  const Collation ca = types::CollationOf(*a), cb = types::CollationOf(*b);
  if (ea && eb && ca != cb) return ExplicitMismatch({ca, cb});
  if (ea) return a;
  if (eb) return b;
  if (ca == cb || cb == Collation::kUtf8Binary) return a;
  if (ca == Collation::kUtf8Binary) return b;
  return UserError(
      "[INDETERMINATE_COLLATION_IN_EXPRESSION] Data type of an expression mixing \"STRING COLLATE "
      "{}\" and \"STRING COLLATE {}\" has indeterminate collation. Use COLLATE clause to set the "
      "collation explicitly.",
      types::CollationName(ca), types::CollationName(cb));
}

void AppendCollationKey(std::string_view value, Collation collation, std::string* out) {
  switch (collation) {
    case Collation::kUtf8Binary:
      out->append(value);
      return;
    case Collation::kUtf8Lcase:
      AppendLowerCase(value, out);
      return;
    case Collation::kUnicode:
    case Collation::kUnicodeCi:
      AppendSortKey(value, collation, out);
      return;
  }
}

Result<arrow::Datum> CollationKeys(const arrow::Datum& values, Collation collation,
                                   arrow::MemoryPool* pool) {
  if (collation == Collation::kUtf8Binary) return values;
  const bool binary_keys = collation != Collation::kUtf8Lcase;
  std::string key;
  if (values.is_scalar()) {
    const auto& s = static_cast<const arrow::StringScalar&>(*values.scalar());
    TypePtr t = binary_keys ? arrow::binary() : arrow::utf8();
    if (!s.is_valid) return arrow::Datum(arrow::MakeNullScalar(t));
    AppendCollationKey(s.view(), collation, &key);
    if (binary_keys) return arrow::Datum(std::make_shared<arrow::BinaryScalar>(key));
    return arrow::Datum(std::make_shared<arrow::StringScalar>(key));
  }
  const auto holder = values.make_array();  // keeps the array alive while `arr` is read
  const auto& arr = static_cast<const arrow::StringArray&>(*holder);
  std::unique_ptr<arrow::ArrayBuilder> builder;
  if (binary_keys) {
    builder = std::make_unique<arrow::BinaryBuilder>(pool);
  } else {
    builder = std::make_unique<arrow::StringBuilder>(pool);
  }
  ARROW_RETURN_NOT_OK(builder->Reserve(arr.length()));
  for (int64_t i = 0; i < arr.length(); ++i) {
    if (arr.IsNull(i)) {
      ARROW_RETURN_NOT_OK(builder->AppendNull());
      continue;
    }
    key.clear();
    AppendCollationKey(arr.GetView(i), collation, &key);
    if (binary_keys) {
      ARROW_RETURN_NOT_OK(static_cast<arrow::BinaryBuilder*>(builder.get())->Append(key));
    } else {
      ARROW_RETURN_NOT_OK(static_cast<arrow::StringBuilder*>(builder.get())->Append(key));
    }
  }
  std::shared_ptr<arrow::Array> out;
  ARROW_RETURN_NOT_OK(builder->Finish(&out));
  return arrow::Datum(out);
}

ExprPtr CollationKeyExpr(const ExprPtr& e, Collation collation) {
  if (collation == Collation::kUtf8Binary || e->type->id() != arrow::Type::STRING) return e;
  auto rc = std::make_shared<ResolvedCall>();
  rc->result_type = collation == Collation::kUtf8Lcase ? arrow::utf8() : arrow::binary();
  rc->arg_types = {nullptr};
  rc->exec = [collation](const std::vector<arrow::Datum>& args, int64_t, const EvalContext& ctx) {
    return CollationKeys(args[0], collation, ctx.pool);
  };
  return MakeCall("collation_key", std::move(rc), {e});
}

RawResolver WithCollations(const std::string& name, RawResolver inner,
                           std::function<const RawResolver*(const std::string&)> raw) {
  if (IgnoresCollation(name)) return inner;
  const Kind kind = KindOf(name);
  return [name, inner, raw, kind](const CallSite& site) -> Result<ResolvedCall> {
    bool any_string = false;
    for (const auto& t : site.arg_types) any_string = any_string || IsString(t);
    if (!any_string) return inner(site);
    ARROW_ASSIGN_OR_RAISE(auto cc, ResolveCollation(site, name));
    const Collation c = cc.collation;
    if (c == Collation::kUtf8Binary && cc.strength != CollationStrength::kExplicit) {
      return inner(site);
    }
    std::optional<ResolvedCall> resolved;
    const bool icu = c == Collation::kUnicode || c == Collation::kUnicodeCi;
    if (c != Collation::kUtf8Binary &&
        (CollationUnaware(name, site.arg_types.size()) || (kind == Kind::kIndex && icu))) {
      return Unsupported(
          "[UNSUPPORTED_FEATURE] {} under collation {} is not supported yet (lakestream runs it "
          "under UTF8_BINARY only); COLLATE the arguments to UTF8_BINARY",
          name, types::CollationName(c));
    }
    switch (kind) {
      case Kind::kLike:
      case Kind::kIlike:
      case Kind::kRlike:
        if (c == Collation::kUnicode || c == Collation::kUnicodeCi) {
          return LikeUnsupported(name, c);
        }
        if (c == Collation::kUtf8Lcase && kind == Kind::kLike) {
          // LIKE under UTF8_LCASE matches case-insensitively: ILIKE's matcher.
          if (const RawResolver* ilike = raw("ilike")) {
            ARROW_ASSIGN_OR_RAISE(resolved, (*ilike)(site));
          }
        } else if (c == Collation::kUtf8Lcase && kind == Kind::kRlike) {
          // Spark compiles the regex with CASE_INSENSITIVE | UNICODE_CASE.
          CallSite ci = site;
          std::string storage;
          if (const std::string* p = internal::LiteralString(site, 1, &storage)) {
            ci.literal_args[1] = std::make_shared<arrow::StringScalar>("(?i)" + *p);
            ARROW_ASSIGN_OR_RAISE(resolved, inner(ci));
          } else {
            ARROW_ASSIGN_OR_RAISE(auto rc, inner(site));
            auto exec = rc.exec;
            rc.exec = [exec](const std::vector<arrow::Datum>& args, int64_t length,
                             const EvalContext& ctx) -> Result<arrow::Datum> {
              std::vector<arrow::Datum> a = args;
              ARROW_ASSIGN_OR_RAISE(
                  a[1], CallArrow("binary_join_element_wise",
                                  {arrow::Datum(std::make_shared<arrow::StringScalar>("(?i)")),
                                   a[1], arrow::Datum(std::make_shared<arrow::StringScalar>(""))},
                                  nullptr, ctx));
              return exec(a, length, ctx);
            };
            resolved = std::move(rc);
          }
        }
        break;
      case Kind::kCompare: {
        ARROW_ASSIGN_OR_RAISE(auto rc, inner(site));
        rc.collation = c;
        auto exec = rc.exec;
        rc.exec = [exec, c](const std::vector<arrow::Datum>& args, int64_t length,
                            const EvalContext& ctx) -> Result<arrow::Datum> {
          ARROW_ASSIGN_OR_RAISE(auto keys, KeysOf(args, c, ctx.pool));
          return exec(keys, length, ctx);
        };
        resolved = std::move(rc);
        break;
      }
      case Kind::kExtreme: {
        ARROW_ASSIGN_OR_RAISE(auto rc, inner(site));
        const bool greatest = name == "greatest";
        rc.exec = [greatest, c](const std::vector<arrow::Datum>& args, int64_t length,
                                const EvalContext& ctx) -> Result<arrow::Datum> {
          // Compare keys, return the original value: the first one among equals.
          bool all_scalar = true;
          for (const auto& a : args) all_scalar = all_scalar && a.is_scalar();
          const int64_t n = all_scalar ? 1 : length;
          std::vector<std::shared_ptr<arrow::StringArray>> vals;
          for (const auto& a : args) {
            ARROW_ASSIGN_OR_RAISE(auto arr, internal::ToArray(a, n, ctx.pool));
            vals.push_back(std::static_pointer_cast<arrow::StringArray>(arr));
          }
          arrow::StringBuilder b(ctx.pool);
          std::string best_key, key;
          for (int64_t i = 0; i < n; ++i) {
            int best = -1;
            for (size_t k = 0; k < vals.size(); ++k) {
              if (vals[k]->IsNull(i)) continue;
              key.clear();
              AppendCollationKey(vals[k]->GetView(i), c, &key);
              if (best < 0 || (greatest ? key > best_key : key < best_key)) {
                best = static_cast<int>(k);
                best_key = key;
              }
            }
            if (best < 0) {
              ARROW_RETURN_NOT_OK(b.AppendNull());
            } else {
              ARROW_RETURN_NOT_OK(b.Append(vals[best]->GetView(i)));
            }
          }
          ARROW_ASSIGN_OR_RAISE(auto out, b.Finish());
          if (all_scalar) return out->GetScalar(0);
          return arrow::Datum(out);
        };
        resolved = std::move(rc);
        break;
      }
      case Kind::kIndex:
      case Kind::kPredicate: {
        ARROW_ASSIGN_OR_RAISE(auto rc, inner(site));
        // UTF8_LCASE lower-cases code point by code point, so positions (in
        // code points) hold, but for U+0130, which becomes two.
        if (c == Collation::kUtf8Lcase) {
          auto exec = rc.exec;
          rc.exec = [exec, c](const std::vector<arrow::Datum>& args, int64_t length,
                              const EvalContext& ctx) -> Result<arrow::Datum> {
            ARROW_ASSIGN_OR_RAISE(auto keys, KeysOf(args, c, ctx.pool));
            return exec(keys, length, ctx);
          };
        } else if (c != Collation::kUtf8Binary) {
          rc.exec = [name = name, c](const std::vector<arrow::Datum>& args, int64_t length,
                                     const EvalContext& ctx) {
            return IcuPredicate(name, c, args, length, ctx.pool);
          };
        }
        resolved = std::move(rc);
        break;
      }
      case Kind::kOther:
        break;
    }
    if (!resolved) {
      ARROW_ASSIGN_OR_RAISE(resolved, inner(site));
    }
    if (IsString(resolved->result_type) && !KeepsResultCollation(name)) {
      resolved->result_type = types::CollatedString(c, cc.strength == CollationStrength::kExplicit);
    }
    return std::move(*resolved);
  };
}

void RegisterCollationFunctions(FunctionRegistry* r) {
  r->AddScalar({"collate", [](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(internal::CheckArity(site, "collate", 2, 2, "(STRING, STRING)"));
                  const auto& t = site.arg_types[0];
                  if (!IsString(t) && t->id() != arrow::Type::NA) {
                    return UserError(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"collate\" due "
                        "to data type mismatch: The first parameter requires the \"STRING\" "
                        "type, however it has the type \"{}\".",
                        SparkTypeName(*t));
                  }
                  std::string storage;
                  const std::string* name = internal::LiteralString(site, 1, &storage);
                  if (name == nullptr || !IsString(site.arg_types[1])) {
                    return UserError(
                        "[UNEXPECTED_INPUT_TYPE] collate expects a collation name as a string "
                        "literal, e.g. collate(s, 'UTF8_LCASE')");
                  }
                  ARROW_ASSIGN_OR_RAISE(auto c, types::ParseCollation(*name));
                  auto type = types::CollatedString(c, /*is_explicit=*/true);
                  ResolvedCall rc;
                  rc.result_type = type;
                  rc.arg_types = {arrow::utf8(), nullptr};
                  // The values stay as they are; the result carries the type so that
                  // a folded constant keeps its collation.
                  rc.exec = [type](const std::vector<arrow::Datum>& args, int64_t,
                                   const EvalContext&) -> Result<arrow::Datum> {
                    if (args[0].is_scalar()) {
                      const auto& s = static_cast<const arrow::StringScalar&>(*args[0].scalar());
                      if (!s.is_valid) return arrow::Datum(arrow::MakeNullScalar(type));
                      return arrow::Datum(std::make_shared<arrow::StringScalar>(s.value, type));
                    }
                    auto data = args[0].array()->Copy();
                    data->type = type;
                    return arrow::Datum(std::move(data));
                  };
                  return rc;
                }});
  r->AddScalar({"collation", [](const CallSite& site) -> Result<ResolvedCall> {
                  LS_RETURN_NOT_OK(internal::CheckArity(site, "collation", 1, 1, "(STRING)"));
                  const auto& t = site.arg_types[0];
                  if (!IsString(t)) return internal::TypeMismatch(site, "collation", "(STRING)");
                  // Spark 4.0.1 names it with its catalog and schema.
                  auto value = std::make_shared<arrow::StringScalar>(
                      "SYSTEM.BUILTIN." +
                      std::string(types::CollationName(types::CollationOf(*t))));
                  ResolvedCall rc;
                  rc.result_type = arrow::utf8();
                  rc.arg_types = {nullptr};
                  rc.null_intolerant = false;
                  rc.exec = [value](const std::vector<arrow::Datum>&, int64_t,
                                    const EvalContext&) -> Result<arrow::Datum> {
                    return arrow::Datum(value);
                  };
                  return rc;
                }});
}

// ---------------------------------------------------------------------------
// min / max over a collated string.

namespace {

class CollatedMinMaxAgg final : public GroupedAggregator {
 public:
  CollatedMinMaxAgg(TypePtr type, bool is_max)
      : type_(std::move(type)), collation_(types::CollationOf(*type_)), max_(is_max) {}

  Status Resize(int64_t n) override {
    values_.resize(n);
    keys_.resize(n);
    return Status::OK();
  }
  Status Update(const std::vector<arrow::Datum>& args, const uint32_t* ids,
                int64_t length) override {
    ARROW_ASSIGN_OR_RAISE(auto arr,
                          internal::ToArray(args[0], length, arrow::default_memory_pool()));
    if (arr->type_id() == arrow::Type::NA) return Status::OK();
    const auto& s = static_cast<const arrow::StringArray&>(*arr);
    std::string key;
    for (int64_t i = 0; i < length; ++i) {
      if (s.IsNull(i)) continue;
      key.clear();
      AppendCollationKey(s.GetView(i), collation_, &key);
      Offer(ids[i], s.GetView(i), key);
    }
    return Status::OK();
  }
  Status Merge(GroupedAggregator& other, const uint32_t* mapping) override {
    auto& o = static_cast<CollatedMinMaxAgg&>(other);
    for (size_t g = 0; g < o.values_.size(); ++g) {
      if (o.values_[g]) Offer(mapping[g], *o.values_[g], o.keys_[g]);
    }
    return Status::OK();
  }
  Result<std::shared_ptr<arrow::Array>> Finalize() override {
    arrow::StringBuilder b;
    for (const auto& v : values_) {
      if (v) {
        ARROW_RETURN_NOT_OK(b.Append(*v));
      } else {
        ARROW_RETURN_NOT_OK(b.AppendNull());
      }
    }
    std::shared_ptr<arrow::Array> out;
    ARROW_RETURN_NOT_OK(b.Finish(&out));
    return out;
  }
  Result<std::shared_ptr<arrow::Array>> SaveState() override { return Finalize(); }
  Status LoadState(const arrow::Array& state) override {
    const auto& s = static_cast<const arrow::StringArray&>(state);
    const size_t base = values_.size();
    ARROW_RETURN_NOT_OK(Resize(static_cast<int64_t>(base + s.length())));
    for (int64_t i = 0; i < s.length(); ++i) {
      if (s.IsNull(i)) continue;
      values_[base + i] = std::string(s.GetView(i));
      AppendCollationKey(s.GetView(i), collation_, &keys_[base + i]);
    }
    return Status::OK();
  }
  int64_t MemoryUsage() const override {
    int64_t bytes = static_cast<int64_t>(values_.size() * (sizeof(std::string) * 2 + 8));
    for (size_t g = 0; g < values_.size(); ++g) {
      if (values_[g]) bytes += static_cast<int64_t>(values_[g]->size() + keys_[g].size());
    }
    return bytes;
  }

 private:
  void Offer(uint32_t g, std::string_view v, const std::string& key) {
    // Strictly better only: among equal values the first one seen stays.
    if (!values_[g] || (max_ ? key > keys_[g] : key < keys_[g])) {
      values_[g] = std::string(v);
      keys_[g] = key;
    }
  }

  TypePtr type_;
  Collation collation_;
  bool max_;
  std::vector<std::optional<std::string>> values_;
  std::vector<std::string> keys_;
};

}  // namespace

Result<ResolvedAggregate> ResolveCollatedMinMax(const AggregateSite& site, bool is_max) {
  TypePtr t = site.arg_types[0];
  ResolvedAggregate ra;
  ra.result_type = t;
  ra.arg_types = {nullptr};
  ra.make = [t, is_max] { return std::make_unique<CollatedMinMaxAgg>(t, is_max); };
  return ra;
}

}  // namespace lakestream::expr
