// `lakestream broker` and `lakestream generate`: the embedded Kafka broker
// (librdkafka's mock cluster, the real wire protocol on loopback) and a rate-
// controlled producer of generated events. Both speak librdkafka's C API
// directly; neither holds engine logic.
#include <dlfcn.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/kafka_commands_events.h"
#include "cli/nexmark_events.h"

// librdkafka's mock cluster (2.0.2 and 2.12) always binds its listeners to
// 127.0.0.1:0 and has no option to choose the port. To honour
// `broker --port P` we interpose bind(): while a thread has a port override
// active (only around rd_kafka_mock_cluster_new, which creates every
// listener synchronously on the calling thread), a loopback AF_INET bind to
// port 0 is redirected to the next requested port. Every other bind, on any
// other thread or outside that window, goes straight to libc. This works
// because the executable's definition of `bind` precedes libc's in the
// dynamic symbol lookup of librdkafka.so.
namespace {
thread_local int mock_listener_next_port = 0;  // 0: no override
}  // namespace

extern "C" int bind(int fd, const struct sockaddr* addr, socklen_t len) noexcept {
  using BindFn = int (*)(int, const struct sockaddr*, socklen_t);
  static BindFn libc_bind = reinterpret_cast<BindFn>(dlsym(RTLD_NEXT, "bind"));
  if (mock_listener_next_port > 0 && addr != nullptr && addr->sa_family == AF_INET &&
      len >= sizeof(sockaddr_in)) {
    sockaddr_in sin;
    std::memcpy(&sin, addr, sizeof(sin));
    if (sin.sin_port == 0) {
      sin.sin_port = htons(static_cast<uint16_t>(mock_listener_next_port++));
      return libc_bind(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof(sin));
    }
  }
  return libc_bind(fd, addr, len);
}

namespace lakestream::cli {
namespace {

// Signals: SIGINT/SIGTERM only count; the main loops poll the counter. One
// signal asks for a clean stop, a second one for giving up on the flush.
volatile std::sig_atomic_t stop_signals = 0;

void OnStopSignal(int) { stop_signals = stop_signals + 1; }

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A peer that vanishes mid-write must cost a connection, not the process.
  signal(SIGPIPE, SIG_IGN);
}

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
  void operator()(rd_kafka_topic_t* rkt) const { rd_kafka_topic_destroy(rkt); }
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
  void operator()(rd_kafka_mock_cluster_t* mc) const { rd_kafka_mock_cluster_destroy(mc); }
};
template <typename T>
using KafkaPtr = std::unique_ptr<T, KafkaDeleter>;

bool SetConf(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "Error: Kafka property %s=%s: %s\n", key.c_str(), value.c_str(), errstr);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- broker

struct BrokerArgs {
  int partitions = 4;  // partitions of the --topic topics (auto-created ones get the mock's 4)
  int port = 0;        // first listener port; 0: any free port
  int brokers = 1;
  std::vector<std::string> topics;
};

// True if 127.0.0.1:port can be bound now. librdkafka aborts (an
// assertion in rd_kafka_mock_cluster_destroy) when a mock listener cannot
// bind, so a taken port must be found before creating the cluster.
bool LoopbackPortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof(sin)) == 0;
  close(fd);
  return ok;
}

