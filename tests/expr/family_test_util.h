// Test harness for the string / datetime / JSON / hash / collection function
// tests: the numeric harness's helpers (J, L, ExpectArray, ExpectError) over a
// registry holding these families. Expected values marked "Spark 4.0.1" were
// checked against pyspark 4.0.1 (local mode, session time zone UTC).
#pragma once

#include "numeric_test_util.h"

namespace lakestream::expr::testing {

class FamilyHarness {
 public:
  explicit FamilyHarness(bool ansi = true, std::string tz = "UTC") {
    config_.ansi = ansi;
    config_.time_zone = std::move(tz);
    ctx_.config = &config_;
    ctx_.now_micros = 1700000000000000LL;  // 2023-11-14 22:13:20 UTC
    RegisterStringFunctions(&registry_);
    RegisterDatetimeFunctions(&registry_);
    RegisterJsonFunctions(&registry_);
    RegisterHashFunctions(&registry_);
    RegisterCollectionFunctions(&registry_);
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

 private:
  SessionConfig config_;
  EvalContext ctx_;
  FunctionRegistry registry_;
};

inline arrow::Datum S(const std::string& json_array) {
  return arrow::Datum(J(arrow::utf8(), json_array));
}
inline arrow::Datum LS(const std::string& s) {
  return arrow::Datum(std::make_shared<arrow::StringScalar>(s));
}
inline arrow::Datum LI(int32_t v) { return arrow::Datum(std::make_shared<arrow::Int32Scalar>(v)); }

}  // namespace lakestream::expr::testing
