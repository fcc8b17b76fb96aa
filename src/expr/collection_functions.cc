// Spark's collection functions (collectionOperations.scala,
// complexTypeCreator.scala, complexTypeExtractors.scala): constructors
// (array, map, struct, named_struct), accessors (element_at, subscript,
// get_field, get), and array/map operations; plus ExplodeBatch for the
// planner's Generate. Arrays are Arrow lists, maps Arrow maps, structs structs.
#include "expr/collection_functions.h"

#include <arrow/buffer_builder.h>
#include <arrow/compute/api.h>

#include <cmath>

#include "expr/cast.h"
#include "expr/row_kernel_internal.h"

namespace lakestream::expr {

namespace {

using arrow::Datum;
using internal::CheckArity;
using internal::MapAllRows;
using internal::MapRows;
using internal::Rows;
using internal::TypeMismatch;
using types::TypePtr;
using internal::Call;
using Resolver = std::function<Result<ResolvedCall>(const CallSite&)>;


void Add(FunctionRegistry* r, const std::string& name, Resolver resolve) {
  r->AddScalar(ScalarFunction{name, std::move(resolve)});
}

bool IsList(const TypePtr& t) { return t->id() == arrow::Type::LIST; }
bool IsMap(const TypePtr& t) { return t->id() == arrow::Type::MAP; }
TypePtr ElementType(const TypePtr& t) { return t->field(0)->type(); }

bool Ansi(const CallSite& site) { return site.config == nullptr || site.config->ansi; }

// ---------------------------------------------------------------------------
// Element comparison (Spark's ordering: NaN = NaN and is the largest double,
// -0.0 = 0.0; strings by bytes).

template <typename T>
int Cmp3(T a, T b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}

int CmpDouble(double a, double b) {
  bool na = std::isnan(a), nb = std::isnan(b);
  if (na || nb) return na && nb ? 0 : (na ? 1 : -1);
  return Cmp3(a, b);
}

bool Orderable(const arrow::DataType& t) {
  switch (t.id()) {
    case arrow::Type::BOOL: case arrow::Type::INT8: case arrow::Type::INT16:
    case arrow::Type::INT32: case arrow::Type::INT64: case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE: case arrow::Type::DATE32: case arrow::Type::TIMESTAMP:
    case arrow::Type::STRING: case arrow::Type::BINARY: case arrow::Type::DECIMAL128:
    case arrow::Type::NA:
      return true;
    default:
      return false;
  }
}

/// Three-way comparison of non-null a[i] and b[j] of the same orderable type.
int Compare(const arrow::Array& a, int64_t i, const arrow::Array& b, int64_t j) {
  switch (a.type_id()) {
    case arrow::Type::BOOL:
      return Cmp3(static_cast<const arrow::BooleanArray&>(a).Value(i),
                  static_cast<const arrow::BooleanArray&>(b).Value(j));
    case arrow::Type::INT8:
      return Cmp3(static_cast<const arrow::Int8Array&>(a).Value(i),
                  static_cast<const arrow::Int8Array&>(b).Value(j));
    case arrow::Type::INT16:
      return Cmp3(static_cast<const arrow::Int16Array&>(a).Value(i),
                  static_cast<const arrow::Int16Array&>(b).Value(j));
    case arrow::Type::INT32:
    case arrow::Type::DATE32:
      return Cmp3(static_cast<const arrow::Int32Array&>(a).Value(i),
                  static_cast<const arrow::Int32Array&>(b).Value(j));
    case arrow::Type::INT64:
    case arrow::Type::TIMESTAMP:
      return Cmp3(static_cast<const arrow::Int64Array&>(a).Value(i),
                  static_cast<const arrow::Int64Array&>(b).Value(j));
    case arrow::Type::FLOAT:
      return CmpDouble(static_cast<const arrow::FloatArray&>(a).Value(i),
                       static_cast<const arrow::FloatArray&>(b).Value(j));
    case arrow::Type::DOUBLE:
      return CmpDouble(static_cast<const arrow::DoubleArray&>(a).Value(i),
                       static_cast<const arrow::DoubleArray&>(b).Value(j));
    case arrow::Type::STRING:
    case arrow::Type::BINARY: {
      auto x = static_cast<const arrow::BinaryArray&>(a).GetView(i);
      auto y = static_cast<const arrow::BinaryArray&>(b).GetView(j);
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case arrow::Type::DECIMAL128: {
      arrow::Decimal128 x(static_cast<const arrow::Decimal128Array&>(a).GetValue(i));
      arrow::Decimal128 y(static_cast<const arrow::Decimal128Array&>(b).GetValue(j));
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    default:
      return 0;
  }
}

/// Equality of non-null a[i] and b[j] (any type; nested types compare structurally).
bool Equal(const arrow::Array& a, int64_t i, const arrow::Array& b, int64_t j) {
  if (Orderable(*a.type())) return Compare(a, i, b, j) == 0;
  return a.RangeEquals(i, i + 1, j, b);
}

// ---------------------------------------------------------------------------
// Constructors

Result<ResolvedCall> ResolveArray(const CallSite& site) {
  TypePtr elem = arrow::null();
  if (!site.arg_types.empty()) {
    LS_ASSIGN_OR_RAISE(elem, CommonType(site.arg_types, Ansi(site)));
  }
  TypePtr out = arrow::list(elem);
  std::vector<TypePtr> casts(site.arg_types.size(), elem);
  return Call(out, casts,
              [out](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                return MapAllRows<arrow::ListBuilder>(
                    args, length, ctx, out, [&](const Rows& r, int64_t i, arrow::ListBuilder* b) {
                      LS_RETURN_NOT_OK(b->Append());
                      for (const auto& a : r.arrays) {
                        LS_RETURN_NOT_OK(b->value_builder()->AppendArraySlice(*a->data(), i, 1));
                      }
                      return Status::OK();
                    });
              },
              false);
}

Status CheckNoDuplicateKeys(const arrow::Array& keys, int64_t begin, int64_t end) {
  for (int64_t x = begin; x < end; ++x) {
    if (keys.IsNull(x)) return ExecutionError("[NULL_MAP_KEY] Cannot use null as map key.");
    for (int64_t y = begin; y < x; ++y) {
      if (Equal(keys, x, keys, y)) {
        LS_ASSIGN_OR_RAISE(auto s, keys.GetScalar(x));
        return ExecutionError(
            "[DUPLICATED_MAP_KEY] Duplicate map key {} was found, please check the input data. If "
            "you want to remove the duplicated keys, you can set "
            "\"spark.sql.mapKeyDedupPolicy\" to \"LAST_WIN\" so that the key inserted at last "
            "takes precedence.",
            s->ToString());
      }
    }
  }
  return Status::OK();
}

Result<ResolvedCall> ResolveMap(const CallSite& site) {
  if (site.arg_types.size() % 2 != 0) {
    return UserError(
        "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `map` requires an even number of arguments, but "
        "the actual number is {}.",
        site.arg_types.size());
  }
  std::vector<TypePtr> ks, vs;
  for (size_t k = 0; k < site.arg_types.size(); ++k) {
    (k % 2 == 0 ? ks : vs).push_back(site.arg_types[k]);
  }
  TypePtr kt = arrow::null(), vt = arrow::null();
  if (!ks.empty()) {
    LS_ASSIGN_OR_RAISE(kt, CommonType(ks, Ansi(site)));
    LS_ASSIGN_OR_RAISE(vt, CommonType(vs, Ansi(site)));
  }
  TypePtr out = arrow::map(kt, vt);
  std::vector<TypePtr> casts;
  for (size_t k = 0; k < site.arg_types.size(); ++k) casts.push_back(k % 2 == 0 ? kt : vt);
  return Call(out, casts,
              [out](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                return MapAllRows<arrow::MapBuilder>(
                    args, length, ctx, out, [&](const Rows& r, int64_t i, arrow::MapBuilder* b) -> Status {
                      LS_RETURN_NOT_OK(b->Append());
                      int64_t start = b->key_builder()->length();
                      for (size_t k = 0; k < r.arrays.size(); k += 2) {
                        if (r.arrays[k]->IsNull(i)) {
                          return ExecutionError("[NULL_MAP_KEY] Cannot use null as map key.");
                        }
                        LS_RETURN_NOT_OK(b->key_builder()->AppendArraySlice(*r.arrays[k]->data(), i, 1));
                        LS_RETURN_NOT_OK(
                            b->item_builder()->AppendArraySlice(*r.arrays[k + 1]->data(), i, 1));
                      }
                      // Duplicate keys: compare the row's arguments directly.
                      for (size_t x = 0; x < r.arrays.size(); x += 2) {
                        for (size_t y = 0; y < x; y += 2) {
                          if (Equal(*r.arrays[x], i, *r.arrays[y], i)) {
                            LS_ASSIGN_OR_RAISE(auto s, r.arrays[x]->GetScalar(i));
                            return ExecutionError(
                                "[DUPLICATED_MAP_KEY] Duplicate map key {} was found, please check "
                                "the input data. If you want to remove the duplicated keys, you "
                                "can set \"spark.sql.mapKeyDedupPolicy\" to \"LAST_WIN\" so that "
                                "the key inserted at last takes precedence.",
                                s->ToString());
                          }
                        }
                      }
                      (void)start;
                      return Status::OK();
                    });
              },
              false);
}

Result<Datum> MakeStruct(const std::vector<Datum>& args, int64_t length, const EvalContext& ctx,
                         const std::vector<std::string>& names, const std::vector<size_t>& which) {
  std::vector<Datum> vals;
  for (size_t k : which) vals.push_back(args[k]);
  LS_ASSIGN_OR_RAISE(Rows r, internal::ToRows(vals, length, ctx.pool));
  std::vector<std::shared_ptr<arrow::Field>> fields;
  for (size_t k = 0; k < names.size(); ++k) {
    fields.push_back(arrow::field(names[k], r.arrays[k]->type()));
  }
  LS_ASSIGN_OR_RAISE(auto s, arrow::StructArray::Make(r.arrays, fields));
  if (r.all_scalar && which.empty()) return Datum(s);
  return internal::FromRows(r, s);
}

Result<ResolvedCall> ResolveStruct(const CallSite& site) {
  std::vector<std::string> names;
  std::vector<std::shared_ptr<arrow::Field>> fields;
  std::vector<size_t> which;
  for (size_t k = 0; k < site.arg_types.size(); ++k) {
    // Spark names fields after the argument's column name; the binder knows
    // those, we only see types, so unnamed arguments are col1, col2, ...
    names.push_back("col" + std::to_string(k + 1));
    fields.push_back(arrow::field(names.back(), site.arg_types[k]));
    which.push_back(k);
  }
  return Call(arrow::struct_(fields), std::vector<TypePtr>(site.arg_types.size(), nullptr),
              [names, which](const std::vector<Datum>& args, int64_t length,
                             const EvalContext& ctx) { return MakeStruct(args, length, ctx, names, which); },
              false);
}

Result<ResolvedCall> ResolveNamedStruct(const CallSite& site) {
  if (site.arg_types.empty() || site.arg_types.size() % 2 != 0) {
    return UserError(
        "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `named_struct` requires an even number of "
        "arguments (name, value pairs), but the actual number is {}.",
        site.arg_types.size());
  }
  std::vector<std::string> names;
  std::vector<std::shared_ptr<arrow::Field>> fields;
  std::vector<size_t> which;
  for (size_t k = 0; k < site.arg_types.size(); k += 2) {
    std::string storage;
    const std::string* n = internal::LiteralString(site, k, &storage);
    if (!n || site.arg_types[k]->id() != arrow::Type::STRING) {
      return UserError(
          "[DATATYPE_MISMATCH.CREATE_NAMED_STRUCT_WITHOUT_FOLDABLE_STRING] named_struct: "
          "argument {} must be a string literal naming a field",
          k + 1);
    }
    names.push_back(*n);
    fields.push_back(arrow::field(*n, site.arg_types[k + 1]));
    which.push_back(k + 1);
  }
  return Call(arrow::struct_(fields), std::vector<TypePtr>(site.arg_types.size(), nullptr),
              [names, which](const std::vector<Datum>& args, int64_t length,
                             const EvalContext& ctx) { return MakeStruct(args, length, ctx, names, which); },
              false);
}

// ---------------------------------------------------------------------------
// Accessors

/// Field index of `name` in a struct type (case-insensitive unless configured).
Result<int> FindField(const arrow::DataType& t, const std::string& name, const CallSite& site) {
  bool cs = site.config != nullptr && site.config->case_sensitive;
  int found = -1;
  for (int f = 0; f < t.num_fields(); ++f) {
    const auto& n = t.field(f)->name();
    bool eq = cs ? n == name
                 : (n.size() == name.size() &&
                    std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
                      return std::tolower(static_cast<unsigned char>(a)) ==
                             std::tolower(static_cast<unsigned char>(b));
                    }));
    if (eq) {
      if (found >= 0) {
        return UserError("[AMBIGUOUS_REFERENCE_TO_FIELDS] Ambiguous reference to the field `{}`.",
                         name);
      }
      found = f;
    }
  }
  if (found < 0) {
    std::string have;
    for (const auto& f : t.fields()) have += (have.empty() ? "`" : ", `") + f->name() + "`";
    return UserError("[FIELD_NOT_FOUND] No such struct field `{}` in {}.", name, have);
  }
  return found;
}

Result<ResolvedCall> ResolveGetField(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "get_field", 2, 2, "(STRUCT, STRING field name)"));
  if (site.arg_types[0]->id() != arrow::Type::STRUCT) {
    return TypeMismatch(site, "get_field", "(STRUCT, STRING)");
  }
  std::string storage;
  const std::string* name = internal::LiteralString(site, 1, &storage);
  if (!name) return UserError("get_field: the field name must be a string literal");
  LS_ASSIGN_OR_RAISE(int idx, FindField(*site.arg_types[0], *name, site));
  return Call(site.arg_types[0]->field(idx)->type(), {nullptr, nullptr},
              [idx](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(Rows r, internal::ToRows({args[0]}, length, ctx.pool));
                const auto& s = r.As<arrow::StructArray>(0);
                LS_ASSIGN_OR_RAISE(auto child, s.GetFlattenedField(idx, ctx.pool));
                return internal::FromRows(r, child);
              },
              false);
}