int RunBroker(const BrokerArgs& args) {
  InstallStopHandlers();
  if (args.port > 0) {
    if (args.port + args.brokers - 1 > 65535) {
      std::fprintf(stderr, "Error: --port %d with --brokers %d needs ports beyond 65535\n",
                   args.port, args.brokers);
      return 2;
    }
    for (int p = args.port; p < args.port + args.brokers; ++p) {
      if (!LoopbackPortFree(p)) {
        std::fprintf(stderr, "Error: cannot listen on 127.0.0.1:%d: %s\n", p, std::strerror(errno));
        return 1;
      }
    }
  }
  // librdkafka's mock cluster thread (2.0.2 at least) ends its loop when poll() fails,
  // EINTR included, and then rd_kafka_mock_cluster_destroy waits forever for
  // it. So the stop signals are blocked while librdkafka creates its threads
  // (they inherit the mask) and reach only this thread, which polls for them.
  sigset_t stop_set, old_set;
  sigemptyset(&stop_set);
  sigaddset(&stop_set, SIGINT);
  sigaddset(&stop_set, SIGTERM);
  // (Restored by hand below: the error returns end the process anyway.)
  pthread_sigmask(SIG_BLOCK, &stop_set, &old_set);
  // The mock cluster needs a client handle for its bookkeeping; it never sends.
  KafkaPtr<rd_kafka_conf_t> conf(rd_kafka_conf_new());
  if (!SetConf(conf.get(), "log_level", "4")) return 2;
  char errstr[512];
  KafkaPtr<rd_kafka_t> rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf.release(), errstr, sizeof(errstr)));
  if (!rk) {
    std::fprintf(stderr, "Error: cannot create the mock cluster's client handle: %s\n", errstr);
    return 1;
  }
  mock_listener_next_port = args.port;
  KafkaPtr<rd_kafka_mock_cluster_t> cluster(rd_kafka_mock_cluster_new(rk.get(), args.brokers));
  mock_listener_next_port = 0;
  if (!cluster) {
    if (args.port > 0) {
      std::fprintf(stderr,
                   "Error: cannot start the mock broker on 127.0.0.1:%d..%d (port in use?)\n",
                   args.port, args.port + args.brokers - 1);
    } else {
      std::fprintf(stderr,
                   "Error: cannot start the mock Kafka cluster (see librdkafka's log above)\n");
    }
    return 1;
  }
  const std::string bootstraps = rd_kafka_mock_cluster_bootstraps(cluster.get());
  if (args.port > 0 && bootstraps.find(":" + std::to_string(args.port)) == std::string::npos) {
    std::fprintf(stderr, "Warning: could not choose the listener port %d; listening on %s\n",
                 args.port, bootstraps.c_str());
  }
  for (const auto& topic : args.topics) {
    auto err = rd_kafka_mock_topic_create(cluster.get(), topic.c_str(), args.partitions,
                                          std::min(3, args.brokers));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "Error: cannot create topic '%s' with %d partitions: %s\n",
                   topic.c_str(), args.partitions, rd_kafka_err2str(err));
      return 1;
    }
  }
  // The first stdout line is the contract with scripts and tests.
  std::printf("bootstrap.servers=%s\n", bootstraps.c_str());
  std::fflush(stdout);
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);  // a signal that arrived meanwhile comes now
  while (stop_signals == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  cluster.reset();  // before the handle: librdkafka asserts on the order
  rk.reset();
  return 0;
}

// -------------------------------------------------------------- generate

struct GenerateArgs {
  std::string bootstrap_servers;
  std::string topic;
  double rate = 1000;  // events per second; 0: as fast as possible
  int64_t count = -1;  // stop after this many events; -1: until SIGTERM/SIGINT
  std::string kind = "clickstream";
  uint64_t seed = 42;
  double malformed_ratio = 0.01;
  double event_rate =
      0;  // nexmark: events per second of event time; 0: --rate, or 10000 if --rate is 0
  int64_t base_time_ms =
      -1;  // nexmark: dateTime of the first event; -1: now if --rate > 0, else 2026-01-01
  std::vector<std::string> properties;  // extra librdkafka producer properties, key=value
  bool quiet = false;
};

// Delivery reports arrive on the thread that calls rd_kafka_poll/flush, i.e.
// the main thread; the atomics are for clarity, not contention.
struct DeliveryStats {
  std::atomic<int64_t> delivered{0};
  std::atomic<int64_t> failed{0};
  std::atomic<bool> fatal{false};
  std::string first_error;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* stats = static_cast<DeliveryStats*>(opaque);
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    stats->delivered.fetch_add(1, std::memory_order_relaxed);
  } else {
    if (stats->failed.fetch_add(1, std::memory_order_relaxed) == 0)
      stats->first_error = rd_kafka_err2str(msg->err);
  }
}

