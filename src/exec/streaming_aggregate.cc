#include "exec/streaming_aggregate.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>

#include <cstring>
#include <map>

#include "exec/row_codec.h"

namespace lakestream::exec {

namespace {

Result<std::vector<std::unique_ptr<arrow::ArrayBuilder>>> Builders(
    const std::vector<std::shared_ptr<arrow::DataType>>& types) {
  std::vector<std::unique_ptr<arrow::ArrayBuilder>> out;
  for (const auto& t : types) {
    std::unique_ptr<arrow::ArrayBuilder> b;
    ARROW_RETURN_NOT_OK(arrow::MakeBuilder(arrow::default_memory_pool(), t, &b));
    out.push_back(std::move(b));
  }
  return out;
}

// Meta entries next to the groups (a group key starts with a validity byte,
// 0 or 1, followed by another validity byte or nothing, so "\0t" and "\0n"
// never begin one): "\0t" <closes at, ordered> <group key> indexes groups by
// the event time that closes them, so eviction reads only what it evicts;
// "\0n" holds the number of groups, so no batch has to count them.
constexpr std::string_view kIndexPrefix("\0t", 2);
// Groups that close at an event time are stored under "\0w" <closes at,
// ordered> <group key>: the state itself is in closing order, so eviction is
// a range scan with no index to maintain (sessions, whose bounds change as
// they merge, use the "\0t" index instead).
constexpr std::string_view kTimedPrefix("\0w", 2);

std::string TimedKey(int64_t closes_at, std::string_view group_key) {
  std::string k(kTimedPrefix);
  AppendOrderedInt64(&k, closes_at);
  k.append(group_key);
  return k;
}

}  // namespace

std::string EventTimeIndexKey(int64_t closes_at, std::string_view group_key) {
  std::string k(kIndexPrefix);
  AppendOrderedInt64(&k, closes_at);
  k.append(group_key);
  return k;
}

int64_t EventTimeIndexTime(std::string_view index_key) {
  return ReadOrderedInt64(index_key.substr(kIndexPrefix.size()));
}

Result<int64_t> ReadStoredCount(KeyValueState* state, std::string_view key) {
  ARROW_ASSIGN_OR_RAISE(auto v, state->Get(key));
  int64_t n = 0;
  if (v && v->size() == sizeof(n)) std::memcpy(&n, v->data(), sizeof(n));
  return n;
}

Status WriteStoredCount(KeyValueState* state, std::string_view key, int64_t n) {
  return state->Put(key, std::string_view(reinterpret_cast<const char*>(&n), sizeof(n)));
}

bool IsStreamingAggregateMetaKey(std::string_view key) {
  return key.substr(0, 2) == kIndexPrefix || key == kStateCountKey;
}

Result<std::unique_ptr<StreamingAggregate>> StreamingAggregate::Make(
    StreamingAggregateOptions options) {
  std::unique_ptr<StreamingAggregate> op(new StreamingAggregate(std::move(options)));
  for (int i = 0; i < op->options_.num_keys; ++i)
    op->key_types_.push_back(op->options_.output_schema->field(i)->type());
  for (const auto& a : op->options_.aggregates) {
    // An empty accumulator's saved state tells the state type, with no batch seen yet.
    auto empty = a.make();
    ARROW_ASSIGN_OR_RAISE(auto st, empty->SaveState());
    op->state_types_.push_back(st->type());
  }
  return op;
}

std::optional<int64_t> StreamingAggregate::ClosesAt(const arrow::ArrayVector& keys,
                                                    int64_t row) const {
  if (options_.event_time_key < 0) return std::nullopt;
  const auto& k = *keys[options_.event_time_key];
  if (k.IsNull(row)) return std::nullopt;
  if (k.type_id() == arrow::Type::STRUCT) {
    const auto& s = static_cast<const arrow::StructArray&>(k);
    auto end = s.GetFieldByName("end");
    if (!end || end->IsNull(row)) return std::nullopt;
    return static_cast<const arrow::TimestampArray&>(*end).Value(row) + options_.event_time_lag_us;
  }
  if (k.type_id() == arrow::Type::TIMESTAMP)
    return static_cast<const arrow::TimestampArray&>(k).Value(row) + options_.event_time_lag_us;
  return std::nullopt;
}

Status StreamingAggregate::Decode(const std::vector<std::string>& values, arrow::ArrayVector* keys,
                                  arrow::ArrayVector* states) {
  auto types = key_types_;
  types.insert(types.end(), state_types_.begin(), state_types_.end());
  ARROW_ASSIGN_OR_RAISE(auto builders, Builders(types));
  std::vector<arrow::ArrayBuilder*> raw;
  for (auto& b : builders) raw.push_back(b.get());
  for (const auto& v : values) {
    std::string_view in = v;
    ARROW_RETURN_NOT_OK(DecodeRow(&in, raw));
    if (!in.empty())
      return ExecutionError("corrupt streaming aggregation state: {} trailing bytes", in.size());
  }
  for (size_t i = 0; i < builders.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto a, builders[i]->Finish());
    (i < key_types_.size() ? keys : states)->push_back(std::move(a));
  }
  return Status::OK();
}