enum class IndexMode {
  kElementAt,     // 1-based, negative from the end, ANSI error out of bounds
  kTryElementAt,  // like element_at but NULL out of bounds
  kSubscript,     // 0-based a[i], ANSI error out of bounds
  kGet,           // 0-based, NULL out of bounds
};

Result<ResolvedCall> ResolveIndex(const CallSite& site, const std::string& name, IndexMode mode) {
  LS_RETURN_NOT_OK(CheckArity(site, name, 2, 2, "(ARRAY, INT) or (MAP, key)"));
  const TypePtr& t = site.arg_types[0];
  if (IsMap(t) && mode != IndexMode::kGet) {
    const auto& mt = static_cast<const arrow::MapType&>(*t);
    TypePtr vt = mt.item_type();
    return Call(vt, {nullptr, mt.key_type()},
                [vt](const std::vector<Datum>& args, int64_t length,
                     const EvalContext& ctx) -> Result<Datum> {
                  LS_ASSIGN_OR_RAISE(Rows r, internal::ToRows(args, length, ctx.pool));
                  const auto& m = r.As<arrow::MapArray>(0);
                  arrow::Int64Builder idx(ctx.pool);
                  LS_RETURN_NOT_OK(idx.Reserve(r.length));
                  for (int64_t i = 0; i < r.length; ++i) {
                    int64_t hit = -1;
                    if (!r.AnyNull(i)) {
                      for (int64_t j = m.value_offset(i); j < m.value_offset(i + 1) && hit < 0; ++j) {
                        if (Equal(*m.keys(), j, *r.arrays[1], i)) hit = j;
                      }
                    }
                    if (hit < 0) {
                      idx.UnsafeAppendNull();
                    } else {
                      idx.UnsafeAppend(hit);
                    }
                  }
                  std::shared_ptr<arrow::Array> ia;
                  LS_RETURN_NOT_OK(idx.Finish(&ia));
                  LS_ASSIGN_OR_RAISE(Datum out, arrow::compute::Take(m.items(), ia));
                  return internal::FromRows(r, out.make_array());
                },
                false);
  }
  if (!IsList(t)) return TypeMismatch(site, name, "(ARRAY, INT) or (MAP, key)");
  if (!internal::IsIntCoercible(*site.arg_types[1])) return TypeMismatch(site, name, "(ARRAY, INT)");
  TypePtr et = ElementType(t);
  return Call(
      et, {nullptr, arrow::int32()},
      [et, mode](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
        LS_ASSIGN_OR_RAISE(Rows r, internal::ToRows(args, length, ctx.pool));
        const auto& l = r.As<arrow::ListArray>(0);
        arrow::Int64Builder idx(ctx.pool);
        LS_RETURN_NOT_OK(idx.Reserve(r.length));
        for (int64_t i = 0; i < r.length; ++i) {
          if (r.AnyNull(i)) {
            idx.UnsafeAppendNull();
            continue;
          }
          int64_t n = l.value_length(i);
          int64_t k = r.I32(1, i);
          int64_t pos;
          if (mode == IndexMode::kElementAt || mode == IndexMode::kTryElementAt) {
            if (k == 0) {
              return ExecutionError(
                  "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or "
                  "> 0 (the first element has index 1).");
            }
            pos = k > 0 ? k - 1 : n + k;
          } else {
            pos = k;
          }
          if (pos < 0 || pos >= n) {
            bool raise = ctx.ansi() && (mode == IndexMode::kElementAt || mode == IndexMode::kSubscript);
            if (raise && mode == IndexMode::kElementAt) {
              return ExecutionError(
                  "[INVALID_ARRAY_INDEX_IN_ELEMENT_AT] The index {} is out of bounds. The array has "
                  "{} elements. Use `try_element_at` to tolerate accessing element at invalid index "
                  "and return NULL instead.",
                  k, n);
            }
            if (raise) {
              return ExecutionError(
                  "[INVALID_ARRAY_INDEX] The index {} is out of bounds. The array has {} elements. "
                  "Use the SQL function `get()` to tolerate accessing element at invalid index and "
                  "return NULL instead.",
                  k, n);
            }
            idx.UnsafeAppendNull();
            continue;
          }
          idx.UnsafeAppend(l.value_offset(i) + pos);
        }
        std::shared_ptr<arrow::Array> ia;
        LS_RETURN_NOT_OK(idx.Finish(&ia));
        LS_ASSIGN_OR_RAISE(Datum out, arrow::compute::Take(l.values(), ia));
        return internal::FromRows(r, out.make_array());
      },
      false);
}

