// Nexmark records for `lakestream generate --kind nexmark` (see
// nexmark_events.h). The id arithmetic (LastBase0PersonId, ...) is Nexmark's
// own; randomness is one seeded xoshiro256** stream instead of
// java.util.Random, so the distributions match Nexmark's but not its bytes.
// Hot path: appends into one reused buffer, a few random words per string.
#include "cli/nexmark_events.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <string_view>

namespace lakestream::cli {
namespace {

// Nexmark's constants (Beam's NexmarkGenerator / Flink nexmark's GeneratorConfig).
constexpr int64_t kPersonProportion = 1;
constexpr int64_t kAuctionProportion = 3;
constexpr int64_t kBidProportion = 46;
constexpr int64_t kTotalProportion = kPersonProportion + kAuctionProportion + kBidProportion;
constexpr int64_t kFirstPersonId = 1000;
constexpr int64_t kFirstAuctionId = 1000;
constexpr int64_t kFirstCategoryId = 10;
constexpr int64_t kNumCategories = 5;
constexpr int64_t kPersonIdLead = 10;
constexpr int64_t kAuctionIdLead = 10;
constexpr int64_t kHotSellerRatio = 100;
constexpr int64_t kHotAuctionRatio = 100;
constexpr int64_t kHotBidderRatio = 100;
constexpr int64_t kHotChannelsRatio = 2;
constexpr int64_t kChannelsNumber = 10000;
constexpr int kMinStringLength = 3;

constexpr std::string_view kFirstNames[] = {"Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
                                            "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::string_view kLastNames[] = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                           "Walton", "Smith",  "Jones",   "Noris"};
constexpr std::string_view kUsStates[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::string_view kUsCities[] = {"Phoenix", "Los Angeles", "San Francisco", "Boise",   "Portland",
                                          "Bend",    "Redmond",     "Seattle",       "Kent",    "Cheyenne"};
constexpr std::string_view kHotChannels[] = {"Google", "Facebook", "Baidu", "Apple"};

uint64_t SplitMix64(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

template <size_t N>
std::string_view PickFrom(const std::string_view (&table)[N], uint64_t r) {
  return table[r % N];
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  char* end = buf + sizeof(buf);
  char* p = end;
  uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    *--p = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (v < 0) *--p = '-';
  out->append(p, static_cast<size_t>(end - p));
}

void Append2(int v, char* p) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// Java's Integer.reverse (bit order of a 32-bit int), then Math.abs.
int64_t AbsReversedBits(int32_t i) {
  uint32_t x = static_cast<uint32_t>(i), r = 0;
  for (int b = 0; b < 32; ++b) r |= ((x >> b) & 1u) << (31 - b);
  return std::abs(static_cast<int64_t>(static_cast<int32_t>(r)));
}

}  // namespace

NexmarkGenerator::NexmarkGenerator(const NexmarkOptions& options) : options_(options) {
  options_.event_rate = options_.event_rate > 0 ? options_.event_rate : 10000;
  options_.num_active_people = std::max<int64_t>(options_.num_active_people, 1);
  options_.num_in_flight_auctions = std::max<int64_t>(options_.num_in_flight_auctions, 1);
  options_.hot_auction_ratio = std::max(options_.hot_auction_ratio, 1);
  options_.hot_sellers_ratio = std::max(options_.hot_sellers_ratio, 1);
  options_.hot_bidders_ratio = std::max(options_.hot_bidders_ratio, 1);
  uint64_t s = options_.seed;
  for (auto& word : state_) word = SplitMix64(&s);
  // The urls of the hot channels and of the other 10000 channels are fixed
  // per seed, as Flink nexmark's channel cache fixes them per run.
  for (auto& url : hot_urls_) url = BaseUrl();
  channel_urls_.reserve(kChannelsNumber);
  for (int64_t i = 0; i < kChannelsNumber; ++i) {
    channel_urls_.push_back(BaseUrl() + "&channel_id=" + std::to_string(AbsReversedBits(static_cast<int32_t>(i))));
  }
}

uint64_t NexmarkGenerator::NextRandom() {
  // xoshiro256** (Blackman & Vigna).
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

int64_t NexmarkGenerator::NextLong(int64_t n) {
  // Lemire's multiply-shift: uniform enough for n far below 2^64.
  return static_cast<int64_t>((static_cast<unsigned __int128>(NextRandom()) * static_cast<uint64_t>(n)) >> 64);
}

int64_t NexmarkGenerator::NextPrice() {
  // Log-uniform in [1.00, 10000.00] dollars, in cents, as Nexmark's nextPrice.
  const double u = static_cast<double>(NextRandom() >> 11) * 0x1.0p-53;
  return std::llround(std::exp(u * 6.0 * 2.302585092994046) * 100.0);  // 10^(6u) dollars
}

int64_t NexmarkGenerator::TimestampForEvent(int64_t event_number) const {
  return options_.base_time_ms + static_cast<int64_t>(static_cast<double>(event_number) * 1000.0 / options_.event_rate);
}

int64_t NexmarkGenerator::LastBase0PersonId(int64_t event_id) const {
  int64_t epoch = event_id / kTotalProportion;
  int64_t offset = event_id % kTotalProportion;
  if (offset >= kPersonProportion) offset = kPersonProportion - 1;  // the epoch's person is already out
  return epoch * kPersonProportion + offset;
}

int64_t NexmarkGenerator::LastBase0AuctionId(int64_t event_id) const {
  int64_t epoch = event_id / kTotalProportion;
  int64_t offset = event_id % kTotalProportion;
  if (offset < kPersonProportion) {
    // Before this epoch's first auction: the last one is the previous epoch's.
    --epoch;
    offset = kAuctionProportion - 1;
  } else if (offset >= kPersonProportion + kAuctionProportion) {
    offset = kAuctionProportion - 1;  // among the bids: all the epoch's auctions are out
  } else {
    offset -= kPersonProportion;
  }
  return epoch * kAuctionProportion + offset;
}

int64_t NexmarkGenerator::NextBase0PersonId(int64_t event_id) {
  // One of the active people, or one of the next few (joins must find them later).
  const int64_t num_people = LastBase0PersonId(event_id) + 1;
  const int64_t active = std::min(num_people, options_.num_active_people);
  return num_people - active + NextLong(active + kPersonIdLead);
}

int64_t NexmarkGenerator::NextBase0AuctionId(int64_t event_id) {
  const int64_t max_auction = LastBase0AuctionId(event_id);
  const int64_t min_auction = std::max<int64_t>(max_auction - options_.num_in_flight_auctions, 0);
  return min_auction + NextLong(max_auction - min_auction + 1 + kAuctionIdLead);
}

void NexmarkGenerator::AppendExactString(int64_t length, char special, std::string* out) {
  // One random byte per character through a table: 20/256 (about Nexmark's
  // 1/13) are `special`, the rest spread over a..z.
  static const std::array<char, 256> kLetters = [] {
    std::array<char, 256> t{};
    for (unsigned b = 0; b < 256; ++b) t[b] = b < 20 ? '\0' : static_cast<char>('a' + (b - 20) % 26);
    return t;
  }();
  if (length <= 0) return;
  const size_t start = out->size();
  out->resize(start + static_cast<size_t>(length));
  char* p = out->data() + start;
  int64_t i = 0;
  for (; i + 8 <= length; i += 8) {
    uint64_t bits = NextRandom();
    for (int k = 0; k < 8; ++k, bits >>= 8) {
      const char c = kLetters[bits & 0xff];
      p[i + k] = c == '\0' ? special : c;
    }
  }
  if (i < length) {
    uint64_t bits = NextRandom();
    for (; i < length; ++i, bits >>= 8) {
      const char c = kLetters[bits & 0xff];
      p[i] = c == '\0' ? special : c;
    }
  }
}

void NexmarkGenerator::AppendString(int max_length, char special, std::string* out) {
  const size_t start = out->size();
  AppendExactString(kMinStringLength + NextLong(max_length - kMinStringLength), special, out);
  // Nexmark trims the string: no leading or trailing spaces.
  size_t end = out->size();
  while (end > start && (*out)[end - 1] == ' ') --end;
  size_t first = start;
  while (first < end && (*out)[first] == ' ') ++first;
  if (first > start) out->erase(start, first - start);
  out->resize(end - (first - start));
}

void NexmarkGenerator::AppendExtra(int64_t current_size, int64_t desired_average, std::string* out) {
  if (current_size > desired_average) return;
  const int64_t desired = desired_average - current_size;
  const int64_t delta = std::llround(static_cast<double>(desired) * 0.2);
  const int64_t min_size = desired - delta;
  const int64_t size = min_size + (delta == 0 ? 0 : NextLong(2 * delta));
  AppendExactString(size, ' ', out);
}

std::string NexmarkGenerator::BaseUrl() {
  std::string url = "https://www.nexmark.com/";
  AppendString(5, '_', &url);
  url += '/';
  AppendString(5, '_', &url);
  url += '/';
  AppendString(5, '_', &url);
  url += "/item.htm?query=1";
  return url;
}

void NexmarkGenerator::AppendTimestamp(int64_t epoch_ms, std::string* out) {
  int64_t day = epoch_ms >= 0 ? epoch_ms / 86400000 : -((-epoch_ms + 86399999) / 86400000);
  if (day != cached_day_) {
    // Civil date from days since 1970-01-01 (H. Hinnant's civil_from_days).
    int64_t z = day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t year = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    if (month <= 2) ++year;
    auto text = fmt::format("{:04d}-{:02d}-{:02d} ", year, month, d);
    std::memcpy(cached_date_, text.data(), 11);
    cached_day_ = day;
  }
  const int64_t ms = epoch_ms - day * 86400000;
  char buf[23];
  std::memcpy(buf, cached_date_, 11);
  Append2(static_cast<int>(ms / 3600000), buf + 11);
  buf[13] = ':';
  Append2(static_cast<int>(ms / 60000 % 60), buf + 14);
  buf[16] = ':';
  Append2(static_cast<int>(ms / 1000 % 60), buf + 17);
  buf[19] = '.';
  const int frac = static_cast<int>(ms % 1000);
  buf[20] = static_cast<char>('0' + frac / 100);
  Append2(frac % 100, buf + 21);
  out->append(buf, sizeof(buf));
}

void NexmarkGenerator::Next(std::string* value) {
  value->clear();
  const int64_t event_number = produced_;
  const int64_t event_id = options_.first_event_id + event_number;
  const int64_t timestamp = TimestampForEvent(event_number);
  ++produced_;
  const int64_t rem = event_id % kTotalProportion;
  if (rem < kPersonProportion) {
    ++by_type_[0];
    WritePerson(event_id, timestamp, value);
  } else if (rem < kPersonProportion + kAuctionProportion) {
    ++by_type_[1];
    WriteAuction(event_number, event_id, timestamp, value);
  } else {
    ++by_type_[2];
    WriteBid(event_id, timestamp, value);
  }
}

void NexmarkGenerator::WritePerson(int64_t event_id, int64_t timestamp, std::string* out) {
  out->append(R"({"event_type":0,"person":{"id":)");
  AppendInt(LastBase0PersonId(event_id) + kFirstPersonId, out);
  out->append(R"(,"name":")");
  size_t fields = out->size();
  out->append(PickFrom(kFirstNames, NextRandom()));
  out->push_back(' ');
  out->append(PickFrom(kLastNames, NextRandom()));
  size_t size = out->size() - fields;
  out->append(R"(","emailAddress":")");
  fields = out->size();
  AppendString(7, ' ', out);
  out->push_back('@');
  AppendString(5, ' ', out);
  out->append(".com");
  size += out->size() - fields;
  out->append(R"(","creditCard":")");
  for (int i = 0; i < 4; ++i) {
    if (i > 0) out->push_back(' ');
    char digits[4];
    int64_t n = NextLong(10000);
    for (int d = 3; d >= 0; --d, n /= 10) digits[d] = static_cast<char>('0' + n % 10);
    out->append(digits, 4);
  }
  size += 19;
  const std::string_view city = PickFrom(kUsCities, NextRandom());
  const std::string_view state = PickFrom(kUsStates, NextRandom());
  out->append(R"(","city":")");
  out->append(city);
  out->append(R"(","state":")");
  out->append(state);
  size += city.size() + state.size();
  out->append(R"(","dateTime":")");
  AppendTimestamp(timestamp, out);
  out->append(R"(","extra":")");
  AppendExtra(8 + static_cast<int64_t>(size), options_.avg_person_bytes, out);
  out->append(R"("},"auction":null,"bid":null})");
}

void NexmarkGenerator::WriteAuction(int64_t event_number, int64_t event_id, int64_t timestamp, std::string* out) {
  const int64_t id = LastBase0AuctionId(event_id) + kFirstAuctionId;
  int64_t seller;
  if (NextLong(options_.hot_sellers_ratio) > 0) {
    // The hot seller: the latest person whose id is a multiple of 100.
    seller = (LastBase0PersonId(event_id) / kHotSellerRatio) * kHotSellerRatio;
  } else {
    seller = NextBase0PersonId(event_id);
  }
  seller += kFirstPersonId;
  const int64_t category = kFirstCategoryId + NextLong(kNumCategories);
  const int64_t initial_bid = NextPrice();
  // Auctions run until about twice the time it takes for the in-flight
  // auctions to be replaced, so that most bids find an open auction.
  const int64_t events_for_auctions = (options_.num_in_flight_auctions * kTotalProportion) / kAuctionProportion;
  const int64_t horizon_ms = TimestampForEvent(event_number + events_for_auctions) - timestamp;
  const int64_t expires = timestamp + 1 + NextLong(std::max<int64_t>(horizon_ms * 2, 1));
  out->append(R"({"event_type":1,"person":null,"auction":{"id":)");
  AppendInt(id, out);
  out->append(R"(,"itemName":")");
  size_t fields = out->size();
  AppendString(20, ' ', out);
  size_t size = out->size() - fields;
  out->append(R"(","description":")");
  fields = out->size();
  AppendString(100, ' ', out);
  size += out->size() - fields;
  const int64_t reserve = initial_bid + NextPrice();
  out->append(R"(","initialBid":)");
  AppendInt(initial_bid, out);
  out->append(R"(,"reserve":)");
  AppendInt(reserve, out);
  out->append(R"(,"dateTime":")");
  AppendTimestamp(timestamp, out);
  out->append(R"(","expires":")");
  AppendTimestamp(expires, out);
  out->append(R"(","seller":)");
  AppendInt(seller, out);
  out->append(R"(,"category":)");
  AppendInt(category, out);
  out->append(R"(,"extra":")");
  AppendExtra(8 + static_cast<int64_t>(size) + 8 * 5, options_.avg_auction_bytes, out);
  out->append(R"("},"bid":null})");
}

void NexmarkGenerator::WriteBid(int64_t event_id, int64_t timestamp, std::string* out) {
  int64_t auction;
  if (NextLong(options_.hot_auction_ratio) > 0) {
    // The hot auction: the latest auction whose id is a multiple of 100.
    auction = (LastBase0AuctionId(event_id) / kHotAuctionRatio) * kHotAuctionRatio;
  } else {
    auction = NextBase0AuctionId(event_id);
  }
  auction += kFirstAuctionId;
  int64_t bidder;
  if (NextLong(options_.hot_bidders_ratio) > 0) {
    // The hot bidder: one past a multiple of 100, so not the hot seller (as Nexmark).
    bidder = (LastBase0PersonId(event_id) / kHotBidderRatio) * kHotBidderRatio + 1;
  } else {
    bidder = NextBase0PersonId(event_id);
  }
  bidder += kFirstPersonId;
  const int64_t price = NextPrice();
  std::string_view channel;
  const std::string* url;
  std::string channel_name;
  if (NextLong(kHotChannelsRatio) > 0) {
    const int64_t i = NextLong(4);
    channel = kHotChannels[i];
    url = &hot_urls_[static_cast<size_t>(i)];
  } else {
    const int64_t i = NextLong(kChannelsNumber);
    channel_name = "channel-";
    AppendInt(i, &channel_name);
    channel = channel_name;
    url = &channel_urls_[static_cast<size_t>(i)];
  }
  out->append(R"({"event_type":2,"person":null,"auction":null,"bid":{"auction":)");
  AppendInt(auction, out);
  out->append(R"(,"bidder":)");
  AppendInt(bidder, out);
  out->append(R"(,"price":)");
  AppendInt(price, out);
  out->append(R"(,"channel":")");
  out->append(channel);
  out->append(R"(","url":")");
  out->append(*url);
  out->append(R"(","dateTime":")");
  AppendTimestamp(timestamp, out);
  out->append(R"(","extra":")");
  AppendExtra(32, options_.avg_bid_bytes, out);
  out->append(R"("}})");
}

}  // namespace lakestream::cli
