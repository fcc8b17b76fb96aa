#include "stream/transform_with_state.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>

#include <algorithm>
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

namespace {

constexpr size_t kKeyLength = 4;  // K's big-endian length header

std::string StoredKey(std::string_view encoded) {
  std::string k(kKeyLength, '\0');
  auto n = static_cast<uint32_t>(encoded.size());
  for (int i = 3; i >= 0; --i, n >>= 8) k[i] = static_cast<char>(n & 0xff);
  k.append(encoded);
  return k;
}

// K at `at` in `key` (clamped to the key's end when the bytes are not ours).
std::string_view KeyAt(std::string_view key, size_t at) {
  if (key.size() < at + kKeyLength) return key.substr(std::min(at, key.size()));
  uint32_t n = 0;
  for (size_t i = 0; i < kKeyLength; ++i) n = (n << 8) | static_cast<unsigned char>(key[at + i]);
  return key.substr(at, kKeyLength + n);
}

std::string Unwrap(std::string_view stored) {
  if (!stored.empty() && stored[0] == 'T') return std::string(stored.substr(9));
  return std::string(stored.substr(1));
}

}  // namespace

std::string_view TransformWithStateRoute(std::string_view key) {
  if (key.empty()) return key;
  switch (key[0]) {
    case 't':
    case 'x':
      return KeyAt(key, 9);
    case 'k':
      return KeyAt(key, 1);
    case 'v':
    case 'l':
    case 'c':
    case 'm': {
      size_t nul = key.find('\0', 1);
      return nul == std::string_view::npos ? key : KeyAt(key, nul + 1);
    }
    default:
      return key;
  }
}

std::string StatefulProcessorHandle::Prefix(char kind, const std::string& name) const {
  std::string p(1, kind);
  p += name;
  p.push_back('\0');
  p += key_;
  return p;
}

bool StatefulProcessorHandle::Expired(std::string_view stored) const {
  return !stored.empty() && stored[0] == 'T' && stored.size() >= 9 &&
         FromBigEndian(stored.substr(1, 8)) <= now_ms_;
}

// A TTL'd value is stored as 'T' + expiry (be64) + value, others as 'V' +
// value; the TTL index entry lets the end of a batch find it once expired.
Status StatefulProcessorHandle::PutValue(const std::string& state_key, const std::string& value,
                                         int64_t ttl_ms) {
  if (ttl_ms <= 0) return store_->Put(state_key, "V" + value);
  const std::string expiry = BigEndian(now_ms_ + ttl_ms);
  ARROW_RETURN_NOT_OK(store_->Put(state_key, "T" + expiry + value));
  return store_->Put("x" + expiry + key_ + state_key, "");
}

// Entries of the current key only: they all live in its partition.
Status StatefulProcessorHandle::PrefixScan(
    const std::string& prefix,
    const std::function<Status(std::string_view, std::string_view)>& fn) {
  return store_->PrefixScanIn(key_, prefix, fn);
}

void StatefulProcessorHandle::Declare(const std::string& name) {
  if (!declare_error_.ok()) return;
  if (name.find('\0') != std::string::npos) {
    declare_error_ = UserError("transformWithState: state variable name `{}` holds a NUL byte",
                               std::string_view(name).substr(0, name.find('\0')));
  } else if (std::find(names_.begin(), names_.end(), name) != names_.end()) {
    declare_error_ = UserError(
        "transformWithState: state variable `{}` is declared twice; each needs its own name", name);
  }
  names_.push_back(name);
}

ValueState* StatefulProcessorHandle::GetValueState(const std::string& name, int64_t ttl_ms) {
  Declare(name);
  values_.emplace_back(new ValueState(this, name, ttl_ms));
  return values_.back().get();
}
ListState* StatefulProcessorHandle::GetListState(const std::string& name, int64_t ttl_ms) {
  Declare(name);
  lists_.emplace_back(new ListState(this, name, ttl_ms));
  return lists_.back().get();
}
MapState* StatefulProcessorHandle::GetMapState(const std::string& name, int64_t ttl_ms) {
  Declare(name);
  maps_.emplace_back(new MapState(this, name, ttl_ms));
  return maps_.back().get();
}

