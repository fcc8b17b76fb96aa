"""`lakestream generate --kind nexmark` into a one-partition topic of the mock
broker: Nexmark's 1:3:46 mix of persons, auctions and bids, the record layout
of Flink nexmark's Kafka table, ids that refer to persons and auctions that
exist (or are among the next 10, as Nexmark's generator allows), the hot
auction/bidder skew, prices, dateTime following the event rate, and
determinism under --seed."""
import collections
import datetime
import json
import re
import statistics
import uuid

import pytest

from kafka_fixtures import lakestream_bin, read_topic, start_broker  # noqa: F401

COUNT = 10_000  # a multiple of 50; the mock broker keeps only the newest few MB of a partition
DATETIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$")
PERSON_FIELDS = ["id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra"]
AUCTION_FIELDS = ["id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires", "seller",
                  "category", "extra"]
BID_FIELDS = ["auction", "bidder", "price", "channel", "url", "dateTime", "extra"]
BASE = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def parse_time(text):
    assert DATETIME.match(text), text
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)


@pytest.fixture
def one_partition_broker(lakestream_bin):
    topics = [f"nexmark-{i}-{uuid.uuid4().hex[:8]}" for i in range(3)]
    args = []
    for t in topics:
        args += ["--topic", t]
    broker = start_broker(lakestream_bin, "--partitions", "1", *args)
    try:
        yield broker.bootstrap, topics
    finally:
        code, _, err = broker.stop()
        assert code == 0, f"lakestream broker exited {code}; stderr: {err}"


def generate(binary, bootstrap, topic, *args):
    import subprocess

    proc = subprocess.run([binary, "generate", "--kind", "nexmark", "--bootstrap-servers", bootstrap, "--topic",
                           topic, "--rate", "0", "--count", str(COUNT), *args],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"generate exited {proc.returncode}: {proc.stderr}"
    records = read_topic(bootstrap, topic, COUNT)
    assert len(records) == COUNT, f"{len(records)} records in {topic}, expected {COUNT}"
    assert all(key is None for key, _ in records), "nexmark records must have no key"
    return [value for _, value in records]


def test_nexmark_mix_layout_references_and_seed(lakestream_bin, one_partition_broker):
    bootstrap, (topic_a, topic_b, topic_c) = one_partition_broker
    values = generate(lakestream_bin, bootstrap, topic_a, "--seed", "7", "--event-rate", "1000")

    # Determinism: the same seed gives the same bytes in the same order; another seed does not.
    assert generate(lakestream_bin, bootstrap, topic_b, "--seed", "7", "--event-rate", "1000") == values
    other = generate(lakestream_bin, bootstrap, topic_c, "--seed", "8", "--event-rate", "1000")
    assert sum(a != b for a, b in zip(values, other)) > COUNT // 2

    events = [json.loads(v) for v in values]
    # The mix: event n is a person if n % 50 == 0, an auction if 1..3, else a bid.
    kinds = [e["event_type"] for e in events]
    assert kinds == [0 if n % 50 == 0 else 1 if n % 50 <= 3 else 2 for n in range(COUNT)]
    assert collections.Counter(kinds) == {0: COUNT // 50, 1: 3 * COUNT // 50, 2: 46 * COUNT // 50}

    persons, auctions, bids = set(), [], []
    last_person = last_auction = None
    for n, e in enumerate(events):
        assert set(e) == {"event_type", "person", "auction", "bid"}, e
        kind = ("person", "auction", "bid")[e["event_type"]]
        assert all(e[k] is None for k in ("person", "auction", "bid") if k != kind), e
        body = e[kind]
        assert list(body) == {"person": PERSON_FIELDS, "auction": AUCTION_FIELDS, "bid": BID_FIELDS}[kind]
        # dateTime advances with the event rate: 1000 events per second of event time.
        assert parse_time(body["dateTime"]) == BASE + datetime.timedelta(milliseconds=n), (n, body)
        if kind == "person":
            assert body["id"] == 1000 + len(persons), "person ids count up from 1000"
            assert re.match(r"^\d{4} \d{4} \d{4} \d{4}$", body["creditCard"]), body
            assert re.match(r"^[a-z ]+@[a-z ]+\.com$", body["emailAddress"]), body
            persons.add(body["id"])
            last_person = body["id"]
        elif kind == "auction":
            assert body["id"] == 1000 + len(auctions), "auction ids count up from 1000"
            assert 10 <= body["category"] <= 14
            assert body["reserve"] > body["initialBid"] >= 100
            assert parse_time(body["expires"]) > parse_time(body["dateTime"])
            # The seller is an existing person or one of the next 10 (Nexmark's PERSON_ID_LEAD).
            assert last_person is not None and 1000 <= body["seller"] <= last_person + 10, (n, body)
            auctions.append(body)
            last_auction = body["id"]
        else:
            # The auction is among the latest 100 in flight, or one of the next 10 (AUCTION_ID_LEAD).
            assert last_auction is not None and last_auction - 100 <= body["auction"] <= last_auction + 10, (n, body)
            assert 1000 <= body["bidder"] <= last_person + 10, (n, body)
            assert body["url"].startswith("https://www.nexmark.com/"), body
            bids.append(body)

    # Referential integrity over the stream: every referenced id is generated
    # somewhere (references into the future are at most 10 ids ahead, so all
    # but the last few resolve within the stream).
    auction_ids = {a["id"] for a in auctions}
    assert {a["seller"] for a in auctions if a["seller"] <= max(persons)} <= persons
    assert {b["bidder"] for b in bids if b["bidder"] <= max(persons)} <= persons
    assert {b["auction"] for b in bids if b["auction"] <= max(auction_ids)} <= auction_ids
    assert sum(a["seller"] > max(persons) for a in auctions) <= 30
    assert sum(b["auction"] > max(auction_ids) for b in bids) <= 50

    # Hot items: about 1/2 + 1/2 * 1/110 of the bids go to a hot auction (id a
    # multiple of 100), 3/4 of them come from a hot bidder (id % 100 == 1),
    # 3/4 of the auctions from a hot seller (id % 100 == 0).
    hot_auction_share = sum((b["auction"] - 1000) % 100 == 0 for b in bids) / len(bids)
    hot_bidder_share = sum((b["bidder"] - 1000) % 100 == 1 for b in bids) / len(bids)
    hot_seller_share = sum((a["seller"] - 1000) % 100 == 0 for a in auctions) / len(auctions)
    assert 0.47 < hot_auction_share < 0.55, hot_auction_share
    assert 0.72 < hot_bidder_share < 0.79, hot_bidder_share
    assert 0.68 < hot_seller_share < 0.82, hot_seller_share
    # Prices: 10^(6u) dollars in cents, so log-uniform in [100, 10^8] with median ~10^5.
    prices = [b["price"] for b in bids]
    assert 100 <= min(prices) and max(prices) <= 100_000_000
    assert 60_000 < statistics.median(prices) < 170_000, statistics.median(prices)
    # Half the bids on the 4 hot channels, the rest on channel-0..9999.
    channels = collections.Counter(b["channel"] for b in bids)
    assert 0.47 < sum(channels[c] for c in ("Google", "Facebook", "Baidu", "Apple")) / len(bids) < 0.53
    assert all(c in ("Google", "Facebook", "Baidu", "Apple") or re.match(r"^channel-\d{1,4}$", c) for c in channels)
    # Record sizes near Nexmark's averages (person 200, auction 500, bid 100 bytes of fields).
    assert 60 < statistics.mean(len(b["extra"]) for b in bids) < 75
    assert 330 < statistics.mean(len(a["extra"]) for a in auctions) < 450