// ---------------------------------------------------------------------------
// size, array_contains, array_position, array_max/min, array_distinct, array_join

Result<ResolvedCall> ResolveSize(const CallSite& site, const std::string& name) {
  LS_RETURN_NOT_OK(CheckArity(site, name, 1, 1, "(ARRAY or MAP)"));
  if (!IsList(site.arg_types[0]) && !IsMap(site.arg_types[0]) &&
      site.arg_types[0]->id() != arrow::Type::NA) {
    return TypeMismatch(site, name, "(ARRAY or MAP)");
  }
  return Call(arrow::int32(), {nullptr},
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                // spark.sql.legacy.sizeOfNull applies only without ANSI: -1 for NULL.
                bool minus_one = !ctx.ansi();
                return MapAllRows<arrow::Int32Builder>(
                    args, length, ctx, arrow::int32(), [&](const Rows& r, int64_t i, arrow::Int32Builder* b) {
                      if (r.IsNull(0, i)) {
                        if (minus_one) {
                          b->UnsafeAppend(-1);
                          return Status::OK();
                        }
                        return b->AppendNull();
                      }
                      b->UnsafeAppend(r.As<arrow::ListArray>(0).value_length(i));
                      return Status::OK();
                    });
              },
              false);
}

Result<TypePtr> ElementArg(const CallSite& site, const std::string& name, const char* sig) {
  if (!IsList(site.arg_types[0])) return TypeMismatch(site, name, sig);
  return ElementType(site.arg_types[0]);
}

Result<ResolvedCall> ResolveContainsOrPosition(const CallSite& site, const std::string& name,
                                               bool position) {
  const char* sig = "(ARRAY<T>, T)";
  LS_RETURN_NOT_OK(CheckArity(site, name, 2, 2, sig));
  LS_ASSIGN_OR_RAISE(TypePtr et, ElementArg(site, name, sig));
  LS_ASSIGN_OR_RAISE(TypePtr common, CommonType(et, site.arg_types[1], Ansi(site)));
  TypePtr out = position ? arrow::int64() : arrow::boolean();
  std::vector<TypePtr> casts{common->Equals(*et) ? nullptr : arrow::list(common), common};
  return Call(out, casts,
              [position, out](const std::vector<Datum>& args, int64_t length,
                              const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::ArrayBuilder>(
                    args, length, ctx, out, [&](const Rows& r, int64_t i, arrow::ArrayBuilder* b) -> Status {
                      const auto& l = r.As<arrow::ListArray>(0);
                      const auto& vals = *l.values();
                      bool saw_null = false;
                      int64_t found = 0;
                      for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
                        if (vals.IsNull(j)) {
                          saw_null = true;
                          continue;
                        }
                        if (Equal(vals, j, *r.arrays[1], i)) {
                          found = j - l.value_offset(i) + 1;
                          break;
                        }
                      }
                      if (position) {
                        return static_cast<arrow::Int64Builder*>(b)->Append(found);
                      }
                      auto* bb = static_cast<arrow::BooleanBuilder*>(b);
                      if (found > 0) return bb->Append(true);
                      // Spark: not found but the array holds NULL -> NULL.
                      if (saw_null) return bb->AppendNull();
                      return bb->Append(false);
                    });
              });
}

Result<ResolvedCall> ResolveArrayMinMax(const CallSite& site, const std::string& name, bool max) {
  LS_RETURN_NOT_OK(CheckArity(site, name, 1, 1, "(ARRAY)"));
  LS_ASSIGN_OR_RAISE(TypePtr et, ElementArg(site, name, "(ARRAY)"));
  if (!Orderable(*et)) return TypeMismatch(site, name, "(ARRAY of an orderable type)");
  return Call(et, {nullptr},
              [max](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(Rows r, internal::ToRows(args, length, ctx.pool));
                const auto& l = r.As<arrow::ListArray>(0);
                const auto& vals = *l.values();
                arrow::Int64Builder idx(ctx.pool);
                LS_RETURN_NOT_OK(idx.Reserve(r.length));
                for (int64_t i = 0; i < r.length; ++i) {
                  int64_t best = -1;
                  if (!r.IsNull(0, i)) {
                    for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
                      if (vals.IsNull(j)) continue;
                      if (best < 0) {
                        best = j;
                        continue;
                      }
                      int c = Compare(vals, j, vals, best);
                      if (max ? c > 0 : c < 0) best = j;
                    }
                  }
                  if (best < 0) {
                    idx.UnsafeAppendNull();
                  } else {
                    idx.UnsafeAppend(best);
                  }
                }
                std::shared_ptr<arrow::Array> ia;
                LS_RETURN_NOT_OK(idx.Finish(&ia));
                LS_ASSIGN_OR_RAISE(Datum out, arrow::compute::Take(l.values(), ia));
                return internal::FromRows(r, out.make_array());
              });
}

Result<ResolvedCall> ResolveArrayDistinct(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "array_distinct", 1, 1, "(ARRAY)"));
  LS_ASSIGN_OR_RAISE(TypePtr et, ElementArg(site, "array_distinct", "(ARRAY)"));
  TypePtr t = site.arg_types[0];
  return Call(t, {nullptr},
              [t](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                std::vector<int64_t> kept;
                return MapRows<arrow::ListBuilder>(
                    args, length, ctx, t, [&](const Rows& r, int64_t i, arrow::ListBuilder* b) -> Status {
                      const auto& l = r.As<arrow::ListArray>(0);
                      const auto& vals = *l.values();
                      kept.clear();
                      bool null_kept = false;
                      for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
                        if (vals.IsNull(j)) {
                          if (!null_kept) kept.push_back(j);
                          null_kept = true;
                          continue;
                        }
                        bool dup = false;
                        for (int64_t k : kept) {
                          if (!vals.IsNull(k) && Equal(vals, j, vals, k)) {
                            dup = true;
                            break;
                          }
                        }
                        if (!dup) kept.push_back(j);
                      }
                      LS_RETURN_NOT_OK(b->Append());
                      for (int64_t k : kept) {
                        LS_RETURN_NOT_OK(b->value_builder()->AppendArraySlice(*vals.data(), k, 1));
                      }
                      return Status::OK();
                    });
              });
}

Result<ResolvedCall> ResolveArrayJoin(const CallSite& site) {
  const char* sig = "(ARRAY<STRING>, STRING delimiter[, STRING nullReplacement])";
  LS_RETURN_NOT_OK(CheckArity(site, "array_join", 2, 3, sig));
  if (!IsList(site.arg_types[0]) || !internal::IsStringCoercible(*ElementType(site.arg_types[0]))) {
    return TypeMismatch(site, "array_join", sig);
  }
  std::vector<TypePtr> casts{arrow::list(arrow::utf8()), arrow::utf8()};
  if (site.arg_types.size() > 2) casts.push_back(arrow::utf8());
  return Call(arrow::utf8(), casts,
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                std::string buf;
                return MapRows<arrow::StringBuilder>(
                    args, length, ctx, arrow::utf8(), [&](const Rows& r, int64_t i, arrow::StringBuilder* b) {
                      const auto& l = r.As<arrow::ListArray>(0);
                      const auto& vals = static_cast<const arrow::StringArray&>(*l.values());
                      auto sep = r.Str(1, i);
                      bool has_rep = r.arrays.size() > 2;
                      buf.clear();
                      bool first = true;
                      for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
                        if (vals.IsNull(j) && !has_rep) continue;
                        if (!first) buf += sep;
                        first = false;
                        buf += vals.IsNull(j) ? r.Str(2, i) : vals.GetView(j);
                      }
                      return b->Append(buf);
                    });
              });
}

