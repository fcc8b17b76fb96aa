// Event generators of `lakestream generate`: realistic JSON records (key and
// value bytes) for demos, tests and benchmarks. Content is a pure function of
// the seed and the sequence number, except event_time, which is "now" minus a
// little lateness drawn from the same seeded stream.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lakestream::cli {

/// Settings of the clickstream generator; plain data.
struct ClickstreamOptions {
  uint64_t seed = 42;                // --seed: same seed, same records (but event_time)
  double malformed_ratio = 0.01;     // --malformed-ratio: share of broken records, 0..1
  double late_ratio = 0.03;          // share of events whose event_time lags "now"
  int64_t max_lateness_ms = 5000;    // how far a late event lags, drawn uniformly in (0, max]
  int64_t user_count = 100000;       // distinct user_id values (skewed: a few users are busy)
  int64_t product_count = 5000;      // distinct product_id values (skewed)
  int64_t first_event_id = 1;        // event_id of the first record; +1 per record
};

/// Clickstream events, one JSON object per record:
/// {"event_id": 17, "event_time": "2026-11-25T22:14:36.123Z", "user_id": 4711,
///  "session_id": "s-4711-3", "event_type": "add_to_cart", "page": "/products/123",
///  "product_id": 123, "price": 19.99, "country": "DE", "device": "mobile",
///  "referrer": "google"}
/// product_id is null on pages without a product; price is set only for
/// add_to_cart and purchase. The key is the user_id in decimal.
/// A malformed record (share malformed_ratio) is one of: truncated JSON, a JSON
/// object with wrong types (event_id a string, event_time a number), or
/// random bytes that are not valid UTF-8. Malformed records use up an event_id.
class ClickstreamGenerator {
 public:
  explicit ClickstreamGenerator(const ClickstreamOptions& options);

  /// Writes the next record into key and value (both cleared first).
  /// now_ms: wall-clock milliseconds since the epoch, UTC.
  void Next(int64_t now_ms, std::string* key, std::string* value);

  /// How many records Next produced, and how many of them were malformed.
  int64_t produced() const { return produced_; }
  int64_t malformed() const { return malformed_; }

 private:
  uint64_t NextRandom();
  double NextUniform();  // [0, 1)
  int64_t Skewed(int64_t n);  // in [1, n], small values more likely
  void WriteEvent(int64_t event_id, int64_t event_time_ms, std::string* key, std::string* value);
  void WriteMalformed(int64_t event_id, int64_t event_time_ms, std::string* key, std::string* value);

  ClickstreamOptions options_;
  uint64_t state_[4];
  std::vector<uint32_t> user_sessions_;  // per user: the number of its current session
  int64_t produced_ = 0;
  int64_t malformed_ = 0;
};

/// "2026-11-25T22:14:36.123Z" for milliseconds since the epoch (UTC), appended to out.
void AppendIsoTimestampMillis(int64_t epoch_ms, std::string* out);

}  // namespace lakestream::cli
