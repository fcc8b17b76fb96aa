// Durations written as Spark's window() and withWatermark() accept them:
// "10 seconds", "1 minute 30 seconds", "INTERVAL 5 MINUTES", "500 ms".
#include <algorithm>
#include <cctype>
#include <charconv>

#include "types/types.h"

namespace lakestream::types {

Result<int64_t> ParseDurationMicros(std::string_view text) {
  std::string s(text);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  std::vector<std::string> tok;
  for (size_t i = 0; i < s.size();) {
    if (isspace(static_cast<unsigned char>(s[i])) || s[i] == '\'') {
      ++i;
      continue;
    }
    size_t j = i;
    if (isdigit(static_cast<unsigned char>(s[i])) || s[i] == '-' || s[i] == '.') {
      while (j < s.size() &&
             (isdigit(static_cast<unsigned char>(s[j])) || s[j] == '-' || s[j] == '.'))
        ++j;
    } else {
      while (j < s.size() && isalpha(static_cast<unsigned char>(s[j]))) ++j;
      if (j == i) return UserError("cannot parse duration '{}'", text);
    }
    tok.push_back(s.substr(i, j - i));
    i = j;
  }
  if (!tok.empty() && tok[0] == "interval") tok.erase(tok.begin());
  if (tok.empty() || tok.size() % 2 != 0) {
    return UserError(
        "cannot parse duration '{}': expected '<number> <unit>' pairs such as '10 seconds'", text);
  }
  double total = 0;
  for (size_t i = 0; i < tok.size(); i += 2) {
    double n = 0;
    auto [p, ec] = std::from_chars(tok[i].data(), tok[i].data() + tok[i].size(), n);
    if (ec != std::errc() || p != tok[i].data() + tok[i].size()) {
      return UserError("cannot parse duration '{}': '{}' is not a number", text, tok[i]);
    }
    std::string u = tok[i + 1];
    if (u.size() > 1 && u.back() == 's' && u != "ms" && u != "us") u.pop_back();
    double scale = 0;
    if (u == "microsecond" || u == "us") scale = 1;
    if (u == "millisecond" || u == "ms") scale = 1e3;
    if (u == "second" || u == "sec" || u == "s") scale = 1e6;
    if (u == "minute" || u == "min" || u == "m") scale = 60e6;
    if (u == "hour" || u == "h") scale = 3600e6;
    if (u == "day" || u == "d") scale = 86400e6;
    if (u == "week") scale = 7 * 86400e6;
    if (scale == 0) {
      return UserError(
          "cannot parse duration '{}': unknown unit '{}' (microseconds to weeks; months vary in "
          "length)",
          text, tok[i + 1]);
    }
    total += n * scale;
  }
  return static_cast<int64_t>(total);
}

}  // namespace lakestream::types