// ---------------------------------------------------------------------------
// Sorting: one vectorized sort of all elements keyed by (row, value).

Result<std::shared_ptr<arrow::Array>> SortLists(const arrow::ListArray& l, bool ascending,
                                                bool nulls_first, arrow::MemoryPool* pool) {
  // Row index of every element, then sort by (row, value).
  int64_t first = l.value_offset(0);
  int64_t last = l.length() > 0 ? l.value_offset(l.length()) : first;
  auto values = l.values()->Slice(first, last - first);
  arrow::Int64Builder parent(pool);
  LS_RETURN_NOT_OK(parent.Reserve(values->length()));
  for (int64_t i = 0; i < l.length(); ++i) {
    for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) parent.UnsafeAppend(i);
  }
  std::shared_ptr<arrow::Array> parents;
  LS_RETURN_NOT_OK(parent.Finish(&parents));
  auto batch = arrow::RecordBatch::Make(
      arrow::schema({arrow::field("p", arrow::int64()), arrow::field("v", values->type())}),
      values->length(), {parents, values});
  auto np = nulls_first ? arrow::compute::NullPlacement::AtStart : arrow::compute::NullPlacement::AtEnd;
  arrow::compute::SortOptions opts(
      {arrow::compute::SortKey("p", arrow::compute::SortOrder::Ascending, np),
       arrow::compute::SortKey("v",
                               ascending ? arrow::compute::SortOrder::Ascending
                                         : arrow::compute::SortOrder::Descending,
                               np)});
  LS_ASSIGN_OR_RAISE(auto order, arrow::compute::SortIndices(Datum(batch), opts));
  LS_ASSIGN_OR_RAISE(Datum sorted, arrow::compute::Take(values, order));
  // Rebuild offsets starting at 0.
  arrow::Int32Builder offs(pool);
  LS_RETURN_NOT_OK(offs.Reserve(l.length() + 1));
  for (int64_t i = 0; i <= l.length(); ++i) {
    offs.UnsafeAppend(static_cast<int32_t>(l.value_offset(i) - first));
  }
  std::shared_ptr<arrow::Array> offsets;
  LS_RETURN_NOT_OK(offs.Finish(&offsets));
  std::shared_ptr<arrow::Buffer> validity;
  if (l.null_count() > 0) {
    arrow::TypedBufferBuilder<bool> bits(pool);
    for (int64_t i = 0; i < l.length(); ++i) LS_RETURN_NOT_OK(bits.Append(l.IsValid(i)));
    LS_RETURN_NOT_OK(bits.Finish(&validity));
  }
  auto out_data = arrow::ArrayData::Make(l.type(), l.length(), {validity, offsets->data()->buffers[1]},
                                         {sorted.make_array()->data()}, l.null_count(), 0);
  return arrow::MakeArray(out_data);
}

Result<ResolvedCall> ResolveSort(const CallSite& site, const std::string& name, bool sort_array) {
  LS_RETURN_NOT_OK(CheckArity(site, name, 1, sort_array ? 2 : 1,
                              sort_array ? "(ARRAY[, BOOLEAN ascending])" : "(ARRAY)"));
  LS_ASSIGN_OR_RAISE(TypePtr et, ElementArg(site, name, "(ARRAY)"));
  if (!Orderable(*et)) return TypeMismatch(site, name, "(ARRAY of an orderable type)");
  bool ascending = true;
  if (site.arg_types.size() > 1) {
    if (!internal::IsLiteral(site, 1) || site.arg_types[1]->id() != arrow::Type::BOOL) {
      return UserError("sort_array: the ascending flag must be a boolean literal");
    }
    ascending = !site.literal_args[1]->is_valid ||
                std::static_pointer_cast<arrow::BooleanScalar>(site.literal_args[1])->value;
  }
  // array_sort: ascending, NULLs last. sort_array: NULLs first ascending, last descending.
  bool nulls_first = sort_array && ascending;
  return Call(site.arg_types[0], std::vector<TypePtr>(site.arg_types.size(), nullptr),
              [ascending, nulls_first](const std::vector<Datum>& args, int64_t length,
                                       const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(Rows r, internal::ToRows({args[0]}, length, ctx.pool));
                LS_ASSIGN_OR_RAISE(auto out, SortLists(r.As<arrow::ListArray>(0), ascending,
                                                       nulls_first, ctx.pool));
                return internal::FromRows(r, out);
              });
}

// ---------------------------------------------------------------------------
// flatten, slice, sequence, arrays_zip, map functions

Result<ResolvedCall> ResolveFlatten(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "flatten", 1, 1, "(ARRAY<ARRAY>)"));
  if (!IsList(site.arg_types[0]) || !IsList(ElementType(site.arg_types[0]))) {
    return TypeMismatch(site, "flatten", "(ARRAY<ARRAY>)");
  }
  TypePtr out = ElementType(site.arg_types[0]);
  return Call(out, {nullptr},
              [out](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::ListBuilder>(
                    args, length, ctx, out, [&](const Rows& r, int64_t i, arrow::ListBuilder* b) -> Status {
                      const auto& l = r.As<arrow::ListArray>(0);
                      const auto& inner = static_cast<const arrow::ListArray&>(*l.values());
                      for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
                        if (inner.IsNull(j)) return b->AppendNull();  // Spark: any NULL inner -> NULL
                      }
                      LS_RETURN_NOT_OK(b->Append());
                      for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
                        LS_RETURN_NOT_OK(b->value_builder()->AppendArraySlice(
                            *inner.values()->data(), inner.value_offset(j), inner.value_length(j)));
                      }
                      return Status::OK();
                    });
              });
}

Result<ResolvedCall> ResolveSlice(const CallSite& site) {
  const char* sig = "(ARRAY, INT start, INT length)";
  LS_RETURN_NOT_OK(CheckArity(site, "slice", 3, 3, sig));
  if (!IsList(site.arg_types[0])) return TypeMismatch(site, "slice", sig);
  TypePtr t = site.arg_types[0];
  return Call(t, {nullptr, arrow::int32(), arrow::int32()},
              [t](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::ListBuilder>(
                    args, length, ctx, t, [&](const Rows& r, int64_t i, arrow::ListBuilder* b) -> Status {
                      const auto& l = r.As<arrow::ListArray>(0);
                      int64_t n = l.value_length(i);
                      int64_t start = r.I32(1, i), len = r.I32(2, i);
                      if (start == 0) {
                        return ExecutionError(
                            "[INVALID_PARAMETER_VALUE.START] The value of parameter(s) `start` in "
                            "`slice` is invalid: Expects a positive or a negative value for "
                            "`start`, but got 0.");
                      }
                      if (len < 0) {
                        return ExecutionError(
                            "[INVALID_PARAMETER_VALUE.LENGTH] The value of parameter(s) `length` in "
                            "`slice` is invalid: Expects `length` greater than or equal to 0, but "
                            "got {}.",
                            len);
                      }
                      int64_t s = start > 0 ? start - 1 : n + start;
                      LS_RETURN_NOT_OK(b->Append());
                      if (s < 0 || s >= n) return Status::OK();
                      int64_t e = std::min(n, s + len);
                      return b->value_builder()->AppendArraySlice(*l.values()->data(),
                                                                  l.value_offset(i) + s, e - s);
                    });
              });
}

Result<ResolvedCall> ResolveSequence(const CallSite& site) {
  const char* sig = "(INTEGRAL start, INTEGRAL stop[, INTEGRAL step]) or (DATE, DATE)";
  LS_RETURN_NOT_OK(CheckArity(site, "sequence", 2, 3, sig));
  bool dates = site.arg_types[0]->id() == arrow::Type::DATE32 &&
               site.arg_types[1]->id() == arrow::Type::DATE32 && site.arg_types.size() == 2;
  TypePtr elem;
  if (dates) {
    elem = arrow::date32();
  } else {
    for (const auto& t : site.arg_types) {
      if (!types::IsIntegral(*t) && t->id() != arrow::Type::NA) return TypeMismatch(site, "sequence", sig);
    }
    LS_ASSIGN_OR_RAISE(elem, CommonType(site.arg_types, Ansi(site)));
    if (elem->id() == arrow::Type::NA) elem = arrow::int32();
  }
  TypePtr out = arrow::list(elem);
  std::vector<TypePtr> casts(site.arg_types.size(), dates ? arrow::date32() : arrow::int64());
  return Call(out, casts,
              [out, elem, dates](const std::vector<Datum>& args, int64_t length,
                                 const EvalContext& ctx) -> Result<Datum> {
                std::vector<int64_t> vals;
                LS_ASSIGN_OR_RAISE(auto built, MapRows<arrow::ListBuilder>(
                    args, length, ctx, arrow::list(arrow::int64()),
                    [&](const Rows& r, int64_t i, arrow::ListBuilder* b) -> Status {
                      int64_t start = dates ? r.As<arrow::Date32Array>(0).Value(i) : r.I64(0, i);
                      int64_t stop = dates ? r.As<arrow::Date32Array>(1).Value(i) : r.I64(1, i);
                      int64_t step = r.arrays.size() > 2 ? r.I64(2, i) : (start <= stop ? 1 : -1);
                      if (step == 0 || (start < stop && step < 0) || (start > stop && step > 0)) {
                        return ExecutionError(
                            "[INVALID_SEQUENCE_BOUNDARIES] Illegal sequence boundaries: {} to {} by {}",
                            start, stop, step);
                      }
                      int64_t count = (stop - start) / step + 1;
                      if (count > 2147483632) {
                        return ExecutionError(
                            "[COLLECTION_SIZE_LIMIT_EXCEEDED.PARAMETER] Can't create array with {} "
                            "elements which exceeding the array size limit 2147483632",
                            count);
                      }
                      LS_RETURN_NOT_OK(b->Append());
                      auto* vb = static_cast<arrow::Int64Builder*>(b->value_builder());
                      for (int64_t k = 0; k < count; ++k) LS_RETURN_NOT_OK(vb->Append(start + k * step));
                      return Status::OK();
                    }));
                // Built as ARRAY<BIGINT>; cast to the element type.
                arrow::compute::CastOptions co = arrow::compute::CastOptions::Unsafe(out);
                return arrow::compute::Cast(built, co);
              });
}