void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* stats = static_cast<DeliveryStats*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    if (stats->first_error.empty()) stats->first_error = fatal;
    stats->fatal = true;
    return;
  }
  // Transient errors (broker down, all brokers down): librdkafka retries by itself; just report
  // them.
  std::fprintf(stderr, "generate: kafka: %s\n", reason);
}

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int RunGenerate(const GenerateArgs& args) {
  using Clock = std::chrono::steady_clock;
  InstallStopHandlers();
  DeliveryStats stats;
  KafkaPtr<rd_kafka_conf_t> conf(rd_kafka_conf_new());
  const bool nexmark = args.kind == "nexmark";
  // Defaults tuned for throughput at up to ~1M small records/s; -X overrides.
  // Nexmark is a benchmark input: no compression (the engines under test
  // should not pay for decompressing it) and bigger batches.
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"bootstrap.servers", args.bootstrap_servers},
      {"enable.idempotence", "true"},
      {"linger.ms", nexmark ? "20" : "5"},
      {"compression.type", nexmark ? "none" : "lz4"},
      {"batch.num.messages", nexmark ? "100000" : "10000"},
      {"batch.size", nexmark ? "4000000" : "1000000"},
      {"queue.buffering.max.messages", "1000000"},
      {"queue.buffering.max.kbytes", "1048576"},
      {"message.timeout.ms", "30000"},
      {"log_level", "4"},
  };
  for (const auto& [k, v] : defaults) {
    if (!SetConf(conf.get(), k, v)) return 2;
  }
  for (const auto& kv : args.properties) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "Error: bad -X '%s': expected key=value\n", kv.c_str());
      return 2;
    }
    if (!SetConf(conf.get(), kv.substr(0, eq), kv.substr(eq + 1))) return 2;
  }
  rd_kafka_conf_set_opaque(conf.get(), &stats);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), OnDelivery);
  rd_kafka_conf_set_error_cb(conf.get(), OnError);
  char errstr[512];
  KafkaPtr<rd_kafka_t> rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf.release(), errstr, sizeof(errstr)));
  if (!rk) {
    std::fprintf(stderr, "Error: cannot create the Kafka producer: %s\n", errstr);
    return 1;
  }
  KafkaPtr<rd_kafka_topic_t> rkt(rd_kafka_topic_new(rk.get(), args.topic.c_str(), nullptr));
  if (!rkt) {
    std::fprintf(stderr, "Error: bad topic '%s': %s\n", args.topic.c_str(),
                 rd_kafka_err2str(rd_kafka_last_error()));
    return 1;
  }

  ClickstreamOptions gen_options;
  gen_options.seed = args.seed;
  gen_options.malformed_ratio = args.malformed_ratio;
  ClickstreamGenerator generator(gen_options);
  NexmarkOptions nexmark_options;
  nexmark_options.seed = args.seed;
  nexmark_options.event_rate =
      args.event_rate > 0 ? args.event_rate : (args.rate > 0 ? args.rate : 10000);
  if (args.base_time_ms >= 0) {
    nexmark_options.base_time_ms = args.base_time_ms;
  } else if (args.rate > 0) {
    nexmark_options.base_time_ms = WallMillis();
  }
  NexmarkGenerator nexmark_generator(nexmark_options);
  std::string key, value;
  struct RecordSpan {
    size_t key_offset, key_size, value_offset, value_size;
  };
  std::string arena;  // one batch of keys and values, back to back
  std::vector<RecordSpan> spans;
  std::vector<rd_kafka_message_t> messages;

  // Token bucket: tokens accrue at `rate`; capacity 50 ms of events (at least
  // one) absorbs scheduling hiccups without bursting after a long stall. While
  // the bucket never overflows, the long-run rate is exact.
  const bool unlimited = args.rate <= 0;
  const double capacity = unlimited ? 0 : std::max(1.0, args.rate * 0.05);
  double tokens = unlimited ? 0 : std::min(capacity, 1.0);
  const auto start = Clock::now();
  auto last_refill = start;
  auto next_progress = start + std::chrono::seconds(1);
  int64_t sent = 0, sent_at_last_progress = 0;
  auto last_progress = start;
  constexpr int64_t kMaxBatch = 4096;

  auto print_progress = [&](Clock::time_point now) {
    double secs = std::chrono::duration<double>(now - last_progress).count();
    if (!args.quiet) {
      std::fprintf(stderr,
                   "generate: sent=%lld rate=%.0f/s delivered=%lld failed=%lld malformed=%lld\n",
                   static_cast<long long>(sent),
                   secs > 0 ? static_cast<double>(sent - sent_at_last_progress) / secs : 0.0,
                   static_cast<long long>(stats.delivered.load()),
                   static_cast<long long>(stats.failed.load()),
                   static_cast<long long>(nexmark ? 0 : generator.malformed()));
    }
    sent_at_last_progress = sent;
    last_progress = now;
  };

  // A failed delivery ends the run: the topic would miss records, and the
  // error (timeout, authorization, unknown topic) will not heal by itself.
  while (stop_signals == 0 && !stats.fatal && stats.failed == 0 &&
         (args.count < 0 || sent < args.count)) {
    auto now = Clock::now();
    if (now >= next_progress) {
      print_progress(now);
      next_progress += std::chrono::seconds(1);
      if (next_progress <= now) next_progress = now + std::chrono::seconds(1);
    }
    int64_t batch = kMaxBatch;
    if (!unlimited) {
      tokens = std::min(
          capacity, tokens + args.rate * std::chrono::duration<double>(now - last_refill).count());
      last_refill = now;
      if (tokens < 1) {
        // Sleep until the next token, serving delivery reports meanwhile.
        int wait_ms = static_cast<int>(std::clamp((1 - tokens) / args.rate * 1000.0, 0.0, 20.0));
        if (wait_ms > 0) {
          rd_kafka_poll(rk.get(), wait_ms);
        } else {
          std::this_thread::sleep_for(
              std::chrono::microseconds(static_cast<int64_t>((1 - tokens) / args.rate * 1e6) + 1));
        }
        continue;
      }
      batch = std::min<int64_t>(batch, static_cast<int64_t>(tokens));
    }
    if (args.count >= 0) batch = std::min(batch, args.count - sent);
    const int64_t now_ms = WallMillis();
    // The batch is generated into one arena and handed to librdkafka in one
    // rd_kafka_produce_batch call: one queue lock per batch instead of one per
    // record, which matters at a million records per second.
    arena.clear();
    spans.clear();
    for (int64_t i = 0; i < batch; ++i) {
      if (nexmark) {
        nexmark_generator.Next(&value);  // no key: Flink nexmark spreads events round-robin
        key.clear();
      } else {
        generator.Next(now_ms, &key, &value);
      }
      spans.push_back({arena.size(), key.size(), arena.size() + key.size(), value.size()});
      arena += key;
      arena += value;
    }
    messages.assign(static_cast<size_t>(batch), rd_kafka_message_t{});
    for (int64_t i = 0; i < batch; ++i) {
      const auto& sp = spans[static_cast<size_t>(i)];
      auto& m = messages[static_cast<size_t>(i)];
      m.payload = arena.data() + sp.value_offset;
      m.len = sp.value_size;
      m.key = sp.key_size > 0 ? arena.data() + sp.key_offset : nullptr;
      m.key_len = sp.key_size;
    }
    // Records the queue refused (full) are retried in order after serving
    // delivery reports; any other error ends the run.
    size_t begin = 0;
    while (begin < messages.size()) {
      rd_kafka_produce_batch(rkt.get(), RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                             messages.data() + begin, static_cast<int>(messages.size() - begin));
      size_t first_failed = messages.size();
      for (size_t i = begin; i < messages.size(); ++i) {
        if (messages[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        if (messages[i].err != RD_KAFKA_RESP_ERR__QUEUE_FULL || stop_signals >= 2 || stats.fatal) {
          std::fprintf(stderr, "Error: producing to topic '%s' failed after %lld records: %s\n",
                       args.topic.c_str(), static_cast<long long>(sent + static_cast<int64_t>(i)),
                       rd_kafka_err2str(messages[i].err));
          return 1;
        }
        first_failed = std::min(first_failed, i);
      }
      if (first_failed == messages.size()) break;
      // Keep the order: everything from the first refused record is produced
      // again, except records that were accepted after it (rare: the queue
      // only frees space on delivery reports, served here).
      std::vector<rd_kafka_message_t> rest;
      for (size_t i = first_failed; i < messages.size(); ++i) {
        if (messages[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          rest.push_back(messages[i]);
          rest.back().err = RD_KAFKA_RESP_ERR_NO_ERROR;
        }
      }
      messages.resize(first_failed);
      messages.insert(messages.end(), rest.begin(), rest.end());
      begin = first_failed;
      rd_kafka_poll(rk.get(), 5);  // backpressure: let deliveries drain the queue
    }
    sent += batch;
    if (!unlimited) tokens -= static_cast<double>(batch);
    rd_kafka_poll(rk.get(), 0);
  }

  // Flush: wait for every record's delivery report. A second signal gives up.
  while (rd_kafka_outq_len(rk.get()) > 0 && stop_signals < 2 && !stats.fatal && stats.failed == 0) {
    rd_kafka_flush(rk.get(), 1000);
    auto now = Clock::now();
    if (now >= next_progress) {
      print_progress(now);
      next_progress = now + std::chrono::seconds(1);
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const int undelivered = rd_kafka_outq_len(rk.get());
  if (stats.fatal || stats.failed > 0 || undelivered > 0) {
    std::fprintf(
        stderr,
        "Error: delivered %lld of %lld records to topic '%s' at %s; %lld failed, %d abandoned in "
        "the queue: %s\n",
        static_cast<long long>(stats.delivered.load()), static_cast<long long>(sent),
        args.topic.c_str(), args.bootstrap_servers.c_str(),
        static_cast<long long>(stats.failed.load()), undelivered,
        stats.first_error.empty() ? "interrupted by a second signal" : stats.first_error.c_str());
    // Drop what is still queued so that destroying the handle does not wait for it.
    rd_kafka_purge(rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk.get(), 0);
    return 1;
  }
  if (!args.quiet) {
    std::fprintf(stderr, "generate: done: %lld records (%lld malformed) in %.2f s, %.0f/s\n",
                 static_cast<long long>(sent),
                 static_cast<long long>(nexmark ? 0 : generator.malformed()), secs,
                 secs > 0 ? static_cast<double>(sent) / secs : 0.0);
  }
  return 0;
}

}  // namespace

Command AddBrokerCommand(CLI::App& app) {
  auto args = std::make_shared<BrokerArgs>();
  auto* cmd = app.add_subcommand(
      "broker",
      "Run an embedded Kafka broker (librdkafka's mock cluster) on loopback until SIGTERM/SIGINT. "
      "Prints bootstrap.servers=HOST:PORT as its first stdout line. Topics are auto-created on "
      "first use "
      "(with librdkafka's default of 4 partitions, which cannot be changed); --topic pre-creates a "
      "topic with "
      "--partitions partitions. librdkafka's mock keeps only about the newest 100k records "
      "of each partition.");
  cmd->add_option("--partitions", args->partitions, "Partitions of each --topic topic")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--port", args->port,
                  "Port of the first broker's listener (broker i gets port+i-1); 0: any free port")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--brokers", args->brokers, "Number of brokers in the cluster")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--topic", args->topics, "Topic to create at start; repeatable")
      ->allow_extra_args(false)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  return {cmd, [args] { return RunBroker(*args); }};
}

Command AddGenerateCommand(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand(
      "generate",
      "Produce generated JSON events into a Kafka topic at a steady rate "
      "(idempotent producer); progress on stderr every second. --kind clickstream: "
      "key = user_id; --kind nexmark: Nexmark's persons, auctions and bids "
      "(1:3:46) as Flink nexmark's one-topic JSON, no key");
  cmd->add_option("--bootstrap-servers", args->bootstrap_servers,
                  "Kafka bootstrap servers, host:port[,...]")
      ->required();
  cmd->add_option("--topic", args->topic, "Topic to produce to")->required();
  cmd->add_option("--rate", args->rate, "Events per second; 0: as fast as possible")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--count", args->count,
                  "Stop after this many events (then flush and exit); default: until SIGTERM")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--kind", args->kind, "Kind of events")
      ->capture_default_str()
      ->check(CLI::IsMember({"clickstream", "nexmark"}));
  cmd->add_option(
         "--seed", args->seed,
         "Random seed: the same seed gives the same records, except clickstream's event_time "
         "and nexmark's dateTime when --rate > 0 (both follow the wall clock)")
      ->capture_default_str();
  cmd->add_option("--malformed-ratio", args->malformed_ratio,
                  "Share of malformed records (truncated JSON, wrong types, garbage bytes)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option(
         "--event-rate", args->event_rate,
         "nexmark: events per second of event time (dateTime of event n = base + n / rate); "
         "default: --rate, or Nexmark's 10000 when --rate is 0")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option(
         "--base-time-ms", args->base_time_ms,
         "nexmark: dateTime of the first event, ms since the epoch; default: the start time when "
         "--rate > 0, else 2026-01-01 00:00:00 UTC (so that --rate 0 runs are reproducible)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-X,--property", args->properties,
                  "Extra librdkafka producer property key=value; repeatable")
      ->allow_extra_args(false)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("-q,--quiet", args->quiet, "No progress lines");
  return {cmd, [args] { return RunGenerate(*args); }};
}

}  // namespace lakestream::cli