Result<BatchPtr> StreamingAggregate::Finalize(const arrow::ArrayVector& keys,
                                              const arrow::ArrayVector& states, int64_t rows) {
  arrow::ArrayVector columns = keys;
  for (size_t i = 0; i < options_.aggregates.size(); ++i) {
    auto agg = options_.aggregates[i].make();
    ARROW_RETURN_NOT_OK(agg->LoadState(*states[i]));
    ARROW_ASSIGN_OR_RAISE(auto result, agg->Finalize());
    columns.push_back(std::move(result));
  }
  return arrow::RecordBatch::Make(options_.output_schema, rows, columns);
}

Result<std::vector<BatchPtr>> StreamingAggregate::MergeSessions(
    const BatchPtr& p, KeyValueState* state, StreamingAggregateMetrics* metrics) {
  const int nk = options_.num_keys;
  const int sk = options_.session_key;
  const size_t na = options_.aggregates.size();
  std::vector<const arrow::Array*> other_cols;
  for (int k = 0; k < nk; ++k) {
    if (k != sk) other_cols.push_back(p->column(k).get());
  }
  const auto& sessions = static_cast<const arrow::StructArray&>(*p->column(sk));
  ARROW_ASSIGN_OR_RAISE(auto start_arr, sessions.GetFlattenedField(0));
  ARROW_ASSIGN_OR_RAISE(auto end_arr, sessions.GetFlattenedField(1));
  const auto& starts = static_cast<const arrow::TimestampArray&>(*start_arr);
  const auto& ends = static_cast<const arrow::TimestampArray&>(*end_arr);
  std::map<std::string, std::vector<int64_t>> groups;
  for (int64_t r = 0; r < p->num_rows(); ++r) {
    if (sessions.IsNull(r)) continue;  // no event time or no valid gap: no session (Spark drops it)
    std::string prefix;
    ARROW_RETURN_NOT_OK(EncodeRow(other_cols, r, &prefix));
    groups[std::move(prefix)].push_back(r);
  }
  std::vector<BatchPtr> changed;
  auto session_type = p->column(sk)->type();
  for (const auto& [prefix, rows] : groups) {
    // The key's stored sessions, then this batch's, ordered by start.
    std::vector<std::string> old_keys, old_values;
    ARROW_RETURN_NOT_OK(state->PrefixScan(prefix, [&](std::string_view k, std::string_view v) {
      old_keys.emplace_back(k);
      old_values.emplace_back(v);
      return Status::OK();
    }));
    arrow::ArrayVector old_key_arrays, old_states;
    if (!old_values.empty()) ARROW_RETURN_NOT_OK(Decode(old_values, &old_key_arrays, &old_states));
    struct Entry {
      int64_t start, end;
      int64_t index;  // into old sessions, then the new rows after them
    };
    std::vector<Entry> entries;
    const int64_t n_old = static_cast<int64_t>(old_values.size());
    if (n_old > 0) {
      const auto& os = static_cast<const arrow::StructArray&>(*old_key_arrays[sk]);
      ARROW_ASSIGN_OR_RAISE(auto os_start, os.GetFlattenedField(0));
      ARROW_ASSIGN_OR_RAISE(auto os_end, os.GetFlattenedField(1));
      for (int64_t j = 0; j < n_old; ++j) {
        entries.push_back({static_cast<const arrow::TimestampArray&>(*os_start).Value(j),
                           static_cast<const arrow::TimestampArray&>(*os_end).Value(j), j});
      }
    }
    for (size_t t = 0; t < rows.size(); ++t) {
      entries.push_back(
          {starts.Value(rows[t]), ends.Value(rows[t]), n_old + static_cast<int64_t>(t)});
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return a.start != b.start ? a.start < b.start : a.index < b.index;
    });
    // Sessions that overlap or touch merge (Spark's MergingSessionsIterator).
    std::vector<uint32_t> mapping(entries.size());
    std::vector<int64_t> m_start, m_end;
    std::vector<bool> m_has_new;
    for (const auto& e : entries) {
      if (m_start.empty() || e.start > m_end.back()) {
        m_start.push_back(e.start);
        m_end.push_back(e.end);
        m_has_new.push_back(false);
      } else {
        m_end.back() = std::max(m_end.back(), e.end);
      }
      mapping[e.index] = static_cast<uint32_t>(m_start.size() - 1);
      if (e.index >= n_old) m_has_new.back() = true;
    }
    const int64_t m = static_cast<int64_t>(m_start.size());
    // Accumulators: old sessions' and new rows' loaded into one aggregator
    // (groups in `index` order), merged into one group per session.
    arrow::Int64Builder ib;
    for (int64_t r : rows) ARROW_RETURN_NOT_OK(ib.Append(r));
    ARROW_ASSIGN_OR_RAISE(auto new_idx, ib.Finish());
    arrow::ArrayVector merged_states;
    for (size_t i = 0; i < na; ++i) {
      auto src = options_.aggregates[i].make();
      if (n_old > 0) ARROW_RETURN_NOT_OK(src->LoadState(*old_states[i]));
      ARROW_ASSIGN_OR_RAISE(auto taken,
                            arrow::compute::Take(p->column(nk + static_cast<int>(i)), new_idx));
      ARROW_RETURN_NOT_OK(src->LoadState(*taken.make_array()));
      auto dst = options_.aggregates[i].make();
      ARROW_RETURN_NOT_OK(dst->Resize(m));
      ARROW_RETURN_NOT_OK(dst->Merge(*src, mapping.data()));
      ARROW_ASSIGN_OR_RAISE(auto saved, dst->SaveState());
      merged_states.push_back(std::move(saved));
    }
    // Keys of the merged sessions: the other keys of any row, the new bounds.
    std::vector<int64_t> rep_rows(m, rows.front());
    arrow::Int64Builder rb;
    ARROW_RETURN_NOT_OK(rb.AppendValues(rep_rows));
    ARROW_ASSIGN_OR_RAISE(auto rep_idx, rb.Finish());
    arrow::ArrayVector key_arrays;
    for (int k = 0; k < nk; ++k) {
      if (k == sk) {
        const auto& st = static_cast<const arrow::StructType&>(*session_type);
        arrow::TimestampBuilder sb(st.field(0)->type(), arrow::default_memory_pool());
        arrow::TimestampBuilder eb(st.field(1)->type(), arrow::default_memory_pool());
        ARROW_RETURN_NOT_OK(sb.AppendValues(m_start));
        ARROW_RETURN_NOT_OK(eb.AppendValues(m_end));
        ARROW_ASSIGN_OR_RAISE(auto sa, sb.Finish());
        ARROW_ASSIGN_OR_RAISE(auto ea, eb.Finish());
        key_arrays.push_back(
            std::make_shared<arrow::StructArray>(session_type, m, arrow::ArrayVector{sa, ea}));
      } else {
        ARROW_ASSIGN_OR_RAISE(auto t, arrow::compute::Take(p->column(k), rep_idx));
        key_arrays.push_back(t.make_array());
      }
    }
    for (size_t j = 0; j < old_keys.size(); ++j) {
      // Read by the scan above, so present: the store need not look them up.
      ARROW_RETURN_NOT_OK(state->Delete(old_keys[j], KeyHint::kPresent));
      for (const auto& e : entries) {
        if (e.index == static_cast<int64_t>(j)) {
          ARROW_RETURN_NOT_OK(
              state->Delete(EventTimeIndexKey(e.end + options_.event_time_lag_us, old_keys[j]),
                            KeyHint::kPresent));
        }
      }
    }
    metrics->count_delta += m - n_old;
    std::vector<const arrow::Array*> value_cols, session_col{key_arrays[sk].get()};
    for (const auto& a : key_arrays) value_cols.push_back(a.get());
    for (const auto& a : merged_states) value_cols.push_back(a.get());
    for (int64_t j = 0; j < m; ++j) {
      std::string key = prefix, value;
      ARROW_RETURN_NOT_OK(EncodeRow(session_col, j, &key));
      ARROW_RETURN_NOT_OK(EncodeRow(value_cols, j, &value));
      ARROW_RETURN_NOT_OK(state->Put(key, value));
      ARROW_RETURN_NOT_OK(state->Put(EventTimeIndexKey(m_end[j] + options_.event_time_lag_us, key),
                                     std::string_view()));
    }
    metrics->rows_updated += m;
    if (options_.mode == StreamOutputMode::kUpdate) {
      std::vector<int64_t> touched;
      for (int64_t j = 0; j < m; ++j) {
        if (m_has_new[j]) touched.push_back(j);
      }
      arrow::Int64Builder tb;
      ARROW_RETURN_NOT_OK(tb.AppendValues(touched));
      ARROW_ASSIGN_OR_RAISE(auto tidx, tb.Finish());
      arrow::ArrayVector tk, ts;
      for (const auto& a : key_arrays) {
        ARROW_ASSIGN_OR_RAISE(auto t, arrow::compute::Take(a, tidx));
        tk.push_back(t.make_array());
      }
      for (const auto& a : merged_states) {
        ARROW_ASSIGN_OR_RAISE(auto t, arrow::compute::Take(a, tidx));
        ts.push_back(t.make_array());
      }
      ARROW_ASSIGN_OR_RAISE(auto batch, Finalize(tk, ts, static_cast<int64_t>(touched.size())));
      changed.push_back(std::move(batch));
    }
  }
  return changed;
}