Result<ResolvedCall> ResolveArraysZip(const CallSite& site) {
  std::vector<std::shared_ptr<arrow::Field>> fields;
  for (size_t k = 0; k < site.arg_types.size(); ++k) {
    if (!IsList(site.arg_types[k])) return TypeMismatch(site, "arrays_zip", "(ARRAY, ...)");
    // Spark names the fields after the argument columns, else "0", "1", ...
    fields.push_back(arrow::field(std::to_string(k), ElementType(site.arg_types[k])));
  }
  auto st = arrow::struct_(fields);
  TypePtr out = arrow::list(st);
  return Call(out, std::vector<TypePtr>(site.arg_types.size(), nullptr),
              [out](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::ListBuilder>(
                    args, length, ctx, out, [&](const Rows& r, int64_t i, arrow::ListBuilder* b) -> Status {
                      int64_t n = 0;
                      for (size_t k = 0; k < r.arrays.size(); ++k) {
                        n = std::max<int64_t>(n, r.As<arrow::ListArray>(k).value_length(i));
                      }
                      LS_RETURN_NOT_OK(b->Append());
                      auto* sb = static_cast<arrow::StructBuilder*>(b->value_builder());
                      for (int64_t e = 0; e < n; ++e) {
                        LS_RETURN_NOT_OK(sb->Append());
                        for (size_t k = 0; k < r.arrays.size(); ++k) {
                          const auto& l = r.As<arrow::ListArray>(k);
                          auto* fb = sb->field_builder(static_cast<int>(k));
                          if (e < l.value_length(i)) {
                            LS_RETURN_NOT_OK(
                                fb->AppendArraySlice(*l.values()->data(), l.value_offset(i) + e, 1));
                          } else {
                            LS_RETURN_NOT_OK(fb->AppendNull());
                          }
                        }
                      }
                      return Status::OK();
                    });
              });
}

Result<ResolvedCall> ResolveMapPart(const CallSite& site, const std::string& name, bool keys) {
  LS_RETURN_NOT_OK(CheckArity(site, name, 1, 1, "(MAP)"));
  if (!IsMap(site.arg_types[0])) return TypeMismatch(site, name, "(MAP)");
  const auto& mt = static_cast<const arrow::MapType&>(*site.arg_types[0]);
  TypePtr out = arrow::list(keys ? mt.key_type() : mt.item_type());
  return Call(out, {nullptr},
              [keys, out](const std::vector<Datum>& args, int64_t length,
                          const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(Rows r, internal::ToRows(args, length, ctx.pool));
                const auto& m = r.As<arrow::MapArray>(0);
                // A map is a list of (key, value) structs: reuse its offsets and validity.
                auto data = arrow::ArrayData::Make(out, m.length(),
                                                   {m.data()->buffers[0], m.data()->buffers[1]},
                                                   {(keys ? m.keys() : m.items())->data()},
                                                   m.data()->null_count, m.offset());
                return internal::FromRows(r, arrow::MakeArray(data));
              });
}

Result<ResolvedCall> ResolveMapFromArrays(const CallSite& site) {
  const char* sig = "(ARRAY keys, ARRAY values)";
  LS_RETURN_NOT_OK(CheckArity(site, "map_from_arrays", 2, 2, sig));
  if (!IsList(site.arg_types[0]) || !IsList(site.arg_types[1])) {
    return TypeMismatch(site, "map_from_arrays", sig);
  }
  TypePtr out = arrow::map(ElementType(site.arg_types[0]), ElementType(site.arg_types[1]));
  return Call(out, {nullptr, nullptr},
              [out](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::MapBuilder>(
                    args, length, ctx, out, [&](const Rows& r, int64_t i, arrow::MapBuilder* b) -> Status {
                      const auto& k = r.As<arrow::ListArray>(0);
                      const auto& v = r.As<arrow::ListArray>(1);
                      if (k.value_length(i) != v.value_length(i)) {
                        return ExecutionError(
                            "[MAP_FROM_ARRAYS_LENGTH_MISMATCH] The key array and value array of "
                            "map_from_arrays must have the same length, but got {} and {}.",
                            k.value_length(i), v.value_length(i));
                      }
                      LS_RETURN_NOT_OK(CheckNoDuplicateKeys(*k.values(), k.value_offset(i),
                                                            k.value_offset(i + 1)));
                      LS_RETURN_NOT_OK(b->Append());
                      LS_RETURN_NOT_OK(b->key_builder()->AppendArraySlice(
                          *k.values()->data(), k.value_offset(i), k.value_length(i)));
                      return b->item_builder()->AppendArraySlice(*v.values()->data(),
                                                                 v.value_offset(i), v.value_length(i));
                    });
              });
}

Result<ResolvedCall> ResolveMapContainsKey(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "map_contains_key", 2, 2, "(MAP, key)"));
  if (!IsMap(site.arg_types[0])) return TypeMismatch(site, "map_contains_key", "(MAP, key)");
  const auto& mt = static_cast<const arrow::MapType&>(*site.arg_types[0]);
  return Call(arrow::boolean(), {nullptr, mt.key_type()},
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::BooleanBuilder>(
                    args, length, ctx, arrow::boolean(), [&](const Rows& r, int64_t i, arrow::BooleanBuilder* b) {
                      const auto& m = r.As<arrow::MapArray>(0);
                      bool hit = false;
                      for (int64_t j = m.value_offset(i); j < m.value_offset(i + 1) && !hit; ++j) {
                        hit = Equal(*m.keys(), j, *r.arrays[1], i);
                      }
                      b->UnsafeAppend(hit);
                      return Status::OK();
                    });
              });
}

// ---------------------------------------------------------------------------
// Set operations and element edits on arrays, map_entries / map_concat /
// map_from_entries / str_to_map.

/// An element of one of two arrays: (values array, index).
struct ElemRef {
  const arrow::Array* vals;
  int64_t j;
};

bool RangeHas(const arrow::Array& vals, int64_t begin, int64_t end, const arrow::Array& x,
              int64_t xi) {
  for (int64_t k = begin; k < end; ++k) {
    if (!vals.IsNull(k) && Equal(vals, k, x, xi)) return true;
  }
  return false;
}

bool RangeHasNull(const arrow::Array& vals, int64_t begin, int64_t end) {
  for (int64_t k = begin; k < end; ++k) {
    if (vals.IsNull(k)) return true;
  }
  return false;
}

/// The common element type of two array arguments, as casts for both.
Result<TypePtr> CommonArrayType(const CallSite& site, const std::string& name) {
  const char* sig = "(ARRAY<T>, ARRAY<T>)";
  LS_RETURN_NOT_OK(CheckArity(site, name, 2, 2, sig));
  if (!IsList(site.arg_types[0]) || !IsList(site.arg_types[1])) {
    return TypeMismatch(site, name, sig);
  }
  LS_ASSIGN_OR_RAISE(TypePtr common, CommonType(ElementType(site.arg_types[0]),
                                                 ElementType(site.arg_types[1]), Ansi(site)));
  return arrow::list(common);
}

enum class SetOp { kUnion, kIntersect, kExcept };

