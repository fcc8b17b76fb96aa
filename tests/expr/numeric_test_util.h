// Test harness for the cast / arithmetic / comparison / math tests: resolves a
// function for argument types taken from Arrow values (scalars are literals),
// applies the implicit casts the binder would insert, and runs the kernel.
#pragma once

#include <arrow/api.h>
#include <arrow/json/from_string.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "expr/cast.h"
#include "expr/function.h"

namespace lakestream::expr::testing {

inline std::shared_ptr<arrow::Array> J(const std::shared_ptr<arrow::DataType>& t,
                                       const std::string& json) {
  return arrow::json::ArrayFromJSONString(t, json).ValueOrDie();
}

/// A literal (scalar) argument from one JSON value.
inline arrow::Datum L(const std::shared_ptr<arrow::DataType>& t, const std::string& json) {
  return arrow::Datum(J(t, "[" + json + "]")->GetScalar(0).ValueOrDie());
}

class Harness {
 public:
  explicit Harness(bool ansi = true, std::string tz = "UTC") {
    config_.ansi = ansi;
    config_.time_zone = std::move(tz);
    ctx_.config = &config_;
    ctx_.now_micros = 1700000000000000LL;  // 2023-11-14 22:13:20 UTC
    RegisterArithmeticFunctions(&registry_);
    RegisterComparisonFunctions(&registry_);
    RegisterMathFunctions(&registry_);
  }

  const EvalContext& ctx() const { return ctx_; }
  SessionConfig& config() { return config_; }

  Result<ResolvedCall> Resolve(const std::string& name, const std::vector<arrow::Datum>& args) {
    const ScalarFunction* f = registry_.FindScalar(name);
    if (f == nullptr) return Status::Invalid("no function ", name);
    CallSite site;
    site.config = &config_;
    for (const auto& a : args) {
      site.arg_types.push_back(a.type());
      site.literal_args.push_back(a.is_scalar() ? a.scalar() : nullptr);
    }
    return f->resolve(site);
  }

  /// Resolves, casts the arguments as the binder would, and runs the call.
  Result<arrow::Datum> Call(const std::string& name, const std::vector<arrow::Datum>& args) {
    ARROW_ASSIGN_OR_RAISE(auto rc, Resolve(name, args));
    int64_t length = 1;
    std::vector<arrow::Datum> cast_args;
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i].is_array()) length = args[i].length();
      arrow::Datum a = args[i];
      if (i < rc.arg_types.size() && rc.arg_types[i] && !a.type()->Equals(*rc.arg_types[i])) {
        ARROW_ASSIGN_OR_RAISE(
            a, Cast(a, rc.arg_types[i], ctx_.ansi() ? CastMode::kAnsi : CastMode::kLegacy, ctx_));
      }
      cast_args.push_back(a);
    }
    ARROW_ASSIGN_OR_RAISE(auto out, rc.exec(cast_args, length, ctx_));
    if (!out.type()->Equals(*rc.result_type)) {
      return Status::Invalid("result type ", out.type()->ToString(), " but resolved ",
                             rc.result_type->ToString());
    }
    return out;
  }

  Result<std::shared_ptr<arrow::Array>> CallArray(const std::string& name,
                                                  const std::vector<arrow::Datum>& args) {
    ARROW_ASSIGN_OR_RAISE(auto out, Call(name, args));
    if (out.is_scalar()) return arrow::MakeArrayFromScalar(*out.scalar(), 1);
    return out.make_array();
  }

  Result<std::shared_ptr<arrow::Array>> CastArray(const std::shared_ptr<arrow::Array>& in,
                                                  const std::shared_ptr<arrow::DataType>& to,
                                                  CastMode mode) {
    ARROW_ASSIGN_OR_RAISE(auto out, Cast(arrow::Datum(in), to, mode, ctx_));
    return out.make_array();
  }

 private:
  SessionConfig config_;
  EvalContext ctx_;
  FunctionRegistry registry_;
};

/// Expects `actual` to equal the JSON array `expected` of type `type` (NaN equal to NaN).
inline void ExpectArray(const Result<std::shared_ptr<arrow::Array>>& actual,
                        const std::shared_ptr<arrow::DataType>& type, const std::string& expected) {
  ASSERT_TRUE(actual.ok()) << actual.status().ToString();
  auto want = J(type, expected);
  EXPECT_TRUE((*actual)->Equals(*want, arrow::EqualOptions::Defaults().nans_equal(true)))
      << "got " << (*actual)->ToString() << " (" << (*actual)->type()->ToString() << ")\nwant "
      << want->ToString() << " (" << type->ToString() << ")";
}

/// Expects an error whose message contains `fragment`.
template <typename T>
void ExpectError(const Result<T>& r, const std::string& fragment) {
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << fragment;
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().ToString();
}

}  // namespace lakestream::expr::testing
