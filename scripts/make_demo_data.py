"""Generates the demo data set: one million clickstream events as Parquet and CSV.

Deterministic (fixed seed), written once into build/demo-data/ and reused.
"""
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

out = sys.argv[1] if len(sys.argv) > 1 else "build/demo-data"
n = 1_000_000
if os.path.exists(os.path.join(out, "events.parquet")):
    sys.exit(0)
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(42)
start = np.datetime64("2026-11-01T00:00:00", "us")
kinds = np.array(["view", "click", "add_to_cart", "purchase"])
countries = np.array(["DE", "FR", "US", "JP", "BR", "IN"])
table = pa.table({
    "event_id": pa.array(np.arange(n, dtype=np.int64)),
    "user_id": pa.array(rng.integers(1, 50_000, n, dtype=np.int64)),
    "kind": pa.array(kinds[rng.choice(4, n, p=[0.7, 0.2, 0.07, 0.03])]),
    "country": pa.array(countries[rng.integers(0, len(countries), n)]),
    "price": pa.array(np.round(rng.gamma(2.0, 20.0, n), 2)),
    "ts": pa.array(start + rng.integers(0, 14 * 86400 * 10**6, n).astype("timedelta64[us]"),
                   pa.timestamp("us", tz="UTC")),
})
pq.write_table(table, os.path.join(out, "events.parquet"), row_group_size=128 * 1024)
users = pa.table({
    "user_id": pa.array(np.arange(1, 50_000, dtype=np.int64)),
    "segment": pa.array(np.array(["new", "casual", "loyal"])[rng.integers(0, 3, 49_999)]),
})
pacsv.write_csv(users, os.path.join(out, "users.csv"))
print(f"demo data: {n} events in {out}/events.parquet, {users.num_rows} users in {out}/users.csv")