Result<ResolvedCall> ResolveSetOp(const CallSite& site, const std::string& name, SetOp op) {
  LS_ASSIGN_OR_RAISE(TypePtr t, CommonArrayType(site, name));
  return Call(t, {t, t},
              [t, op](const std::vector<Datum>& args, int64_t length,
                      const EvalContext& ctx) -> Result<Datum> {
                std::vector<ElemRef> kept;
                return MapRows<arrow::ListBuilder>(
                    args, length, ctx, t, [&](const Rows& r, int64_t i, arrow::ListBuilder* b) -> Status {
                      const auto& la = r.As<arrow::ListArray>(0);
                      const auto& lb = r.As<arrow::ListArray>(1);
                      const arrow::Array& va = *la.values();
                      const arrow::Array& vb = *lb.values();
                      int64_t b0 = lb.value_offset(i), b1 = lb.value_offset(i + 1);
                      kept.clear();
                      bool null_kept = false;
                      auto consider = [&](const arrow::Array& vals, int64_t j, bool want) {
                        if (!want) return;
                        if (vals.IsNull(j)) {
                          if (!null_kept) kept.push_back({&vals, j});
                          null_kept = true;
                          return;
                        }
                        for (const auto& k : kept) {
                          if (!k.vals->IsNull(k.j) && Equal(*k.vals, k.j, vals, j)) return;
                        }
                        kept.push_back({&vals, j});
                      };
                      bool b_null = RangeHasNull(vb, b0, b1);
                      for (int64_t j = la.value_offset(i); j < la.value_offset(i + 1); ++j) {
                        bool in_b = va.IsNull(j) ? b_null : RangeHas(vb, b0, b1, va, j);
                        consider(va, j, op == SetOp::kUnion || (op == SetOp::kIntersect) == in_b);
                      }
                      if (op == SetOp::kUnion) {
                        for (int64_t j = b0; j < b1; ++j) consider(vb, j, true);
                      }
                      LS_RETURN_NOT_OK(b->Append());
                      for (const auto& k : kept) {
                        LS_RETURN_NOT_OK(b->value_builder()->AppendArraySlice(*k.vals->data(), k.j, 1));
                      }
                      return Status::OK();
                    });
              });
}

Result<ResolvedCall> ResolveArraysOverlap(const CallSite& site) {
  LS_ASSIGN_OR_RAISE(TypePtr t, CommonArrayType(site, "arrays_overlap"));
  return Call(arrow::boolean(), {t, t},
              [](const std::vector<Datum>& args, int64_t length,
                 const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::BooleanBuilder>(
                    args, length, ctx, arrow::boolean(),
                    [&](const Rows& r, int64_t i, arrow::BooleanBuilder* b) -> Status {
                      const auto& la = r.As<arrow::ListArray>(0);
                      const auto& lb = r.As<arrow::ListArray>(1);
                      int64_t a0 = la.value_offset(i), a1 = la.value_offset(i + 1);
                      int64_t b0 = lb.value_offset(i), b1 = lb.value_offset(i + 1);
                      for (int64_t j = a0; j < a1; ++j) {
                        if (!la.values()->IsNull(j) &&
                            RangeHas(*lb.values(), b0, b1, *la.values(), j)) {
                          return b->Append(true);
                        }
                      }
                      // No common element: NULL if both are non-empty and one holds a NULL.
                      if (a1 > a0 && b1 > b0 &&
                          (RangeHasNull(*la.values(), a0, a1) || RangeHasNull(*lb.values(), b0, b1))) {
                        return b->AppendNull();
                      }
                      return b->Append(false);
                    });
              });
}

/// array_remove(a, e): every element equal to e removed (NULLs stay).
Result<ResolvedCall> ResolveArrayRemove(const CallSite& site) {
  const char* sig = "(ARRAY<T>, T)";
  LS_RETURN_NOT_OK(CheckArity(site, "array_remove", 2, 2, sig));
  LS_ASSIGN_OR_RAISE(TypePtr et, ElementArg(site, "array_remove", sig));
  LS_ASSIGN_OR_RAISE(TypePtr common, CommonType(et, site.arg_types[1], Ansi(site)));
  TypePtr t = arrow::list(common);
  return Call(t, {t, common},
              [t](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::ListBuilder>(
                    args, length, ctx, t, [&](const Rows& r, int64_t i, arrow::ListBuilder* b) -> Status {
                      const auto& l = r.As<arrow::ListArray>(0);
                      const auto& vals = *l.values();
                      LS_RETURN_NOT_OK(b->Append());
                      for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
                        if (!vals.IsNull(j) && Equal(vals, j, *r.arrays[1], i)) continue;
                        LS_RETURN_NOT_OK(b->value_builder()->AppendArraySlice(*vals.data(), j, 1));
                      }
                      return Status::OK();
                    });
              });
}

Result<ResolvedCall> ResolveArrayCompact(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "array_compact", 1, 1, "(ARRAY)"));
  LS_ASSIGN_OR_RAISE(TypePtr et, ElementArg(site, "array_compact", "(ARRAY)"));
  TypePtr t = site.arg_types[0];
  return Call(t, {nullptr},
              [t](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                return MapRows<arrow::ListBuilder>(
                    args, length, ctx, t, [&](const Rows& r, int64_t i, arrow::ListBuilder* b) -> Status {
                      const auto& l = r.As<arrow::ListArray>(0);
                      const auto& vals = *l.values();
                      LS_RETURN_NOT_OK(b->Append());
                      for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
                        if (vals.IsNull(j)) continue;
                        LS_RETURN_NOT_OK(b->value_builder()->AppendArraySlice(*vals.data(), j, 1));
                      }
                      return Status::OK();
                    });
              });
}

/// array_append (append = true) / array_prepend: a NULL array gives NULL, a NULL element is added.
Result<ResolvedCall> ResolveArrayAddOne(const CallSite& site, const std::string& name, bool append) {
  const char* sig = "(ARRAY<T>, T)";
  LS_RETURN_NOT_OK(CheckArity(site, name, 2, 2, sig));
  LS_ASSIGN_OR_RAISE(TypePtr et, ElementArg(site, name, sig));
  LS_ASSIGN_OR_RAISE(TypePtr common, CommonType(et, site.arg_types[1], Ansi(site)));
  TypePtr t = arrow::list(common);
  return Call(t, {t, common},
              [t, append](const std::vector<Datum>& args, int64_t length,
                          const EvalContext& ctx) -> Result<Datum> {
                return MapAllRows<arrow::ListBuilder>(
                    args, length, ctx, t, [&](const Rows& r, int64_t i, arrow::ListBuilder* b) -> Status {
                      if (r.IsNull(0, i)) return b->AppendNull();
                      const auto& l = r.As<arrow::ListArray>(0);
                      LS_RETURN_NOT_OK(b->Append());
                      auto* vb = b->value_builder();
                      if (!append) LS_RETURN_NOT_OK(vb->AppendArraySlice(*r.arrays[1]->data(), i, 1));
                      LS_RETURN_NOT_OK(vb->AppendArraySlice(*l.values()->data(), l.value_offset(i),
                                                            l.value_length(i)));
                      if (append) LS_RETURN_NOT_OK(vb->AppendArraySlice(*r.arrays[1]->data(), i, 1));
                      return Status::OK();
                    });
              },
              false);
}

/// array_insert(a, pos, e): 1-based pos, negative from the end (-1 appends),
/// padding with NULLs past either end (Spark 4 semantics).
Result<ResolvedCall> ResolveArrayInsert(const CallSite& site) {
  const char* sig = "(ARRAY<T>, INT pos, T)";
  LS_RETURN_NOT_OK(CheckArity(site, "array_insert", 3, 3, sig));
  LS_ASSIGN_OR_RAISE(TypePtr et, ElementArg(site, "array_insert", sig));
  if (!internal::IsIntCoercible(*site.arg_types[1])) return TypeMismatch(site, "array_insert", sig);
  LS_ASSIGN_OR_RAISE(TypePtr common, CommonType(et, site.arg_types[2], Ansi(site)));
  TypePtr t = arrow::list(common);
  return Call(t, {t, arrow::int32(), common},
              [t](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                return MapAllRows<arrow::ListBuilder>(
                    args, length, ctx, t, [&](const Rows& r, int64_t i, arrow::ListBuilder* b) -> Status {
                      if (r.IsNull(0, i) || r.IsNull(1, i)) return b->AppendNull();
                      int64_t pos = r.I32(1, i);
                      if (pos == 0) {
                        return ExecutionError(
                            "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be "
                            "either < 0 or > 0 (the first element has index 1).");
                      }
                      const auto& l = r.As<arrow::ListArray>(0);
                      const auto& vals = *l.values()->data();
                      int64_t off = l.value_offset(i), n = l.value_length(i);
                      const auto& elem = *r.arrays[2]->data();
                      LS_RETURN_NOT_OK(b->Append());
                      auto* vb = b->value_builder();
                      // Zero-based insertion index; negative means NULL padding in front.
                      int64_t idx = pos > 0 ? pos - 1 : n + pos + 1;
                      if (idx < 0) {
                        LS_RETURN_NOT_OK(vb->AppendArraySlice(elem, i, 1));
                        LS_RETURN_NOT_OK(vb->AppendNulls(-idx));
                        return vb->AppendArraySlice(vals, off, n);
                      }
                      if (idx >= n) {
                        LS_RETURN_NOT_OK(vb->AppendArraySlice(vals, off, n));
                        LS_RETURN_NOT_OK(vb->AppendNulls(idx - n));
                        return vb->AppendArraySlice(elem, i, 1);
                      }
                      LS_RETURN_NOT_OK(vb->AppendArraySlice(vals, off, idx));
                      LS_RETURN_NOT_OK(vb->AppendArraySlice(elem, i, 1));
                      return vb->AppendArraySlice(vals, off + idx, n - idx);
                    });
              },
              false);
}

