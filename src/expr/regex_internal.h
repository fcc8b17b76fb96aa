// Java regular expressions (what Spark's rlike, regexp_*, split use), run by
// Arrow's regex kernels (match_substring_regex, replace_substring_regex,
// extract_regex, split_pattern_regex), which use the RE2 bundled inside
// libarrow_compute. We must not call the system libre2 directly: libarrow_compute
// exports its own, newer re2 symbols, the dynamic linker binds some of the
// system library's internal calls to them, and the mismatched layouts deadlock
// (seen in RE2::Match -> RE2::ReverseProg). RE2 covers Java's common subset;
// Java-only syntax (lookaround, backreferences, possessive quantifiers) fails
// with a clear user error.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lakestream::expr::internal {

/// A Java regex translated to RE2 syntax and validated.
struct JavaRegex {
  std::string source;    // as the user wrote it
  std::string pattern;   // RE2 syntax (flags applied)
  std::string numbered;  // capturing groups renamed (?P<g1>..), (?P<g2>..), whole match (?P<g0>..)
  int num_groups = 0;
  bool matches_empty = false;  // the pattern can match "" (Java's replaceAll differs from RE2's)
};

/// Translates and validates a Java regex for function `fn`. `dot_all` and
/// `case_insensitive` add the flags LIKE and ILIKE need.
Result<std::shared_ptr<const JavaRegex>> CompileJavaRegex(std::string_view pattern,
                                                          std::string_view fn,
                                                          bool dot_all = false,
                                                          bool case_insensitive = false);

/// Spark's LIKE pattern (with `escape`) as an RE2 pattern matching the whole string.
Result<std::string> LikeToRegex(std::string_view pattern, char escape);

/// A Java Matcher.replaceAll replacement ("$1", "\\$") as an RE2 rewrite ("\\1", "$").
Result<std::string> JavaReplacementToRewrite(std::string_view replacement, int num_groups);

/// RE2::QuoteMeta equivalent (escapes everything but [A-Za-z0-9_] and UTF-8).
std::string QuoteRegex(std::string_view s);

/// Remembers the last compiled pattern so a pattern column that repeats one
/// value compiles once per batch, not per row.
class RegexCache {
 public:
  explicit RegexCache(std::string fn, bool dot_all = false, bool case_insensitive = false)
      : fn_(std::move(fn)), dot_all_(dot_all), case_insensitive_(case_insensitive) {}
  Result<const JavaRegex*> Get(std::string_view pattern) {
    if (!re_ || pattern != re_->source) {
      LS_ASSIGN_OR_RAISE(re_, CompileJavaRegex(pattern, fn_, dot_all_, case_insensitive_));
    }
    return re_.get();
  }

 private:
  std::string fn_;
  bool dot_all_;
  bool case_insensitive_;
  std::shared_ptr<const JavaRegex> re_;
};

}  // namespace lakestream::expr::internal
