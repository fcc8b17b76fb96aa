#include "stream/transform_with_state.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>

#include <cstring>

#include "exec/row_codec.h"
#include "stream/operator_state.h"

namespace lakestream::stream {

namespace {

std::string BigEndian(int64_t v) {
  // Order-preserving for non-negative times: timers scan in expiry order.
  uint64_t u = static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, u >>= 8) out[i] = static_cast<char>(u & 0xff);
  return out;
}

int64_t FromBigEndian(std::string_view s) {
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<unsigned char>(s[i]);
  return static_cast<int64_t>(u ^ (uint64_t{1} << 63));
}

}  // namespace

std::string EncodeInt64(int64_t v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof(v));
}

int64_t DecodeInt64(std::string_view bytes) {
  int64_t v = 0;
  if (bytes.size() == sizeof(v)) std::memcpy(&v, bytes.data(), sizeof(v));
  return v;
}

// ------------------------------------------------------------------ output

Status OutputRows::Emit(const std::vector<std::shared_ptr<arrow::Scalar>>& row) {
  if (static_cast<int>(row.size()) != schema_->num_fields()) {
    return UserError("transformWithState: emitted {} values for an output schema of {} columns",
                     row.size(), schema_->num_fields());
  }
  rows_.push_back(row);
  return Status::OK();
}

Result<std::shared_ptr<arrow::RecordBatch>> OutputRows::Take() {
  arrow::ArrayVector cols;
  for (int c = 0; c < schema_->num_fields(); ++c) {
    const auto& type = schema_->field(c)->type();
    std::unique_ptr<arrow::ArrayBuilder> b;
    ARROW_RETURN_NOT_OK(arrow::MakeBuilder(arrow::default_memory_pool(), type, &b));
    for (const auto& r : rows_) {
      auto v = r[c];
      if (!v || !v->is_valid) {
        ARROW_RETURN_NOT_OK(b->AppendNull());
        continue;
      }
      if (!v->type->Equals(*type)) {
        auto cast = v->CastTo(type);
        if (!cast.ok()) {
          return UserError("transformWithState: column `{}` is {} but a {} was emitted",
                           schema_->field(c)->name(), type->ToString(), v->type->ToString());
        }
        v = *cast;
      }
      ARROW_RETURN_NOT_OK(b->AppendScalar(*v));
    }
    ARROW_ASSIGN_OR_RAISE(auto a, b->Finish());
    cols.push_back(std::move(a));
  }
  auto batch = arrow::RecordBatch::Make(schema_, static_cast<int64_t>(rows_.size()), cols);
  rows_.clear();
  return batch;
}

// ------------------------------------------------------------------ state variables

std::string StatefulProcessorHandle::Prefix(char kind, const std::string& name) const {
  std::string p(1, kind);
  p += name;
  p.push_back('\0');
  p += key_;
  return p;
}

// A TTL'd value is stored as 'T' + expiry (be64) + value; others as 'V' + value.
std::string StatefulProcessorHandle::Wrap(const std::string& value, int64_t ttl_ms) const {
  if (ttl_ms <= 0) return "V" + value;
  return "T" + BigEndian(now_ms_ + ttl_ms) + value;
}

bool StatefulProcessorHandle::Expired(std::string_view stored) const {
  return !stored.empty() && stored[0] == 'T' && stored.size() >= 9 &&
         FromBigEndian(stored.substr(1, 8)) <= now_ms_;
}

namespace {
std::string Unwrap(std::string_view stored) {
  if (!stored.empty() && stored[0] == 'T') return std::string(stored.substr(9));
  return std::string(stored.substr(1));
}
}  // namespace

ValueState* StatefulProcessorHandle::GetValueState(const std::string& name, int64_t ttl_ms) {
  values_.emplace_back(new ValueState(this, name, ttl_ms));
  return values_.back().get();
}
ListState* StatefulProcessorHandle::GetListState(const std::string& name, int64_t ttl_ms) {
  lists_.emplace_back(new ListState(this, name, ttl_ms));
  return lists_.back().get();
}
MapState* StatefulProcessorHandle::GetMapState(const std::string& name, int64_t ttl_ms) {
  maps_.emplace_back(new MapState(this, name, ttl_ms));
  return maps_.back().get();
}

