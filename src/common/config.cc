#include "common/config.h"

#include <algorithm>
#include <cctype>

namespace lakestream {

namespace {
std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
bool ParseBool(const std::string& v, bool* out) {
  auto l = Lower(v);
  if (l == "true") return *out = true, true;
  if (l == "false") return *out = false, true;
  return false;
}
}  // namespace

bool SessionConfig::Set(const std::string& key, const std::string& value, std::string* error) {
  auto k = Lower(key);
  try {
    if (k == "spark.sql.ansi.enabled") {
      if (!ParseBool(value, &ansi)) return *error = "expected true or false for " + key, false;
    } else if (k == "spark.sql.session.timezone") {
      time_zone = value;
    } else if (k == "spark.sql.casesensitive") {
      if (!ParseBool(value, &case_sensitive)) return *error = "expected true or false for " + key, false;
    } else if (k == "spark.sql.shuffle.partitions") {
      shuffle_partitions = std::stoi(value);
      if (shuffle_partitions <= 0) return *error = key + " must be positive", false;
    } else if (k == "lakestream.memory.limit") {
      memory_limit = std::stoll(value);
    } else if (k == "lakestream.threads") {
      threads = std::stoi(value);
    }
  } catch (const std::exception&) {
    *error = "invalid value '" + value + "' for " + key;
    return false;
  }
  raw[key] = value;
  return true;
}

}  // namespace lakestream