/// array_repeat(e, n): e repeated n times (NULL e repeats NULL; n < 0 is empty).
Result<ResolvedCall> ResolveArrayRepeat(const CallSite& site) {
  const char* sig = "(T, INT count)";
  LS_RETURN_NOT_OK(CheckArity(site, "array_repeat", 2, 2, sig));
  if (!internal::IsIntCoercible(*site.arg_types[1])) return TypeMismatch(site, "array_repeat", sig);
  TypePtr t = arrow::list(site.arg_types[0]);
  return Call(t, {nullptr, arrow::int32()},
              [t](const std::vector<Datum>& args, int64_t length,
                  const EvalContext& ctx) -> Result<Datum> {
                return MapAllRows<arrow::ListBuilder>(
                    args, length, ctx, t, [&](const Rows& r, int64_t i, arrow::ListBuilder* b) -> Status {
                      if (r.IsNull(1, i)) return b->AppendNull();
                      LS_RETURN_NOT_OK(b->Append());
                      for (int32_t k = 0; k < r.I32(1, i); ++k) {
                        LS_RETURN_NOT_OK(b->value_builder()->AppendArraySlice(*r.arrays[0]->data(), i, 1));
                      }
                      return Status::OK();
                    });
              },
              false);
}

Result<ResolvedCall> ResolveMapEntries(const CallSite& site) {
  LS_RETURN_NOT_OK(CheckArity(site, "map_entries", 1, 1, "(MAP)"));
  if (!IsMap(site.arg_types[0])) return TypeMismatch(site, "map_entries", "(MAP)");
  const auto& mt = static_cast<const arrow::MapType&>(*site.arg_types[0]);
  TypePtr out = arrow::list(mt.value_type());
  return Call(out, {nullptr},
              [out](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(Rows r, internal::ToRows(args, length, ctx.pool));
                const auto& m = r.As<arrow::MapArray>(0);
                // A map is a list of (key, value) structs: reuse offsets, validity and entries.
                auto data = arrow::ArrayData::Make(out, m.length(),
                                                   {m.data()->buffers[0], m.data()->buffers[1]},
                                                   {m.values()->data()}, m.data()->null_count,
                                                   m.offset());
                return internal::FromRows(r, arrow::MakeArray(data));
              });
}

/// Checks every row of a built map array for NULL / duplicate keys.
Status CheckMapRows(const arrow::Array& built) {
  const auto& m = static_cast<const arrow::MapArray&>(built);
  for (int64_t i = 0; i < m.length(); ++i) {
    if (m.IsNull(i)) continue;
    LS_RETURN_NOT_OK(CheckNoDuplicateKeys(*m.keys(), m.value_offset(i), m.value_offset(i + 1)));
  }
  return Status::OK();
}

Result<ResolvedCall> ResolveMapConcat(const CallSite& site) {
  const char* sig = "(MAP, ...)";
  TypePtr out;
  if (site.arg_types.empty()) {
    out = arrow::map(arrow::utf8(), arrow::utf8());
  } else {
    for (const auto& t : site.arg_types) {
      if (!IsMap(t)) return TypeMismatch(site, "map_concat", sig);
    }
    std::vector<TypePtr> keys, items;
    for (const auto& t : site.arg_types) {
      keys.push_back(static_cast<const arrow::MapType&>(*t).key_type());
      items.push_back(static_cast<const arrow::MapType&>(*t).item_type());
    }
    LS_ASSIGN_OR_RAISE(TypePtr k, CommonType(keys, Ansi(site)));
    LS_ASSIGN_OR_RAISE(TypePtr v, CommonType(items, Ansi(site)));
    out = arrow::map(k, v);
  }
  std::vector<TypePtr> casts(site.arg_types.size(), out);
  return Call(out, casts,
              [out](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(Rows r, internal::ToRows(args, length, ctx.pool));
                LS_ASSIGN_OR_RAISE(auto b, internal::MakeTypedBuilder<arrow::MapBuilder>(out, ctx.pool));
                for (int64_t i = 0; i < r.length; ++i) {
                  if (r.AnyNull(i)) {
                    LS_RETURN_NOT_OK(b->AppendNull());
                    continue;
                  }
                  LS_RETURN_NOT_OK(b->Append());
                  for (size_t k = 0; k < r.arrays.size(); ++k) {
                    const auto& m = r.As<arrow::MapArray>(k);
                    LS_RETURN_NOT_OK(b->key_builder()->AppendArraySlice(
                        *m.keys()->data(), m.value_offset(i), m.value_length(i)));
                    LS_RETURN_NOT_OK(b->item_builder()->AppendArraySlice(
                        *m.items()->data(), m.value_offset(i), m.value_length(i)));
                  }
                }
                std::shared_ptr<arrow::Array> res;
                LS_RETURN_NOT_OK(b->Finish(&res));
                LS_RETURN_NOT_OK(CheckMapRows(*res));
                return internal::FromRows(r, res);
              },
              false);
}

Result<ResolvedCall> ResolveMapFromEntries(const CallSite& site) {
  const char* sig = "(ARRAY<STRUCT<key, value>>)";
  LS_RETURN_NOT_OK(CheckArity(site, "map_from_entries", 1, 1, sig));
  if (!IsList(site.arg_types[0]) || ElementType(site.arg_types[0])->id() != arrow::Type::STRUCT ||
      ElementType(site.arg_types[0])->num_fields() != 2) {
    return TypeMismatch(site, "map_from_entries", sig);
  }
  TypePtr st = ElementType(site.arg_types[0]);
  TypePtr out = arrow::map(st->field(0)->type(), st->field(1)->type());
  return Call(out, {nullptr},
              [out](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(Rows r, internal::ToRows(args, length, ctx.pool));
                LS_ASSIGN_OR_RAISE(auto b, internal::MakeTypedBuilder<arrow::MapBuilder>(out, ctx.pool));
                const auto& l = r.As<arrow::ListArray>(0);
                const auto& s = static_cast<const arrow::StructArray&>(*l.values());
                for (int64_t i = 0; i < r.length; ++i) {
                  bool null_entry = false;
                  if (!l.IsNull(i)) {
                    for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
                      null_entry |= s.IsNull(j);
                    }
                  }
                  // Spark: a NULL array or a NULL entry gives a NULL map.
                  if (l.IsNull(i) || null_entry) {
                    LS_RETURN_NOT_OK(b->AppendNull());
                    continue;
                  }
                  LS_RETURN_NOT_OK(b->Append());
                  for (int64_t j = l.value_offset(i); j < l.value_offset(i + 1); ++j) {
                    LS_RETURN_NOT_OK(b->key_builder()->AppendArraySlice(*s.field(0)->data(), j, 1));
                    LS_RETURN_NOT_OK(b->item_builder()->AppendArraySlice(*s.field(1)->data(), j, 1));
                  }
                }
                std::shared_ptr<arrow::Array> res;
                LS_RETURN_NOT_OK(b->Finish(&res));
                LS_RETURN_NOT_OK(CheckMapRows(*res));
                return internal::FromRows(r, res);
              });
}