Result<std::optional<std::string>> ValueState::Get() {
  ARROW_ASSIGN_OR_RAISE(auto v, h_->store_->Get(h_->Prefix('v', name_)));
  if (!v || h_->Expired(*v)) return std::nullopt;
  return Unwrap(*v);
}
Status ValueState::Update(const std::string& value) {
  return h_->store_->Put(h_->Prefix('v', name_), h_->Wrap(value, ttl_ms_));
}
Status ValueState::Clear() { return h_->store_->Delete(h_->Prefix('v', name_)); }

Result<std::vector<std::string>> ListState::Get() {
  std::vector<std::string> out;
  ARROW_RETURN_NOT_OK(
      h_->store_->PrefixScan(h_->Prefix('l', name_), [&](std::string_view, std::string_view v) {
        if (!h_->Expired(v)) out.push_back(Unwrap(v));
        return Status::OK();
      }));
  return out;
}
Status ListState::Append(const std::string& value) {
  // The next sequence number: one past the last element's.
  auto prefix = h_->Prefix('l', name_);
  int64_t next = 0;
  ARROW_RETURN_NOT_OK(h_->store_->PrefixScan(prefix, [&](std::string_view k, std::string_view) {
    if (k.size() >= prefix.size() + 8)
      next = std::max(next, FromBigEndian(k.substr(prefix.size(), 8)) + 1);
    return Status::OK();
  }));
  return h_->store_->Put(prefix + BigEndian(next), h_->Wrap(value, ttl_ms_));
}
Status ListState::Put(const std::vector<std::string>& values) {
  ARROW_RETURN_NOT_OK(Clear());
  auto prefix = h_->Prefix('l', name_);
  for (size_t i = 0; i < values.size(); ++i) {
    ARROW_RETURN_NOT_OK(
        h_->store_->Put(prefix + BigEndian(static_cast<int64_t>(i)), h_->Wrap(values[i], ttl_ms_)));
  }
  return Status::OK();
}
Status ListState::Clear() {
  std::vector<std::string> keys;
  ARROW_RETURN_NOT_OK(
      h_->store_->PrefixScan(h_->Prefix('l', name_), [&](std::string_view k, std::string_view) {
        keys.emplace_back(k);
        return Status::OK();
      }));
  for (const auto& k : keys) ARROW_RETURN_NOT_OK(h_->store_->Delete(k));
  return Status::OK();
}

Result<std::optional<std::string>> MapState::Get(const std::string& key) {
  auto prefix = h_->Prefix('m', name_);
  prefix.push_back('\0');
  ARROW_ASSIGN_OR_RAISE(auto v, h_->store_->Get(prefix + key));
  if (!v || h_->Expired(*v)) return std::nullopt;
  return Unwrap(*v);
}
Status MapState::Put(const std::string& key, const std::string& value) {
  auto prefix = h_->Prefix('m', name_);
  prefix.push_back('\0');
  return h_->store_->Put(prefix + key, h_->Wrap(value, ttl_ms_));
}
Status MapState::Remove(const std::string& key) {
  auto prefix = h_->Prefix('m', name_);
  prefix.push_back('\0');
  return h_->store_->Delete(prefix + key);
}
Result<std::map<std::string, std::string>> MapState::Entries() {
  auto prefix = h_->Prefix('m', name_);
  prefix.push_back('\0');
  std::map<std::string, std::string> out;
  ARROW_RETURN_NOT_OK(h_->store_->PrefixScan(prefix, [&](std::string_view k, std::string_view v) {
    if (!h_->Expired(v)) out[std::string(k.substr(prefix.size()))] = Unwrap(v);
    return Status::OK();
  }));
  return out;
}
Status MapState::Clear() {
  auto prefix = h_->Prefix('m', name_);
  prefix.push_back('\0');
  std::vector<std::string> keys;
  ARROW_RETURN_NOT_OK(h_->store_->PrefixScan(prefix, [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return Status::OK();
  }));
  for (const auto& k : keys) ARROW_RETURN_NOT_OK(h_->store_->Delete(k));
  return Status::OK();
}

// ------------------------------------------------------------------ timers

