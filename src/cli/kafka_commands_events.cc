// Clickstream records for `lakestream generate` (see kafka_commands_events.h).
// Hot path: one fmt::format_to into a reused buffer per record, no other
// allocation; all randomness from one seeded xoshiro256** stream.
#include "cli/kafka_commands_events.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <string_view>

namespace lakestream::cli {
namespace {

uint64_t SplitMix64(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// A value picked by cumulative weight; weights need not sum to 1.
template <size_t N>
std::string_view Pick(const std::array<std::pair<std::string_view, double>, N>& table, double u) {
  double total = 0;
  for (const auto& e : table) total += e.second;
  double x = u * total;
  for (const auto& e : table) {
    if (x < e.second) return e.first;
    x -= e.second;
  }
  return table.back().first;
}

constexpr std::array<std::pair<std::string_view, double>, 5> kEventTypes{{
    {"page_view", 55}, {"click", 20}, {"search", 12}, {"add_to_cart", 9}, {"purchase", 4}}};
constexpr std::array<std::pair<std::string_view, double>, 10> kCountries{{
    {"US", 30}, {"DE", 12}, {"GB", 10}, {"FR", 8}, {"IN", 9}, {"BR", 7}, {"JP", 6}, {"CA", 6}, {"NL", 6}, {"ES", 6}}};
constexpr std::array<std::pair<std::string_view, double>, 3> kDevices{{{"mobile", 55}, {"desktop", 38}, {"tablet", 7}}};
constexpr std::array<std::pair<std::string_view, double>, 7> kReferrers{{
    {"direct", 40}, {"google", 30}, {"facebook", 8}, {"newsletter", 7}, {"bing", 5}, {"instagram", 5}, {"partner", 5}}};
constexpr std::array<std::string_view, 8> kCategories{"shoes", "books", "garden", "toys", "music", "kitchen", "sports", "beauty"};
constexpr std::array<std::string_view, 8> kSearchTerms{"running+shoes", "coffee", "lego", "headphones", "desk+lamp", "yoga+mat", "novel", "usb-c+cable"};

// Deterministic list price of a product in cents: 1.00 .. 499.99.
int64_t PriceCents(int64_t product_id) { return static_cast<int64_t>((static_cast<uint64_t>(product_id) * 2654435761ULL) % 49900) + 100; }

}  // namespace

void AppendIsoTimestampMillis(int64_t epoch_ms, std::string* out) {
  // Floor division so that times before 1970 still format correctly.
  int64_t days = epoch_ms >= 0 ? epoch_ms / 86400000 : -((-epoch_ms + 86399999) / 86400000);
  int64_t ms_of_day = epoch_ms - days * 86400000;
  // Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil inverse).
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t year = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t day = doy - (153 * mp + 2) / 5 + 1;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  if (month <= 2) ++year;
  fmt::format_to(std::back_inserter(*out), "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", year, month, day,
                 ms_of_day / 3600000, ms_of_day / 60000 % 60, ms_of_day / 1000 % 60, ms_of_day % 1000);
}

ClickstreamGenerator::ClickstreamGenerator(const ClickstreamOptions& options) : options_(options) {
  options_.user_count = std::max<int64_t>(options_.user_count, 1);
  options_.product_count = std::max<int64_t>(options_.product_count, 1);
  uint64_t s = options_.seed;
  for (auto& word : state_) word = SplitMix64(&s);
  user_sessions_.assign(static_cast<size_t>(options_.user_count), 1);
}

uint64_t ClickstreamGenerator::NextRandom() {
  // xoshiro256** (Blackman & Vigna): fast, and good enough for synthetic data.
  const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = Rotl(state_[3], 45);
  return result;
}

double ClickstreamGenerator::NextUniform() { return static_cast<double>(NextRandom() >> 11) * 0x1.0p-53; }

int64_t ClickstreamGenerator::Skewed(int64_t n) {
  // u^3 concentrates mass near 0: about 1/3 of the events go to the first 4% of ids.
  double u = NextUniform();
  return 1 + std::min<int64_t>(n - 1, static_cast<int64_t>(u * u * u * static_cast<double>(n)));
}

void ClickstreamGenerator::Next(int64_t now_ms, std::string* key, std::string* value) {
  key->clear();
  value->clear();
  int64_t event_id = options_.first_event_id + produced_;
  ++produced_;
  int64_t event_time = now_ms;
  if (NextUniform() < options_.late_ratio) {
    event_time -= 1 + static_cast<int64_t>(NextUniform() * static_cast<double>(options_.max_lateness_ms));
  }
  if (options_.malformed_ratio > 0 && NextUniform() < options_.malformed_ratio) {
    ++malformed_;
    WriteMalformed(event_id, event_time, key, value);
  } else {
    WriteEvent(event_id, event_time, key, value);
  }
}

void ClickstreamGenerator::WriteEvent(int64_t event_id, int64_t event_time_ms, std::string* key, std::string* value) {
  const int64_t user = Skewed(options_.user_count);
  uint32_t& session = user_sessions_[static_cast<size_t>(user - 1)];
  if (NextUniform() < 0.03) ++session;  // a new visit about every 30 events of a user
  const std::string_view type = Pick(kEventTypes, NextUniform());
  int64_t product = 0;  // 0: no product on this page
  std::string_view page_kind;
  std::string_view page_arg;
  if (type == "page_view") {
    double u = NextUniform();
    if (u < 0.45) {
      product = Skewed(options_.product_count);
    } else if (u < 0.65) {
      page_kind = "/";
    } else if (u < 0.90) {
      page_kind = "/category/";
      page_arg = kCategories[NextRandom() % kCategories.size()];
    } else {
      page_kind = "/deals";
    }
  } else if (type == "search") {
    page_kind = "/search?q=";
    page_arg = kSearchTerms[NextRandom() % kSearchTerms.size()];
  } else if (type == "purchase") {
    product = Skewed(options_.product_count);
    page_kind = "/checkout";
  } else {  // click, add_to_cart
    product = Skewed(options_.product_count);
  }
  const std::string_view country = Pick(kCountries, NextUniform());
  const std::string_view device = Pick(kDevices, NextUniform());
  const std::string_view referrer = Pick(kReferrers, NextUniform());

  fmt::format_to(std::back_inserter(*key), "{}", user);
  auto out = std::back_inserter(*value);
  fmt::format_to(out, "{{\"event_id\":{},\"event_time\":\"", event_id);
  AppendIsoTimestampMillis(event_time_ms, value);
  fmt::format_to(out, "\",\"user_id\":{},\"session_id\":\"s-{}-{}\",\"event_type\":\"{}\",\"page\":\"", user, user, session, type);
  if (page_kind.empty()) {
    fmt::format_to(out, "/products/{}", product);
  } else {
    fmt::format_to(out, "{}{}", page_kind, page_arg);
  }
  value->append("\",\"product_id\":");
  if (product > 0) {
    fmt::format_to(out, "{}", product);
  } else {
    value->append("null");
  }
  value->append(",\"price\":");
  if (product > 0 && (type == "add_to_cart" || type == "purchase")) {
    int64_t cents = PriceCents(product);
    fmt::format_to(out, "{}.{:02d}", cents / 100, cents % 100);
  } else {
    value->append("null");
  }
  fmt::format_to(out, ",\"country\":\"{}\",\"device\":\"{}\",\"referrer\":\"{}\"}}", country, device, referrer);
}

void ClickstreamGenerator::WriteMalformed(int64_t event_id, int64_t event_time_ms, std::string* key, std::string* value) {
  switch (NextRandom() % 3) {
    case 0: {  // truncated JSON: a good event cut short, as a crashed writer leaves it
      WriteEvent(event_id, event_time_ms, key, value);
      value->resize(1 + NextRandom() % (value->size() - 1));
      break;
    }
    case 1: {  // wrong types: every field present, event_id and event_time unusable
      const int64_t user = Skewed(options_.user_count);
      fmt::format_to(std::back_inserter(*key), "{}", user);
      fmt::format_to(std::back_inserter(*value),
                     "{{\"event_id\":\"id-{}\",\"event_time\":{},\"user_id\":\"{}\",\"session_id\":{},"
                     "\"event_type\":42,\"page\":null,\"product_id\":\"n/a\",\"price\":\"free\","
                     "\"country\":1,\"device\":[],\"referrer\":{{}}}}",
                     event_id, event_time_ms, user, user);
      break;
    }
    default: {  // garbage bytes, not UTF-8 (0xff never occurs in UTF-8)
      fmt::format_to(std::back_inserter(*key), "{}", Skewed(options_.user_count));
      size_t n = 8 + NextRandom() % 57;
      value->push_back(static_cast<char>(0xff));
      while (value->size() < n) value->push_back(static_cast<char>(NextRandom() & 0xff));
      break;
    }
  }
}

}  // namespace lakestream::cli
