// Java regular expressions (what Spark's rlike, regexp_*, split use) on RE2.
// RE2 covers the common subset; Java-only syntax (lookaround, backreferences,
// possessive quantifiers) fails with a clear user error instead of crashing.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lakestream::expr::internal {

/// Compiles a Java regex for function `fn`. `case_insensitive`/`dot_all` add
/// the flags LIKE/ILIKE need.
Result<std::shared_ptr<const RE2>> CompileJavaRegex(std::string_view pattern, std::string_view fn,
                                                    bool dot_all = false,
                                                    bool case_insensitive = false);

/// Spark's LIKE pattern (with `escape`) as an RE2 pattern matching the whole string.
Result<std::string> LikeToRegex(std::string_view pattern, char escape);

/// A Java Matcher.replaceAll replacement ("$1", "\\$") as an RE2 rewrite ("\\1", "$").
Result<std::string> JavaReplacementToRewrite(std::string_view replacement, int num_groups);

/// Remembers the last compiled pattern so a non-literal pattern column that
/// repeats one value compiles once per batch, not per row.
class RegexCache {
 public:
  RegexCache(std::string fn, bool dot_all = false, bool case_insensitive = false)
      : fn_(std::move(fn)), dot_all_(dot_all), case_insensitive_(case_insensitive) {}
  Result<const RE2*> Get(std::string_view pattern) {
    if (!re_ || pattern != pattern_) {
      LS_ASSIGN_OR_RAISE(re_, CompileJavaRegex(pattern, fn_, dot_all_, case_insensitive_));
      pattern_ = std::string(pattern);
    }
    return re_.get();
  }

 private:
  std::string fn_;
  bool dot_all_;
  bool case_insensitive_;
  std::string pattern_;
  std::shared_ptr<const RE2> re_;
};

}  // namespace lakestream::expr::internal
