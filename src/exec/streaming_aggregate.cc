#include "exec/streaming_aggregate.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>

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

}  // namespace

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
    return static_cast<const arrow::TimestampArray&>(*end).Value(row);
  }
  if (k.type_id() == arrow::Type::TIMESTAMP)
    return static_cast<const arrow::TimestampArray&>(k).Value(row);
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
    std::vector<const arrow::Array*> key_cols;
    for (int k = 0; k < nk; ++k) key_cols.push_back(p->column(k).get());
    std::vector<std::string> keys(g), existing;
    std::vector<uint32_t> mapping;  // existing row -> partial group
    for (int64_t r = 0; r < g; ++r) {
      ARROW_RETURN_NOT_OK(EncodeRow(key_cols, r, &keys[r]));
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
    arrow::ArrayVector key_arrays(p->columns().begin(), p->columns().begin() + nk);
    std::vector<int64_t> emit_rows;
    for (int64_t r = 0; r < g; ++r) {
      std::string value;
      ARROW_RETURN_NOT_OK(EncodeRow(row_cols, r, &value));
      ARROW_RETURN_NOT_OK(state->Put(keys[r], value));
    }
    metrics->rows_updated += g;
    if (options_.mode == StreamOutputMode::kUpdate) {
      ARROW_ASSIGN_OR_RAISE(auto batch, Finalize(key_arrays, merged, g));
      out.push_back(std::move(batch));
    }
  }

  // 2. Scan the state: complete mode emits everything; groups the watermark
  // closed are emitted (append) and dropped (all modes but complete).
  std::vector<std::string> emit_values, drop_keys;
  int64_t total = 0;
  if (options_.mode == StreamOutputMode::kComplete || watermark) {
    std::vector<std::string> all_keys, all_values;
    ARROW_RETURN_NOT_OK(state->Scan([&](std::string_view k, std::string_view v) {
      all_keys.emplace_back(k);
      all_values.emplace_back(v);
      return Status::OK();
    }));
    total = static_cast<int64_t>(all_keys.size());
    if (options_.mode == StreamOutputMode::kComplete) {
      emit_values = all_values;
    } else if (!all_values.empty()) {
      arrow::ArrayVector keys, states;
      ARROW_RETURN_NOT_OK(Decode(all_values, &keys, &states));
      for (size_t r = 0; r < all_values.size(); ++r) {
        auto closes = ClosesAt(keys, static_cast<int64_t>(r));
        if (closes && *closes <= watermark_us) {
          drop_keys.push_back(all_keys[r]);
          if (options_.mode == StreamOutputMode::kAppend) emit_values.push_back(all_values[r]);
        }
      }
    }
  } else {
    ARROW_RETURN_NOT_OK(state->Scan([&](std::string_view, std::string_view) {
      ++total;
      return Status::OK();
    }));
  }
  if (!emit_values.empty()) {
    arrow::ArrayVector keys, states;
    ARROW_RETURN_NOT_OK(Decode(emit_values, &keys, &states));
    ARROW_ASSIGN_OR_RAISE(auto batch,
                          Finalize(keys, states, static_cast<int64_t>(emit_values.size())));
    out.push_back(std::move(batch));
  }
  for (const auto& k : drop_keys) ARROW_RETURN_NOT_OK(state->Delete(k));
  metrics->rows_removed += static_cast<int64_t>(drop_keys.size());
  metrics->rows_total = total - static_cast<int64_t>(drop_keys.size());
  return out;
}

}  // namespace lakestream::exec