/// str_to_map(text[, pairDelim=','[, keyValueDelim=':']]). Spark reads the
/// delimiters as regexes; here they are matched literally, which is the same
/// for the usual single punctuation characters.
Result<ResolvedCall> ResolveStrToMap(const CallSite& site) {
  const char* sig = "(STRING[, STRING pairDelim[, STRING keyValueDelim]])";
  LS_RETURN_NOT_OK(CheckArity(site, "str_to_map", 1, 3, sig));
  for (const auto& t : site.arg_types) {
    if (!internal::IsStringCoercible(*t)) return TypeMismatch(site, "str_to_map", sig);
  }
  TypePtr out = arrow::map(arrow::utf8(), arrow::utf8());
  std::vector<TypePtr> casts(site.arg_types.size(), arrow::utf8());
  return Call(out, casts,
              [out](const std::vector<Datum>& args, int64_t length,
                    const EvalContext& ctx) -> Result<Datum> {
                LS_ASSIGN_OR_RAISE(Rows r, internal::ToRows(args, length, ctx.pool));
                LS_ASSIGN_OR_RAISE(auto b, internal::MakeTypedBuilder<arrow::MapBuilder>(out, ctx.pool));
                auto* kb = static_cast<arrow::StringBuilder*>(b->key_builder());
                auto* vb = static_cast<arrow::StringBuilder*>(b->item_builder());
                auto split = [](std::string_view s, std::string_view d, size_t limit) {
                  std::vector<std::string_view> parts;
                  size_t start = 0;
                  while (!d.empty() && parts.size() + 1 < limit) {
                    size_t at = s.find(d, start);
                    if (at == std::string_view::npos) break;
                    parts.push_back(s.substr(start, at - start));
                    start = at + d.size();
                  }
                  parts.push_back(s.substr(start));
                  return parts;
                };
                for (int64_t i = 0; i < r.length; ++i) {
                  if (r.AnyNull(i)) {
                    LS_RETURN_NOT_OK(b->AppendNull());
                    continue;
                  }
                  std::string_view pair_d = r.arrays.size() > 1 ? r.Str(1, i) : ",";
                  std::string_view kv_d = r.arrays.size() > 2 ? r.Str(2, i) : ":";
                  LS_RETURN_NOT_OK(b->Append());
                  for (auto pair : split(r.Str(0, i), pair_d, SIZE_MAX)) {
                    auto kv = split(pair, kv_d, 2);
                    LS_RETURN_NOT_OK(kb->Append(kv[0]));
                    LS_RETURN_NOT_OK(kv.size() > 1 ? vb->Append(kv[1]) : vb->AppendNull());
                  }
                }
                std::shared_ptr<arrow::Array> res;
                LS_RETURN_NOT_OK(b->Finish(&res));
                LS_RETURN_NOT_OK(CheckMapRows(*res));
                return internal::FromRows(r, res);
              });
}

}  // namespace

Result<std::shared_ptr<arrow::RecordBatch>> ExplodeBatch(
    const std::shared_ptr<arrow::RecordBatch>& batch, int list_column_index, bool outer,
    bool with_position) {
  auto col = batch->column(list_column_index);
  bool is_map = col->type_id() == arrow::Type::MAP;
  if (col->type_id() != arrow::Type::LIST && !is_map) {
    return UserError("explode expects an ARRAY or MAP column but column {} is {}",
                     batch->schema()->field(list_column_index)->name(), types::ToDDL(*col->type()));
  }
  const auto& l = static_cast<const arrow::ListArray&>(*col);  // MapArray is a ListArray
  arrow::Int64Builder parent, elem;
  arrow::Int32Builder pos;
  int64_t n = batch->num_rows();
  for (int64_t i = 0; i < n; ++i) {
    int64_t len = l.IsNull(i) ? 0 : l.value_length(i);
    if (len == 0) {
      if (outer) {
        LS_RETURN_NOT_OK(parent.Append(i));
        LS_RETURN_NOT_OK(elem.AppendNull());
        LS_RETURN_NOT_OK(pos.AppendNull());
      }
      continue;
    }
    int64_t off = l.value_offset(i);
    for (int64_t k = 0; k < len; ++k) {
      LS_RETURN_NOT_OK(parent.Append(i));
      LS_RETURN_NOT_OK(elem.Append(off + k));
      if (with_position) LS_RETURN_NOT_OK(pos.Append(static_cast<int32_t>(k)));
    }
  }
  std::shared_ptr<arrow::Array> parent_idx, elem_idx, pos_arr;
  LS_RETURN_NOT_OK(parent.Finish(&parent_idx));
  LS_RETURN_NOT_OK(elem.Finish(&elem_idx));
  LS_RETURN_NOT_OK(pos.Finish(&pos_arr));
  std::vector<std::shared_ptr<arrow::Field>> fields;
  std::vector<std::shared_ptr<arrow::Array>> columns;
  for (int c = 0; c < batch->num_columns(); ++c) {
    if (c == list_column_index) continue;
    LS_ASSIGN_OR_RAISE(Datum taken, arrow::compute::Take(batch->column(c), parent_idx));
    fields.push_back(batch->schema()->field(c));
    columns.push_back(taken.make_array());
  }
  if (with_position) {
    fields.push_back(arrow::field("pos", arrow::int32(), outer));
    columns.push_back(pos_arr);
  }
  if (is_map) {
    const auto& m = static_cast<const arrow::MapArray&>(*col);
    LS_ASSIGN_OR_RAISE(Datum keys, arrow::compute::Take(m.keys(), elem_idx));
    LS_ASSIGN_OR_RAISE(Datum vals, arrow::compute::Take(m.items(), elem_idx));
    fields.push_back(arrow::field("key", m.keys()->type(), outer));
    fields.push_back(arrow::field("value", m.items()->type()));
    columns.push_back(keys.make_array());
    columns.push_back(vals.make_array());
  } else {
    LS_ASSIGN_OR_RAISE(Datum vals, arrow::compute::Take(l.values(), elem_idx));
    fields.push_back(arrow::field("col", l.values()->type()));
    columns.push_back(vals.make_array());
  }
  return arrow::RecordBatch::Make(arrow::schema(fields), parent_idx->length(), columns);
}

void RegisterCollectionFunctions(FunctionRegistry* r) {
  Add(r, "array", ResolveArray);
  Add(r, "map", ResolveMap);
  Add(r, "struct", ResolveStruct);
  Add(r, "named_struct", ResolveNamedStruct);
  Add(r, "get_field", ResolveGetField);
  Add(r, "element_at", [](const CallSite& s) { return ResolveIndex(s, "element_at", IndexMode::kElementAt); });
  Add(r, "try_element_at",
      [](const CallSite& s) { return ResolveIndex(s, "try_element_at", IndexMode::kTryElementAt); });
  Add(r, "subscript", [](const CallSite& s) { return ResolveIndex(s, "subscript", IndexMode::kSubscript); });
  Add(r, "get", [](const CallSite& s) { return ResolveIndex(s, "get", IndexMode::kGet); });
  Add(r, "size", [](const CallSite& s) { return ResolveSize(s, "size"); });
  Add(r, "cardinality", [](const CallSite& s) { return ResolveSize(s, "cardinality"); });
  r->AddAlias("array_size", "size");
  Add(r, "array_contains",
      [](const CallSite& s) { return ResolveContainsOrPosition(s, "array_contains", false); });
  Add(r, "array_position",
      [](const CallSite& s) { return ResolveContainsOrPosition(s, "array_position", true); });
  Add(r, "array_max", [](const CallSite& s) { return ResolveArrayMinMax(s, "array_max", true); });
  Add(r, "array_min", [](const CallSite& s) { return ResolveArrayMinMax(s, "array_min", false); });
  Add(r, "array_distinct", ResolveArrayDistinct);
  Add(r, "array_join", ResolveArrayJoin);
  Add(r, "array_sort", [](const CallSite& s) { return ResolveSort(s, "array_sort", false); });
  Add(r, "sort_array", [](const CallSite& s) { return ResolveSort(s, "sort_array", true); });
  Add(r, "flatten", ResolveFlatten);
  Add(r, "slice", ResolveSlice);
  Add(r, "sequence", ResolveSequence);
  Add(r, "arrays_zip", ResolveArraysZip);
  Add(r, "map_keys", [](const CallSite& s) { return ResolveMapPart(s, "map_keys", true); });
  Add(r, "map_values", [](const CallSite& s) { return ResolveMapPart(s, "map_values", false); });
  Add(r, "map_from_arrays", ResolveMapFromArrays);
  Add(r, "map_contains_key", ResolveMapContainsKey);
  Add(r, "array_union", [](const CallSite& s) { return ResolveSetOp(s, "array_union", SetOp::kUnion); });
  Add(r, "array_intersect",
      [](const CallSite& s) { return ResolveSetOp(s, "array_intersect", SetOp::kIntersect); });
  Add(r, "array_except",
      [](const CallSite& s) { return ResolveSetOp(s, "array_except", SetOp::kExcept); });
  Add(r, "arrays_overlap", ResolveArraysOverlap);
  Add(r, "array_remove", ResolveArrayRemove);
  Add(r, "array_compact", ResolveArrayCompact);
  Add(r, "array_append", [](const CallSite& s) { return ResolveArrayAddOne(s, "array_append", true); });
  Add(r, "array_prepend",
      [](const CallSite& s) { return ResolveArrayAddOne(s, "array_prepend", false); });
  Add(r, "array_insert", ResolveArrayInsert);
  Add(r, "array_repeat", ResolveArrayRepeat);
  Add(r, "map_entries", ResolveMapEntries);
  Add(r, "map_concat", ResolveMapConcat);
  Add(r, "map_from_entries", ResolveMapFromEntries);
  Add(r, "str_to_map", ResolveStrToMap);
}

}  // namespace lakestream::expr
