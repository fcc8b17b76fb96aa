// The Nexmark event generator of `lakestream generate --kind nexmark`: the
// persons, auctions and bids of the Nexmark benchmark, following the model of
// Apache Beam's NexmarkGenerator and Flink's nexmark (the 1:3:46 mix, hot
// auctions, sellers and bidders, ids that refer to earlier persons and
// auctions, log-uniform prices, dateTime advancing with the event rate), as
// one JSON record per event in Flink nexmark's one-topic layout. Content is a
// pure function of the options (seed, base time, event rate).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace lakestream::cli {

/// Settings of the Nexmark generator; plain data. Defaults are Nexmark's.
struct NexmarkOptions {
  uint64_t seed = 42;                     // --seed: same options, same records
  int64_t base_time_ms = 1767225600000;   // dateTime of the first event (2026-01-01 00:00:00 UTC)
  double event_rate = 10000;              // events per second of event time: event n is at base + n / rate
  int64_t first_event_id = 0;             // id of the first event (its place in the 1:3:46 cycle)
  int64_t num_active_people = 1000;       // persons that new auctions and bids pick from
  int64_t num_in_flight_auctions = 100;   // auctions that bids pick from
  int hot_auction_ratio = 2;              // 1 - 1/ratio of bids go to the hot auction
  int hot_sellers_ratio = 4;              // 1 - 1/ratio of auctions come from the hot seller
  int hot_bidders_ratio = 4;              // 1 - 1/ratio of bids come from the hot bidder
  int avg_person_bytes = 200;             // 'extra' pads records to about these sizes
  int avg_auction_bytes = 500;
  int avg_bid_bytes = 100;
};

/// Nexmark events, one JSON object per record, as Flink nexmark's Kafka table:
///   {"event_type":0,"person":{"id":1000,"name":"Peter Jones","emailAddress":"..","creditCard":"1234 ..",
///    "city":"Boise","state":"ID","dateTime":"2026-01-01 00:00:00.000","extra":".."},"auction":null,"bid":null}
///   {"event_type":1,"person":null,"auction":{"id":1000,"itemName":"..","description":"..","initialBid":..,
///    "reserve":..,"dateTime":"..","expires":"..","seller":1000,"category":10,"extra":".."},"bid":null}
///   {"event_type":2,"person":null,"auction":null,"bid":{"auction":1000,"bidder":1001,"price":..,
///    "channel":"Google","url":"https://www.nexmark.com/..","dateTime":"..","extra":".."}}
/// Event n (from 0) has id first_event_id + n; id % 50 < 1 is a person, < 4 an
/// auction, else a bid. Person ids and auction ids count from 1000 in order
/// of generation. A seller or bidder is a person already generated, or one of
/// the next 10 (Nexmark's PERSON_ID_LEAD); a bid's auction is one of the
/// latest num_in_flight_auctions auctions or one of the next 10
/// (AUCTION_ID_LEAD). dateTime is "YYYY-MM-DD HH:MM:SS.fff" in UTC, the form
/// Flink's json format ('SQL' standard), Spark and lakestream read as a
/// TIMESTAMP. No key (null): Flink nexmark writes round-robin.
class NexmarkGenerator {
 public:
  explicit NexmarkGenerator(const NexmarkOptions& options);

  /// Writes the next record into value (cleared first).
  void Next(std::string* value);

  /// How many records Next produced in all, and per event_type (0, 1, 2).
  int64_t produced() const { return produced_; }
  const std::array<int64_t, 3>& produced_by_type() const { return by_type_; }

 private:
  uint64_t NextRandom();
  int64_t NextLong(int64_t n);  // uniform in [0, n), n >= 1
  int64_t NextPrice();
  int64_t TimestampForEvent(int64_t event_number) const;
  int64_t LastBase0PersonId(int64_t event_id) const;
  int64_t LastBase0AuctionId(int64_t event_id) const;
  int64_t NextBase0PersonId(int64_t event_id);
  int64_t NextBase0AuctionId(int64_t event_id);
  // Nexmark's nextString: 3..max_length-1 characters of [a-z ], trimmed.
  void AppendString(int max_length, char special, std::string* out);
  // Nexmark's nextExtra: pads a record of current_size bytes to about desired_average.
  void AppendExtra(int64_t current_size, int64_t desired_average, std::string* out);
  void AppendExactString(int64_t length, char special, std::string* out);
  void AppendTimestamp(int64_t epoch_ms, std::string* out);
  std::string BaseUrl();

  void WritePerson(int64_t event_id, int64_t timestamp, std::string* out);
  void WriteAuction(int64_t event_number, int64_t event_id, int64_t timestamp, std::string* out);
  void WriteBid(int64_t event_id, int64_t timestamp, std::string* out);

  NexmarkOptions options_;
  uint64_t state_[4];
  int64_t produced_ = 0;
  std::array<int64_t, 3> by_type_{};
  std::array<std::string, 4> hot_urls_;
  std::vector<std::string> channel_urls_;  // url of "channel-<i>", as Flink nexmark's cache
  // Formatting cache of AppendTimestamp: the "YYYY-MM-DD " of cached_day_.
  int64_t cached_day_ = INT64_MIN;
  char cached_date_[11] = {};
};

}  // namespace lakestream::cli