Status StatefulProcessorHandle::RegisterTimer(int64_t expiry_ms) {
  if (time_mode_ == TimeMode::kNone) {
    return UserError("transformWithState: timers need timeMode processingTime or eventTime");
  }
  ARROW_RETURN_NOT_OK(store_->Put("t" + BigEndian(expiry_ms) + key_, ""));
  return store_->Put("k" + key_ + BigEndian(expiry_ms), "");
}

Status StatefulProcessorHandle::DeleteTimer(int64_t expiry_ms) {
  ARROW_RETURN_NOT_OK(store_->Delete("t" + BigEndian(expiry_ms) + key_));
  return store_->Delete("k" + key_ + BigEndian(expiry_ms));
}

Result<std::vector<int64_t>> StatefulProcessorHandle::ListTimers() {
  std::vector<int64_t> out;
  auto prefix = "k" + key_;
  ARROW_RETURN_NOT_OK(store_->PrefixScan(prefix, [&](std::string_view k, std::string_view) {
    // Keys of other grouping keys may share the prefix; their length differs.
    if (k.size() == prefix.size() + 8) out.push_back(FromBigEndian(k.substr(prefix.size())));
    return Status::OK();
  }));
  return out;
}

// ------------------------------------------------------------------ runtime

Result<std::unique_ptr<TransformWithState>> TransformWithState::Make(
    const TransformWithStateSpec& spec, const std::shared_ptr<arrow::Schema>& input_schema) {
  std::unique_ptr<TransformWithState> t(new TransformWithState());
  t->spec_ = spec;
  t->input_schema_ = input_schema;
  if (!spec.make_processor || !spec.output_schema) {
    return UserError("transformWithState needs a processor and an output schema");
  }
  arrow::FieldVector key_fields;
  for (const auto& k : spec.key_columns) {
    int i = input_schema->GetFieldIndex(k);
    if (i < 0)
      return UserError("transformWithState: grouping column `{}` is not in {}", k,
                       input_schema->ToString());
    t->key_indices_.push_back(i);
    key_fields.push_back(input_schema->field(i));
  }
  t->key_schema_ = arrow::schema(key_fields);
  t->processor_ = spec.make_processor();
  t->handle_.time_mode_ = spec.time_mode;
  ARROW_RETURN_NOT_OK(t->processor_->Init(&t->handle_, spec.time_mode));
  return t;
}

Result<bool> TransformWithState::HasDueTimer(OperatorState* state, int64_t now_ms) const {
  if (spec_.time_mode != TimeMode::kProcessingTime) return false;
  bool due = false;
  ARROW_RETURN_NOT_OK(state->PrefixScan("t", [&](std::string_view k, std::string_view) {
    if (k.size() >= 9 && FromBigEndian(k.substr(1, 8)) <= now_ms) due = true;
    return Status::OK();
  }));
  return due;
}

Result<std::shared_ptr<arrow::RecordBatch>> TransformWithState::KeyBatch(
    std::string_view encoded) const {
  std::vector<std::unique_ptr<arrow::ArrayBuilder>> builders;
  std::vector<arrow::ArrayBuilder*> raw;
  for (const auto& f : key_schema_->fields()) {
    std::unique_ptr<arrow::ArrayBuilder> b;
    ARROW_RETURN_NOT_OK(arrow::MakeBuilder(arrow::default_memory_pool(), f->type(), &b));
    raw.push_back(b.get());
    builders.push_back(std::move(b));
  }
  ARROW_RETURN_NOT_OK(exec::DecodeRow(&encoded, raw));
  arrow::ArrayVector cols;
  for (auto& b : builders) {
    ARROW_ASSIGN_OR_RAISE(auto a, b->Finish());
    cols.push_back(std::move(a));
  }
  return arrow::RecordBatch::Make(key_schema_, 1, cols);
}