Result<std::optional<std::string>> ValueState::Get() {
  ARROW_ASSIGN_OR_RAISE(auto v, h_->store_->Get(h_->Prefix('v', name_)));
  if (!v || h_->Expired(*v)) return std::nullopt;
  return Unwrap(*v);
}
Status ValueState::Update(const std::string& value) {
  return h_->PutValue(h_->Prefix('v', name_), value, ttl_ms_);
}
Status ValueState::Clear() { return h_->store_->Delete(h_->Prefix('v', name_)); }

Result<std::vector<std::string>> ListState::Get() {
  std::vector<std::string> out;
  ARROW_RETURN_NOT_OK(
      h_->PrefixScan(h_->Prefix('l', name_), [&](std::string_view, std::string_view v) {
        if (!h_->Expired(v)) out.push_back(Unwrap(v));
        return Status::OK();
      }));
  return out;
}
// Appending reads the list's next sequence number, not the list.
Status ListState::Append(const std::string& value) {
  const std::string counter = h_->Prefix('c', name_);
  ARROW_ASSIGN_OR_RAISE(auto stored, h_->store_->Get(counter));
  const int64_t next = stored ? DecodeInt64(*stored) : 0;
  ARROW_RETURN_NOT_OK(h_->PutValue(h_->Prefix('l', name_) + BigEndian(next), value, ttl_ms_));
  return h_->store_->Put(counter, EncodeInt64(next + 1),
                         stored ? exec::KeyHint::kPresent : exec::KeyHint::kUnknown);
}
Status ListState::Put(const std::vector<std::string>& values) {
  ARROW_RETURN_NOT_OK(Clear());
  if (values.empty()) return Status::OK();
  auto prefix = h_->Prefix('l', name_);
  for (size_t i = 0; i < values.size(); ++i) {
    ARROW_RETURN_NOT_OK(
        h_->PutValue(prefix + BigEndian(static_cast<int64_t>(i)), values[i], ttl_ms_));
  }
  return h_->store_->Put(h_->Prefix('c', name_), EncodeInt64(static_cast<int64_t>(values.size())));
}
Status ListState::Clear() {
  std::vector<std::string> keys;
  ARROW_RETURN_NOT_OK(
      h_->PrefixScan(h_->Prefix('l', name_), [&](std::string_view k, std::string_view) {
        keys.emplace_back(k);
        return Status::OK();
      }));
  for (const auto& k : keys) ARROW_RETURN_NOT_OK(h_->store_->Delete(k, exec::KeyHint::kPresent));
  return h_->store_->Delete(h_->Prefix('c', name_));
}

