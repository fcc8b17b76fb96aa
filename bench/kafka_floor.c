/* The floor/ceiling of the streaming benchmark (bench/bench_stream.py): a bare
 * librdkafka consumer with no parsing, no engine and no sink.
 *
 *   kafka_floor drain   BS TOPIC [-X k=v ...]
 *       Assigns every partition of TOPIC from its first offset, consumes up to
 *       the high watermarks seen at start and discards the messages: the
 *       highest rate a librdkafka client gets from this broker (the ceiling).
 *       Prints one JSON line: messages, bytes, seconds.
 *
 *   kafka_floor latency BS TOPIC SECONDS OUT [-X k=v ...]
 *       Assigns every partition from its end, consumes for SECONDS and writes
 *       two native int64 per message to OUT: the message's (producer
 *       CreateTime) timestamp in ms and the receive time in us since the
 *       epoch; their difference is the receive latency of a bare consumer
 *       (the freshness floor). Prints
 *       one JSON line: messages, seconds.
 *
 * Both use the same consumer style as lakestream's Kafka source (the simple
 * consumer API, all partitions on one queue, rd_kafka_consume_batch_queue).
 * Build: g++ -O2 -x c bench/kafka_floor.c -o bench/kafka_floor -lrdkafka
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PARTITIONS 256
#define BATCH 8192

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "kafka_floor: %s: %s\n", what, detail);
  exit(1);
}

static void set(rd_kafka_conf_t *conf, const char *k, const char *v) {
  char err[512];
  if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) die(k, err);
}

/* Returns the partition count of topic (metadata request). */
static int partitions_of(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const char *topic) {
  const struct rd_kafka_metadata *md;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
  if (e) die("metadata", rd_kafka_err2str(e));
  int n = 0;
  for (int i = 0; i < md->topic_cnt; i++)
    if (strcmp(md->topics[i].topic, topic) == 0) n = md->topics[i].partition_cnt;
  rd_kafka_metadata_destroy(md);
  if (n <= 0 || n > MAX_PARTITIONS) die("metadata", "topic not found or too many partitions");
  return n;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: kafka_floor drain BS TOPIC [-X k=v...] | latency BS TOPIC SECONDS OUT [-X k=v...]\n");
    return 2;
  }
  const char *mode = argv[1], *bs = argv[2], *topic = argv[3];
  int latency = strcmp(mode, "latency") == 0;
  if (!latency && strcmp(mode, "drain") != 0) die("mode", mode);
  double seconds = 0;
  const char *out_path = NULL;
  int argi = 4;
  if (latency) {
    if (argc < 6) die("latency", "needs SECONDS OUT");
    seconds = atof(argv[4]);
    out_path = argv[5];
    argi = 6;
  }
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bs);
  set(conf, "enable.partition.eof", "false");
  /* The same fetch settings lakestream's source uses, so the floor is the
   * same client configuration minus the engine. */
  set(conf, "fetch.wait.max.ms", "50");
  set(conf, "queued.max.messages.kbytes", "16384");
  set(conf, "queued.min.messages", "100000");
  set(conf, "fetch.queue.backoff.ms", "5");
  for (; argi + 1 < argc; argi += 2) {
    if (strcmp(argv[argi], "-X") != 0) die("argument", argv[argi]);
    char *kv = strdup(argv[argi + 1]), *eq = strchr(kv, '=');
    if (!eq) die("-X needs k=v", kv);
    *eq = 0;
    set(conf, kv, eq + 1);
    free(kv);
  }
  char err[512];
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) die("rd_kafka_new", err);
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  int np = partitions_of(rk, rkt, topic);
  int64_t high[MAX_PARTITIONS], pos[MAX_PARTITIONS];
  int64_t remaining_parts = 0;
  for (int p = 0; p < np && !latency; p++) {
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e;
    /* A new topic's leaders may not be elected yet: retry for a while. */
    for (int attempt = 0; (e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000)) && attempt < 50;
         attempt++) {
      struct timespec pause = {0, 200 * 1000000};
      nanosleep(&pause, NULL);
    }
    if (e) die("watermarks", rd_kafka_err2str(e));
    high[p] = hi;
    pos[p] = lo;
    if (!latency && hi > lo) remaining_parts++;
  }
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  double t0 = now_s();
  for (int p = 0; p < np; p++) {
    int64_t start = latency ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
    if (!latency && high[p] <= pos[p]) continue;
    if (rd_kafka_consume_start_queue(rkt, p, start, q) == -1)
      die("consume_start", rd_kafka_err2str(rd_kafka_last_error()));
  }
  FILE *out = NULL;
  if (latency && !(out = fopen(out_path, "wb"))) die("open", out_path);
  rd_kafka_message_t *msgs[BATCH];
  int64_t rec[2 * BATCH];
  int64_t count = 0, bytes = 0;
  double deadline = t0 + seconds;
  while (latency ? now_s() < deadline : remaining_parts > 0) {
    /* Take what is queued without waiting (with a timeout, consume_batch
     * waits for a full array); only an empty queue waits, for one message. */
    ssize_t n = rd_kafka_consume_batch_queue(q, 0, msgs, BATCH);
    if (n == 0) {
      msgs[0] = rd_kafka_consume_queue(q, 100);
      n = msgs[0] ? 1 : 0;
    }
    if (n < 0) die("consume", rd_kafka_err2str(rd_kafka_last_error()));
    int64_t t_us = latency ? now_us() : 0;
    int nl = 0;
    for (ssize_t i = 0; i < n; i++) {
      rd_kafka_message_t *m = msgs[i];
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) die("message", rd_kafka_message_errstr(m));
      } else {
        count++;
        bytes += (int64_t)m->len;
        if (latency) {
          int64_t ts = rd_kafka_message_timestamp(m, NULL);
          rec[2 * nl] = ts;
          rec[2 * nl + 1] = t_us;
          nl++;
        } else {
          int p = m->partition;
          pos[p] = m->offset + 1;
          if (pos[p] == high[p]) remaining_parts--;
        }
      }
      rd_kafka_message_destroy(m);
    }
    if (nl) fwrite(rec, sizeof(int64_t), 2 * (size_t)nl, out);
  }
  double secs = now_s() - t0;
  if (out) fclose(out);
  printf("{\"messages\": %" PRId64 ", \"bytes\": %" PRId64 ", \"seconds\": %.6f, \"partitions\": %d}\n", count, bytes,
         secs, np);
  fflush(stdout);
  for (int p = 0; p < np; p++) rd_kafka_consume_stop(rkt, p);
  rd_kafka_queue_destroy(q);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return 0;
}