Status TransformWithState::GroupAndCall(
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& input, const TimerValues& tv,
    bool initial, OutputRows* out) {
  // Rows by encoded key, in first-seen order (deterministic for a replayed batch).
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::pair<size_t, int64_t>>> groups;
  for (size_t b = 0; b < input.size(); ++b) {
    std::vector<const arrow::Array*> cols;
    for (int i : key_indices_) cols.push_back(input[b]->column(i).get());
    for (int64_t r = 0; r < input[b]->num_rows(); ++r) {
      std::string key;
      ARROW_RETURN_NOT_OK(exec::EncodeRow(cols, r, &key));
      auto& g = groups[key];
      if (g.empty()) order.push_back(key);
      g.emplace_back(b, r);
    }
  }
  for (const auto& key : order) {
    const auto& rows = groups[key];
    arrow::Int64Builder idx;
    std::vector<std::shared_ptr<arrow::RecordBatch>> parts;
    // Rows of one key, batch by batch.
    size_t cur = rows.front().first;
    auto flush = [&]() -> Status {
      ARROW_ASSIGN_OR_RAISE(auto indices, idx.Finish());
      ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(input[cur], indices));
      parts.push_back(taken.record_batch());
      return Status::OK();
    };
    for (const auto& [b, r] : rows) {
      if (b != cur) {
        ARROW_RETURN_NOT_OK(flush());
        cur = b;
      }
      ARROW_RETURN_NOT_OK(idx.Append(r));
    }
    ARROW_RETURN_NOT_OK(flush());
    ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(input[0]->schema(), parts));
    ARROW_ASSIGN_OR_RAISE(auto batch, table->CombineChunksToBatch());
    ARROW_ASSIGN_OR_RAISE(auto key_batch, KeyBatch(key));
    handle_.key_ = key;
    if (initial) {
      ARROW_RETURN_NOT_OK(processor_->HandleInitialState(key_batch, batch, tv));
    } else {
      ARROW_RETURN_NOT_OK(processor_->HandleInputRows(key_batch, batch, tv, out));
    }
  }
  return Status::OK();
}

Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> TransformWithState::Process(
    const std::vector<std::shared_ptr<arrow::RecordBatch>>& input, int64_t batch_timestamp_ms,
    int64_t watermark_ms, bool first_batch, OperatorState* state) {
  handle_.store_ = state;
  handle_.now_ms_ = batch_timestamp_ms;
  TimerValues tv;
  tv.processing_time_ms = batch_timestamp_ms;
  if (spec_.time_mode == TimeMode::kEventTime && watermark_ms > 0) tv.watermark_ms = watermark_ms;
  OutputRows out(spec_.output_schema);
  if (first_batch && !spec_.initial_state.empty()) {
    ARROW_RETURN_NOT_OK(GroupAndCall(spec_.initial_state, tv, /*initial=*/true, &out));
  }
  ARROW_RETURN_NOT_OK(GroupAndCall(input, tv, /*initial=*/false, &out));

  // Expired timers, in expiry order: processing time against the batch
  // timestamp, event time against the watermark.
  std::optional<int64_t> now;
  if (spec_.time_mode == TimeMode::kProcessingTime) now = batch_timestamp_ms;
  if (spec_.time_mode == TimeMode::kEventTime && tv.watermark_ms) now = *tv.watermark_ms;
  if (now) {
    std::vector<std::pair<int64_t, std::string>> due;
    ARROW_RETURN_NOT_OK(state->PrefixScan("t", [&](std::string_view k, std::string_view) {
      if (k.size() < 9) return Status::OK();
      int64_t expiry = FromBigEndian(k.substr(1, 8));
      if (expiry <= *now) due.emplace_back(expiry, std::string(k.substr(9)));
      return Status::OK();
    }));
    std::sort(due.begin(), due.end());
    for (const auto& [expiry, key] : due) {
      handle_.key_ = key;
      ARROW_RETURN_NOT_OK(handle_.DeleteTimer(expiry));
      ARROW_ASSIGN_OR_RAISE(auto key_batch, KeyBatch(key));
      ARROW_RETURN_NOT_OK(
          processor_->HandleExpiredTimer(key_batch, tv, ExpiredTimerInfo{expiry}, &out));
      ++timers_fired_;
    }
  }

  // TTL: expired values leave the state at the end of the batch.
  std::vector<std::string> expired;
  for (char kind : {'v', 'l', 'm'}) {
    ARROW_RETURN_NOT_OK(
        state->PrefixScan(std::string(1, kind), [&](std::string_view k, std::string_view v) {
          if (handle_.Expired(v)) expired.emplace_back(k);
          return Status::OK();
        }));
  }
  for (const auto& k : expired) ARROW_RETURN_NOT_OK(state->Delete(k));

  ARROW_ASSIGN_OR_RAISE(auto batch, out.Take());
  return std::vector<std::shared_ptr<arrow::RecordBatch>>{batch};
}

}  // namespace lakestream::stream