Result<std::optional<std::string>> MapState::Get(const std::string& key) {
  ARROW_ASSIGN_OR_RAISE(auto v, h_->store_->Get(h_->Prefix('m', name_) + key));
  if (!v || h_->Expired(*v)) return std::nullopt;
  return Unwrap(*v);
}
Status MapState::Put(const std::string& key, const std::string& value) {
  return h_->PutValue(h_->Prefix('m', name_) + key, value, ttl_ms_);
}
Status MapState::Remove(const std::string& key) {
  return h_->store_->Delete(h_->Prefix('m', name_) + key);
}
Result<std::map<std::string, std::string>> MapState::Entries() {
  const auto prefix = h_->Prefix('m', name_);
  std::map<std::string, std::string> out;
  ARROW_RETURN_NOT_OK(h_->PrefixScan(prefix, [&](std::string_view k, std::string_view v) {
    if (!h_->Expired(v)) out[std::string(k.substr(prefix.size()))] = Unwrap(v);
    return Status::OK();
  }));
  return out;
}
Status MapState::Clear() {
  std::vector<std::string> keys;
  ARROW_RETURN_NOT_OK(
      h_->PrefixScan(h_->Prefix('m', name_), [&](std::string_view k, std::string_view) {
        keys.emplace_back(k);
        return Status::OK();
      }));
  for (const auto& k : keys) ARROW_RETURN_NOT_OK(h_->store_->Delete(k, exec::KeyHint::kPresent));
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
  const auto prefix = "k" + key_;
  ARROW_RETURN_NOT_OK(PrefixScan(prefix, [&](std::string_view k, std::string_view) {
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
  ARROW_RETURN_NOT_OK(t->handle_.declare_error_);
  return t;
}

Result<bool> TransformWithState::HasDueTimer(OperatorState* state, int64_t now_ms) const {
  if (spec_.time_mode != TimeMode::kProcessingTime) return false;
  // Each store's first timer is its earliest.
  bool due = false;
  ARROW_RETURN_NOT_OK(state->PrefixScan("t", [&](std::string_view k, std::string_view) {
    if (k.size() >= 9 && FromBigEndian(k.substr(1, 8)) <= now_ms) due = true;
    return Status::Cancelled("first timer seen");
  }));
  return due;
}

Result<std::shared_ptr<arrow::RecordBatch>> TransformWithState::KeyBatch(
    std::string_view stored_key) const {
  std::string_view encoded = stored_key.substr(std::min(kKeyLength, stored_key.size()));
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
      std::string encoded;
      ARROW_RETURN_NOT_OK(exec::EncodeRow(cols, r, &encoded));
      auto& g = groups[StoredKey(encoded)];
      if (g.empty()) order.push_back(StoredKey(encoded));
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

// TTL: values whose expiry has passed leave the state at the end of the
// batch, found through the index in expiry order. An index entry whose value
// was rewritten since (a later expiry) or removed only goes itself.
Status TransformWithState::ExpireTtl(OperatorState* state) {
  std::vector<std::string> index;
  ARROW_RETURN_NOT_OK(state->PrefixScan("x", [&](std::string_view k, std::string_view) {
    if (k.size() < 9) return Status::OK();
    if (FromBigEndian(k.substr(1, 8)) > handle_.now_ms_) return Status::Cancelled("not yet");
    index.emplace_back(k);
    return Status::OK();
  }));
  std::vector<std::string> lists;  // list prefixes that lost elements
  for (const auto& entry : index) {
    std::string_view k(entry);
    const std::string_view key = KeyAt(k, 9);
    const std::string_view state_key = k.substr(9 + key.size());
    ARROW_ASSIGN_OR_RAISE(auto v, state->Get(state_key));
    if (v && handle_.Expired(*v)) {
      ARROW_RETURN_NOT_OK(state->Delete(state_key, exec::KeyHint::kPresent));
      if (!state_key.empty() && state_key[0] == 'l' && state_key.size() >= 8)
        lists.emplace_back(state_key.substr(0, state_key.size() - 8));
    }
    ARROW_RETURN_NOT_OK(state->Delete(k, exec::KeyHint::kPresent));
  }
  // A list left empty by expiry drops its sequence counter too.
  std::sort(lists.begin(), lists.end());
  lists.erase(std::unique(lists.begin(), lists.end()), lists.end());
  for (const auto& prefix : lists) {
    bool any = false;
    const std::string_view key = TransformWithStateRoute(prefix);
    ARROW_RETURN_NOT_OK(state->PrefixScanIn(key, prefix, [&](std::string_view, std::string_view) {
      any = true;
      return Status::Cancelled("one is enough");
    }));
    if (!any) ARROW_RETURN_NOT_OK(state->Delete("c" + prefix.substr(1)));
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
    // Each store lists its timers in expiry order: read up to `now`, then
    // merge the stores' by (expiry, key) so a replay fires them alike.
    std::vector<std::pair<int64_t, std::string>> due;
    ARROW_RETURN_NOT_OK(state->PrefixScan("t", [&](std::string_view k, std::string_view) {
      if (k.size() < 9) return Status::OK();
      int64_t expiry = FromBigEndian(k.substr(1, 8));
      if (expiry > *now) return Status::Cancelled("timers beyond now");
      due.emplace_back(expiry, std::string(k.substr(9)));
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

  ARROW_RETURN_NOT_OK(ExpireTtl(state));
  ARROW_ASSIGN_OR_RAISE(auto batch, out.Take());
  return std::vector<std::shared_ptr<arrow::RecordBatch>>{batch};
}

}  // namespace lakestream::stream