Result<std::vector<BatchPtr>> StreamingAggregate::Process(const std::vector<BatchPtr>& partials,
                                                          int64_t watermark_us,
                                                          int64_t late_watermark_us,
                                                          KeyValueState* state,
                                                          StreamingAggregateMetrics* metrics) {
  const int nk = options_.num_keys;
  const size_t na = options_.aggregates.size();
  std::vector<BatchPtr> out;

  const bool watermark = watermark_us != INT64_MIN && options_.event_time_key >= 0;

  const bool late_watermark = late_watermark_us != INT64_MIN && options_.event_time_key >= 0;

  // 1. Merge this batch's partial accumulators into the state. Late input is
  // judged per group, as Spark's StateStoreSave does: a row counts unless its
  // group (window) was already closed by the previous batch's watermark, so a
  // row behind the watermark still lands in a window whose end is ahead of it.
  for (BatchPtr p : partials) {
    if (late_watermark && p->num_rows() > 0) {
      arrow::ArrayVector key_arrays(p->columns().begin(), p->columns().begin() + nk);
      arrow::BooleanBuilder keep;
      ARROW_RETURN_NOT_OK(keep.Reserve(p->num_rows()));
      int64_t dropped = 0;
      for (int64_t r = 0; r < p->num_rows(); ++r) {
        auto closes = ClosesAt(key_arrays, r);
        // NULL event time: dropped as Spark does.
        bool late = !closes || *closes <= late_watermark_us;
        dropped += late;
        keep.UnsafeAppend(!late);
      }
      if (dropped > 0) {
        metrics->rows_dropped_by_watermark += dropped;
        ARROW_ASSIGN_OR_RAISE(auto mask, keep.Finish());
        ARROW_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(p, mask));
        p = filtered.record_batch();
      }
    }
    const int64_t g = p->num_rows();
    if (g == 0) continue;
    if (options_.session_key >= 0) {
      ARROW_ASSIGN_OR_RAISE(auto changed, MergeSessions(p, state, metrics));
      if (options_.mode == StreamOutputMode::kUpdate) {
        for (auto& b : changed) out.push_back(std::move(b));
      }
      continue;
    }
    std::vector<const arrow::Array*> key_cols;
    for (int k = 0; k < nk; ++k) key_cols.push_back(p->column(k).get());
    std::vector<std::string> keys(g), existing;
    std::vector<uint32_t> mapping;  // existing row -> partial group
    arrow::ArrayVector key_arrays(p->columns().begin(), p->columns().begin() + nk);
    for (int64_t r = 0; r < g; ++r) {
      ARROW_RETURN_NOT_OK(EncodeRow(key_cols, r, &keys[r]));
      if (auto closes = ClosesAt(key_arrays, r)) keys[r] = TimedKey(*closes, keys[r]);
      ARROW_ASSIGN_OR_RAISE(auto v, state->Get(keys[r]));
      if (v) {
        existing.push_back(std::move(*v));
        mapping.push_back(static_cast<uint32_t>(r));
      }
    }
    arrow::ArrayVector old_keys, old_states;
    if (!existing.empty()) ARROW_RETURN_NOT_OK(Decode(existing, &old_keys, &old_states));
    arrow::ArrayVector merged;
    for (size_t i = 0; i < na; ++i) {
      auto acc = options_.aggregates[i].make();
      ARROW_RETURN_NOT_OK(acc->LoadState(*p->column(nk + static_cast<int>(i))));
      if (!existing.empty()) {
        auto old = options_.aggregates[i].make();
        ARROW_RETURN_NOT_OK(old->LoadState(*old_states[i]));
        ARROW_RETURN_NOT_OK(acc->Merge(*old, mapping.data()));
      }
      ARROW_ASSIGN_OR_RAISE(auto saved, acc->SaveState());
      merged.push_back(std::move(saved));
    }
    std::vector<const arrow::Array*> row_cols = key_cols;
    for (const auto& m : merged) row_cols.push_back(m.get());
    std::vector<bool> is_new(g, true);
    for (uint32_t r : mapping) is_new[r] = false;
    for (int64_t r = 0; r < g; ++r) {
      std::string value;
      ARROW_RETURN_NOT_OK(EncodeRow(row_cols, r, &value));
      // The Get above told whether the group exists: no second lookup.
      ARROW_RETURN_NOT_OK(
          state->Put(keys[r], value, is_new[r] ? KeyHint::kAbsent : KeyHint::kPresent));
      if (is_new[r]) ++metrics->count_delta;
    }
    metrics->rows_updated += g;
    if (options_.mode == StreamOutputMode::kUpdate) {
      ARROW_ASSIGN_OR_RAISE(auto batch, Finalize(key_arrays, merged, g));
      out.push_back(std::move(batch));
    }
  }

  // 2. Complete mode emits every group; otherwise the groups the watermark
  // closed are emitted (append) and dropped (all modes but complete), found
  // through the event-time index in closing order.
  std::vector<std::string> emit_values, drop_keys;
  ARROW_ASSIGN_OR_RAISE(int64_t total, ReadStoredCount(state, kStateCountKey));
  total += metrics->count_delta;
  if (options_.mode == StreamOutputMode::kComplete) {
    ARROW_RETURN_NOT_OK(state->Scan([&](std::string_view k, std::string_view v) {
      if (!IsStreamingAggregateMetaKey(k)) emit_values.emplace_back(v);
      return Status::OK();
    }));
  } else if (watermark) {
    // Groups stored in closing order: take them up to the watermark.
    std::string timed_limit = TimedKey(watermark_us, std::string_view());
    Status timed = state->PrefixScan(kTimedPrefix, [&](std::string_view k, std::string_view v) {
      if (k.substr(0, timed_limit.size()) > timed_limit)
        return Status::Cancelled("past the watermark");
      if (options_.mode == StreamOutputMode::kAppend) emit_values.emplace_back(v);
      drop_keys.emplace_back(k);
      return Status::OK();
    });
    if (!timed.ok() && !timed.IsCancelled()) return timed;
    // Sessions, through their index.
    std::vector<std::string> index_keys;
    std::string limit = EventTimeIndexKey(watermark_us, std::string_view());
    Status st = options_.session_key < 0
                    ? Status::OK()
                    : state->PrefixScan(kIndexPrefix, [&](std::string_view k, std::string_view) {
                        // In closing order: the first group still open ends this store's scan.
                        if (k.substr(0, limit.size()) > limit)
                          return Status::Cancelled("past the watermark");
                        index_keys.emplace_back(k);
                        return Status::OK();
                      });
    if (!st.ok() && !st.IsCancelled()) return st;
    for (const auto& ik : index_keys) {
      std::string group_key = ik.substr(kIndexPrefix.size() + 8);
      if (EventTimeIndexTime(ik) > watermark_us) continue;
      if (options_.mode == StreamOutputMode::kAppend) {
        ARROW_ASSIGN_OR_RAISE(auto v, state->Get(group_key));
        if (v) emit_values.push_back(std::move(*v));
      }
      ARROW_RETURN_NOT_OK(state->Delete(ik, KeyHint::kPresent));
      drop_keys.push_back(std::move(group_key));
    }
  }
  if (!emit_values.empty()) {
    arrow::ArrayVector keys, states;
    ARROW_RETURN_NOT_OK(Decode(emit_values, &keys, &states));
    ARROW_ASSIGN_OR_RAISE(auto batch,
                          Finalize(keys, states, static_cast<int64_t>(emit_values.size())));
    out.push_back(std::move(batch));
  }
  // Every dropped group was found by a scan (or through its index entry).
  for (const auto& k : drop_keys) ARROW_RETURN_NOT_OK(state->Delete(k, KeyHint::kPresent));
  metrics->rows_removed += static_cast<int64_t>(drop_keys.size());
  metrics->rows_total = total - static_cast<int64_t>(drop_keys.size());
  ARROW_RETURN_NOT_OK(WriteStoredCount(state, kStateCountKey, metrics->rows_total));
  return out;
}

}  // namespace lakestream::exec
