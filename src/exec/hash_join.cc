// See hash_join.h. Keys are row-encoded (a null byte, then the value's bytes:
// fixed width as stored, variable width with a 4-byte length) so one hash
// table handles every key type and every key count; equal keys have equal
// bytes because floating point keys are normalized first (-0.0 = 0.0, one NaN).
#include "exec/hash_join.h"

#include <arrow/array/util.h>
#include <arrow/builder.h>
#include <arrow/compute/api_vector.h>
#include <fmt/format.h>

#include <cstring>

#include "exec/batch_internal.h"
#include "expr/evaluator.h"

namespace lakestream::exec {

namespace cp = arrow::compute;
using internal::ArrayPtr;
using internal::EncodedKeys;
using internal::EncodeKeys;

const char* JoinTypeName(JoinType t) {
  switch (t) {
    case JoinType::kInner:
      return "Inner";
    case JoinType::kLeftOuter:
      return "LeftOuter";
    case JoinType::kRightOuter:
      return "RightOuter";
    case JoinType::kFullOuter:
      return "FullOuter";
    case JoinType::kLeftSemi:
      return "LeftSemi";
    case JoinType::kLeftAnti:
      return "LeftAnti";
    case JoinType::kCross:
      return "Cross";
  }
  return "?";
}

namespace {

/// True when idx[start, start + len) is first, first + 1, ...: the rows can be
/// sliced instead of gathered (an inner join where each probe row matches
/// once, the common case of a foreign key join).
bool IsContiguous(const std::vector<int64_t>& idx, int64_t start, int64_t len) {
  if (len == 0) return false;
  const int64_t first = idx[start];
  if (first < 0) return false;
  for (int64_t i = 1; i < len; ++i) {
    if (idx[start + i] != first + i) return false;
  }
  return true;
}

Result<ArrayPtr> Indices(const std::vector<int64_t>& idx, int64_t start, int64_t len,
                         arrow::MemoryPool* pool) {
  // -1 means NULL (the padded side of an outer join). Without one the
  // indices are wrapped, not copied: Take reads them and keeps no reference,
  // and `idx` outlives the call.
  bool any_null = false;
  for (int64_t i = start; i < start + len; ++i) any_null |= idx[i] < 0;
  if (!any_null) {
    auto data =
        std::make_shared<arrow::Buffer>(reinterpret_cast<const uint8_t*>(idx.data() + start),
                                        len * static_cast<int64_t>(sizeof(int64_t)));
    return std::make_shared<arrow::Int64Array>(len, std::move(data));
  }
  arrow::Int64Builder b(pool);
  ARROW_RETURN_NOT_OK(b.Reserve(len));
  for (int64_t i = start; i < start + len; ++i) {
    if (idx[i] < 0) {
      b.UnsafeAppendNull();
    } else {
      b.UnsafeAppend(idx[i]);
    }
  }
  return b.Finish();
}

}  // namespace

namespace {

// A single 4- or 8-byte key that is not null-safe (the common case) is hashed
// and compared as one integer instead of through the row encoding.
bool FastKeyEligible(const std::vector<ArrayPtr>& keys, const std::vector<bool>& null_safe) {
  if (keys.size() != 1 || (!null_safe.empty() && null_safe[0])) return false;
  const auto& t = *keys[0]->type();
  if (t.id() == arrow::Type::BOOL) return false;
  const int w = t.byte_width();
  return w == 4 || w == 8;
}

void LoadFastKeys(const arrow::Array& a, std::vector<uint64_t>* vals, std::vector<uint8_t>* valid) {
  const int64_t n = a.length();
  const int w = a.type()->byte_width();
  vals->resize(n);
  valid->assign(n, 1);
  const uint8_t* src = a.data()->buffers[1]->data() + a.offset() * w;
  if (w == 8) {
    std::memcpy(vals->data(), src, n * 8);
  } else {
    const uint32_t* v = reinterpret_cast<const uint32_t*>(src);
    for (int64_t i = 0; i < n; ++i) (*vals)[i] = v[i];
  }
  if (a.null_count() > 0) {
    for (int64_t i = 0; i < n; ++i) (*valid)[i] = a.IsValid(i);
  }
}

inline uint64_t FastHash(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace

class HashJoinNode::Table {
 public:
  std::vector<ArrayPtr> columns;
  int64_t num_rows = 0;
  EncodedKeys keys;  // hashes and matchable always; bytes/offsets unless `fast`
  bool fast = false;
  std::vector<uint64_t> key64;   // fast: the key values
  std::vector<int64_t> buckets;  // head build row per bucket, -1 if none
  std::vector<int64_t> next;     // next build row in the same bucket
  uint64_t mask = 0;
  std::unique_ptr<std::atomic<uint8_t>[]> matched;  // right/full outer

  // Fast keys: an open-addressing table of (key, first build row), so a probe
  // of a unique key reads one slot instead of a bucket, a key and a link in
  // three arrays (each a cache miss at a million rows). kMore marks a key
  // with further rows, chained through `next` in build order.
  struct Slot {
    uint64_t key;
    int64_t row;  // -1: empty
  };
  static constexpr int64_t kMore = int64_t{1} << 62;
  std::vector<Slot> slots;
  bool unique = true;  // fast: no key has two rows (no kMore anywhere)

  // Fast keys spanning a range of at most twice the build rows (a dense
  // surrogate key, the usual dimension table): the key minus the smallest key
  // indexes an array of first rows directly, as DuckDB's perfect hash join
  // does: no hashing, no key comparison, and 4 bytes per key instead of a
  // 16-byte slot per two rows, so the array stays in cache far longer.
  static constexpr int32_t kDirectMore = int32_t{1} << 30;
  bool direct = false;
  uint64_t direct_min = 0;
  uint64_t direct_range = 0;   // keys are direct_min .. direct_min + direct_range
  std::vector<int32_t> heads;  // direct: first row | kDirectMore, or -1

  /// Chooses the direct array when the keys are dense enough.
  void PlanDirect() {
    if (num_rows == 0 || num_rows >= kDirectMore) return;
    uint64_t lo = UINT64_MAX, hi = 0;
    bool any = false;
    for (int64_t r = 0; r < num_rows; ++r) {
      if (!keys.matchable[r]) continue;
      lo = std::min(lo, key64[r]);
      hi = std::max(hi, key64[r]);
      any = true;
    }
    if (!any || hi - lo >= static_cast<uint64_t>(num_rows) * 2 + 1024) return;
    direct = true;
    direct_min = lo;
    direct_range = hi - lo;
  }

  void BuildDirect() {
    heads.assign(direct_range + 1, -1);
    next.assign(num_rows, -1);
    for (int64_t r = num_rows - 1; r >= 0; --r) {
      if (!keys.matchable[r]) continue;
      int32_t& head = heads[key64[r] - direct_min];
      if (head >= 0) {
        next[r] = head & ~kDirectMore;
        head = static_cast<int32_t>(r) | kDirectMore;
        unique = false;
      } else {
        head = static_cast<int32_t>(r);
      }
    }
  }

  void BuildFast() {
    PlanDirect();
    if (direct) return BuildDirect();
    keys.hashes.resize(num_rows);
    for (int64_t i = 0; i < num_rows; ++i) keys.hashes[i] = FastHash(key64[i]);
    uint64_t size = 16;
    while (size < static_cast<uint64_t>(num_rows) * 2) size <<= 1;
    mask = size - 1;
    slots.assign(size, Slot{0, -1});
    next.assign(num_rows, -1);
    for (int64_t r = num_rows - 1; r >= 0; --r) {
      if (!keys.matchable[r]) continue;
      uint64_t i = keys.hashes[r] & mask;
      while (slots[i].row >= 0 && slots[i].key != key64[r]) i = (i + 1) & mask;
      if (slots[i].row >= 0) {
        next[r] = slots[i].row & ~kMore;
        slots[i].row = r | kMore;
        unique = false;
      } else {
        slots[i] = Slot{key64[r], r};
      }
    }
  }

  void Build() {
    if (fast) return BuildFast();
    uint64_t size = 16;
    while (size < static_cast<uint64_t>(num_rows) * 2) size <<= 1;
    mask = size - 1;
    buckets.assign(size, -1);
    next.assign(num_rows, -1);
    // Reverse insertion keeps each chain in build order.
    for (int64_t r = num_rows - 1; r >= 0; --r) {
      if (!keys.matchable[r]) continue;
      auto& head = buckets[keys.hashes[r] & mask];
      next[r] = head;
      head = r;
    }
  }
  int64_t MemoryUsage() const {
    return keys.MemoryUsage() + key64.capacity() * 8 + buckets.capacity() * 8 +
           slots.capacity() * sizeof(Slot) + heads.capacity() * 4 + next.capacity() * 8;
  }
};

Result<std::shared_ptr<HashJoinNode>> HashJoinNode::Make(PhysicalNodePtr left,
                                                         PhysicalNodePtr right,
                                                         HashJoinOptions options) {
  if (options.left_keys.size() != options.right_keys.size()) {
    return InternalError("join has {} left keys but {} right keys", options.left_keys.size(),
                         options.right_keys.size());
  }
  for (size_t i = 0; i < options.left_keys.size(); ++i) {
    if (!options.left_keys[i]->type->Equals(*options.right_keys[i]->type)) {
      return InternalError("join key {} has type {} on the left but {} on the right", i,
                           options.left_keys[i]->type->ToString(),
                           options.right_keys[i]->type->ToString());
    }
  }
  const JoinType t = options.type;
  const bool left_nullable = t == JoinType::kRightOuter || t == JoinType::kFullOuter;
  const bool right_nullable = t == JoinType::kLeftOuter || t == JoinType::kFullOuter;
  std::vector<std::shared_ptr<arrow::Field>> fields;
  for (const auto& f : left->schema()->fields()) {
    fields.push_back(left_nullable ? f->WithNullable(true) : f);
  }
  if (t != JoinType::kLeftSemi && t != JoinType::kLeftAnti) {
    for (const auto& f : right->schema()->fields()) {
      fields.push_back(right_nullable ? f->WithNullable(true) : f);
    }
  }
  return std::make_shared<HashJoinNode>(std::move(left), std::move(right), std::move(options),
                                        arrow::schema(std::move(fields)));
}

HashJoinNode::HashJoinNode(PhysicalNodePtr left, PhysicalNodePtr right, HashJoinOptions options,
                           std::shared_ptr<arrow::Schema> schema)
    : options_(std::move(options)) {
  schema_ = std::move(schema);
  children_ = {std::move(left), std::move(right)};
}

HashJoinNode::~HashJoinNode() = default;

std::string HashJoinNode::ToString() const {
  std::string keys;
  for (size_t i = 0; i < options_.left_keys.size(); ++i) {
    const bool safe = i < options_.null_safe.size() && options_.null_safe[i];
    keys += fmt::format("{}{} {} {}", i ? ", " : "", options_.left_keys[i]->ToString(),
                        safe ? "<=>" : "=", options_.right_keys[i]->ToString());
  }
  std::string out = fmt::format("HashJoin({}, [{}]", JoinTypeName(options_.type), keys);
  if (options_.residual) out += ", condition=" + options_.residual->ToString();
  return out + ")";
}

Status HashJoinNode::Prepare(ExecContext* ctx) {
  ctx_ = ctx;
  build_batches_.assign(std::max(1, ctx->threads), {});
  scratch_.assign(std::max(1, ctx->threads), {});
  build_bytes_ = 0;
  table_.reset();
  // In an inner join a build column that is itself an equi-join key equals the
  // probe key column it matched, value for value, when equal keys have equal
  // representations (not floating point: -0.0 matches 0.0): output it as that
  // probe column instead of gathering it at random from the build side.
  right_from_left_.assign(children_[1]->schema()->num_fields(), -1);
  if (options_.type == JoinType::kInner) {
    for (size_t k = 0; k < options_.right_keys.size(); ++k) {
      const auto& r = *options_.right_keys[k];
      const auto& l = *options_.left_keys[k];
      if (r.kind != expr::ExprKind::kColumn || l.kind != expr::ExprKind::kColumn) continue;
      const auto& type = *children_[1]->schema()->field(r.column_index)->type();
      if (!type.Equals(*children_[0]->schema()->field(l.column_index)->type())) continue;
      const bool exact = arrow::is_integer(type.id()) || arrow::is_string(type.id()) ||
                         arrow::is_binary(type.id()) || type.id() == arrow::Type::DATE32 ||
                         type.id() == arrow::Type::TIMESTAMP || type.id() == arrow::Type::BOOL;
      if (exact) right_from_left_[r.column_index] = l.column_index;
    }
  }
  return Status::OK();
}

Status HashJoinNode::Consume(int child, int thread, BatchPtr batch) {
  if (batch->num_rows() == 0) return Status::OK();
  int64_t bytes = 0;
  for (const auto& c : batch->columns()) {
    for (const auto& b : c->data()->buffers) bytes += b ? b->size() : 0;
  }
  const int64_t total = build_bytes_.fetch_add(bytes) + bytes;
  if (total > ctx_->memory_limit) {
    return internal::MemoryLimitError("hash join build side", total, ctx_->memory_limit);
  }
  build_batches_[thread].push_back(std::move(batch));
  return Status::OK();
}

Status HashJoinNode::FinishSink(int child) {
  std::vector<BatchPtr> all;
  for (auto& v : build_batches_) {
    for (auto& b : v) all.push_back(std::move(b));
  }
  build_batches_.clear();
  auto table = std::make_unique<Table>();
  const auto& right_schema = children_[1]->schema();
  ARROW_ASSIGN_OR_RAISE(table->columns,
                        internal::ConcatenateColumns(right_schema, all, ctx_->pool));
  for (const auto& b : all) table->num_rows += b->num_rows();
  all.clear();
  if (!options_.right_keys.empty()) {
    auto batch = arrow::RecordBatch::Make(right_schema, table->num_rows, table->columns);
    ARROW_ASSIGN_OR_RAISE(auto keys, internal::EvaluateAll(options_.right_keys, *batch, *ctx_));
    for (auto& k : keys) {
      ARROW_ASSIGN_OR_RAISE(k, internal::NormalizeKey(k, ctx_->pool));
    }
    if (FastKeyEligible(keys, options_.null_safe)) {
      table->fast = true;
      LoadFastKeys(*keys[0], &table->key64, &table->keys.matchable);
    } else {
      ARROW_RETURN_NOT_OK(EncodeKeys(keys, options_.null_safe, table->num_rows, &table->keys));
    }
    table->Build();
    const int64_t total = build_bytes_ + table->MemoryUsage();
    if (total > ctx_->memory_limit) {
      return internal::MemoryLimitError("hash join build side", total, ctx_->memory_limit);
    }
  }
  if (options_.type == JoinType::kRightOuter || options_.type == JoinType::kFullOuter) {
    table->matched.reset(new std::atomic<uint8_t>[table->num_rows]);
    for (int64_t i = 0; i < table->num_rows; ++i)
      table->matched[i].store(0, std::memory_order_relaxed);
  }
  table_ = std::move(table);
  return Status::OK();
}

Result<OperatorResult> HashJoinNode::Execute(int thread, BatchPtr batch, const Emit& emit) {
  if (table_ == nullptr) return InternalError("hash join probed before its build side finished");
  const int64_t n = batch->num_rows();
  if (n == 0) return OperatorResult::kNeedMoreInput;
  // Per-worker buffers, reused from batch to batch: fresh vectors of a batch's
  // size are fresh pages from the kernel each time (malloc maps them), and
  // zeroing those pages cost more than the probe itself.
  ProbeScratch& scratch = scratch_[thread];
  std::vector<int64_t>& probe_idx = scratch.probe_idx;
  std::vector<int64_t>& build_idx = scratch.build_idx;
  if (static_cast<int64_t>(probe_idx.capacity()) > 4 * std::max<int64_t>(n, ctx_->batch_size)) {
    // A cross join's pairs: do not hold on to them.
    probe_idx = {};
    build_idx = {};
  }
  probe_idx.clear();
  build_idx.clear();
  const Table& t = *table_;
  if (options_.left_keys.empty()) {
    // No equi-keys: every pair (a cross join, or a nested loop over the residual).
    if (t.num_rows > 0) {
      probe_idx.reserve(n * t.num_rows);
      build_idx.reserve(n * t.num_rows);
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t r = 0; r < t.num_rows; ++r) {
          probe_idx.push_back(i);
          build_idx.push_back(r);
        }
      }
    }
  } else if (t.num_rows > 0) {
    ARROW_ASSIGN_OR_RAISE(auto keys, internal::EvaluateAll(options_.left_keys, *batch, *ctx_));
    for (auto& k : keys) {
      ARROW_ASSIGN_OR_RAISE(k, internal::NormalizeKey(k, ctx_->pool));
    }
    probe_idx.reserve(n);
    build_idx.reserve(n);
    if (t.fast) {
      std::vector<uint64_t>& vals = scratch.vals;
      std::vector<uint8_t>& valid = scratch.valid;
      LoadFastKeys(*keys[0], &vals, &valid);
      // Each probe row reads its slot (or direct head) at random in a table
      // far larger than the first caches: the positions are computed first
      // and the slot kProbeAhead rows on is prefetched, so the misses overlap.
      constexpr int64_t kProbeAhead = 16;
      std::vector<uint64_t>& pos = scratch.pos;
      pos.resize(n);
      // A unique build side gives at most one pair per probe row: the pairs
      // are written in place rather than appended.
      int64_t out = 0;
      if (t.unique) {
        probe_idx.resize(n);
        build_idx.resize(n);
      }
      auto add = [&](int64_t i, int64_t row) {
        if (t.unique) {
          probe_idx[out] = i;
          build_idx[out] = row;
          ++out;
        } else {
          probe_idx.push_back(i);
          build_idx.push_back(row);
        }
      };
      if (t.direct) {
        const uint64_t lo = t.direct_min;
        const uint64_t range = t.direct_range;
        const int32_t* heads = t.heads.data();
        // Out-of-range keys look up position 0 and are refused below.
        for (int64_t i = 0; i < n; ++i) {
          const uint64_t d = vals[i] - lo;
          pos[i] = d <= range ? d : 0;
        }
        for (int64_t i = 0; i < std::min(n, kProbeAhead); ++i) __builtin_prefetch(heads + pos[i]);
        for (int64_t i = 0; i < n; ++i) {
          if (i + kProbeAhead < n) __builtin_prefetch(heads + pos[i + kProbeAhead]);
          if (!valid[i] || vals[i] - lo > range) continue;
          const int32_t head = heads[pos[i]];
          if (head < 0) continue;
          const int64_t first = head & ~Table::kDirectMore;
          add(i, first);
          if (head & Table::kDirectMore) {
            for (int64_t r = t.next[first]; r >= 0; r = t.next[r]) add(i, r);
          }
        }
      } else {
        for (int64_t i = 0; i < n; ++i) pos[i] = FastHash(vals[i]) & t.mask;
        for (int64_t i = 0; i < std::min(n, kProbeAhead); ++i) {
          __builtin_prefetch(&t.slots[pos[i]]);
        }
        for (int64_t i = 0; i < n; ++i) {
          if (i + kProbeAhead < n) __builtin_prefetch(&t.slots[pos[i + kProbeAhead]]);
          if (!valid[i]) continue;
          const uint64_t v = vals[i];
          uint64_t s = pos[i];
          while (t.slots[s].row >= 0 && t.slots[s].key != v) s = (s + 1) & t.mask;
          const int64_t head = t.slots[s].row;
          if (head < 0) continue;
          add(i, head & ~Table::kMore);
          if (head & Table::kMore) {
            for (int64_t r = t.next[head & ~Table::kMore]; r >= 0; r = t.next[r]) add(i, r);
          }
        }
      }
      if (t.unique) {
        probe_idx.resize(out);
        build_idx.resize(out);
      }
      ARROW_RETURN_NOT_OK(EmitPairs(batch, &probe_idx, &build_idx, emit));
      return OperatorResult::kNeedMoreInput;
    }
    EncodedKeys enc;
    ARROW_RETURN_NOT_OK(EncodeKeys(keys, options_.null_safe, n, &enc));
    probe_idx.reserve(n);
    build_idx.reserve(n);
    const uint8_t* tb = t.keys.bytes.data();
    for (int64_t i = 0; i < n; ++i) {
      if (!enc.matchable[i]) continue;
      const uint64_t h = enc.hashes[i];
      const int64_t klen = enc.offsets[i + 1] - enc.offsets[i];
      const uint8_t* kp = enc.bytes.data() + enc.offsets[i];
      for (int64_t r = t.buckets[h & t.mask]; r >= 0; r = t.next[r]) {
        if (t.keys.hashes[r] != h) continue;
        const int64_t rlen = t.keys.offsets[r + 1] - t.keys.offsets[r];
        if (rlen != klen || std::memcmp(tb + t.keys.offsets[r], kp, klen) != 0) continue;
        probe_idx.push_back(i);
        build_idx.push_back(r);
      }
    }
  }
  ARROW_RETURN_NOT_OK(EmitPairs(batch, &probe_idx, &build_idx, emit));
  return OperatorResult::kNeedMoreInput;
}

Status HashJoinNode::EmitPairs(const BatchPtr& probe, std::vector<int64_t>* probe_idx,
                               std::vector<int64_t>* build_idx, const Emit& emit) {
  const Table& t = *table_;
  const int64_t n = probe->num_rows();
  const int left_cols = probe->num_columns();
  // Output schemas: left only (semi/anti), left ++ right (the pairs the residual sees).
  std::vector<std::shared_ptr<arrow::Field>> fields = children_[0]->schema()->fields();
  auto left_schema = arrow::schema(fields);
  for (const auto& f : children_[1]->schema()->fields()) fields.push_back(f);
  auto pair_schema = arrow::schema(std::move(fields));
  auto assemble = [&](int64_t start, int64_t len, bool with_right) -> Result<BatchPtr> {
    std::vector<ArrayPtr> cols;
    if (IsContiguous(*probe_idx, start, len)) {
      const int64_t first = (*probe_idx)[start];
      for (int c = 0; c < left_cols; ++c) cols.push_back(probe->column(c)->Slice(first, len));
    } else {
      ARROW_ASSIGN_OR_RAISE(auto pi, Indices(*probe_idx, start, len, ctx_->pool));
      for (int c = 0; c < left_cols; ++c) {
        ARROW_ASSIGN_OR_RAISE(auto col, cp::Take(*probe->column(c), *pi));
        cols.push_back(std::move(col));
      }
    }
    if (with_right) {
      ArrayPtr bi;
      for (size_t c = 0; c < t.columns.size(); ++c) {
        if (right_from_left_[c] >= 0) {
          // Equal to the probe key it matched: the probe column already gathered.
          cols.push_back(cols[right_from_left_[c]]);
          continue;
        }
        if (bi == nullptr) {
          ARROW_ASSIGN_OR_RAISE(bi, Indices(*build_idx, start, len, ctx_->pool));
        }
        ARROW_ASSIGN_OR_RAISE(auto col, cp::Take(*t.columns[c], *bi));
        cols.push_back(std::move(col));
      }
    }
    const auto& schema = !with_right                                              ? left_schema
                         : static_cast<int>(cols.size()) == schema_->num_fields() ? schema_
                                                                                  : pair_schema;
    return arrow::RecordBatch::Make(schema, len, std::move(cols));
  };

  // The residual predicate keeps the pairs where it is TRUE.
  if (options_.residual != nullptr && !probe_idx->empty()) {
    std::vector<int64_t> kept_p, kept_b;
    const int64_t total = static_cast<int64_t>(probe_idx->size());
    for (int64_t start = 0; start < total; start += ctx_->batch_size) {
      const int64_t len = std::min<int64_t>(ctx_->batch_size, total - start);
      ARROW_ASSIGN_OR_RAISE(auto pairs, assemble(start, len, true));
      ARROW_ASSIGN_OR_RAISE(auto pred, expr::Evaluate(*options_.residual, *pairs, ctx_->eval));
      if (pred.is_scalar()) {
        const auto& s = pred.scalar_as<arrow::BooleanScalar>();
        if (s.is_valid && s.value) {
          kept_p.insert(kept_p.end(), probe_idx->begin() + start, probe_idx->begin() + start + len);
          kept_b.insert(kept_b.end(), build_idx->begin() + start, build_idx->begin() + start + len);
        }
        continue;
      }
      auto p = std::static_pointer_cast<arrow::BooleanArray>(pred.make_array());
      for (int64_t i = 0; i < len; ++i) {
        if (p->IsValid(i) && p->Value(i)) {
          kept_p.push_back((*probe_idx)[start + i]);
          kept_b.push_back((*build_idx)[start + i]);
        }
      }
    }
    *probe_idx = std::move(kept_p);
    *build_idx = std::move(kept_b);
  }

  const JoinType type = options_.type;
  if (t.matched != nullptr) {
    for (int64_t r : *build_idx) t.matched[r].store(1, std::memory_order_relaxed);
  }
  bool with_right = true;
  if (type == JoinType::kLeftSemi || type == JoinType::kLeftAnti) {
    std::vector<uint8_t> hit(n, 0);
    for (int64_t i : *probe_idx) hit[i] = 1;
    probe_idx->clear();
    const uint8_t want = type == JoinType::kLeftSemi;
    for (int64_t i = 0; i < n; ++i) {
      if (hit[i] == want) probe_idx->push_back(i);
    }
    with_right = false;
  } else if (type == JoinType::kLeftOuter || type == JoinType::kFullOuter) {
    std::vector<uint8_t> hit(n, 0);
    for (int64_t i : *probe_idx) hit[i] = 1;
    for (int64_t i = 0; i < n; ++i) {
      if (!hit[i]) {
        probe_idx->push_back(i);
        build_idx->push_back(-1);
      }
    }
  }
  const int64_t total = static_cast<int64_t>(probe_idx->size());
  for (int64_t start = 0; start < total; start += ctx_->batch_size) {
    const int64_t len = std::min<int64_t>(ctx_->batch_size, total - start);
    ARROW_ASSIGN_OR_RAISE(auto out, assemble(start, len, with_right));
    ARROW_RETURN_NOT_OK(emit(std::move(out)));
  }
  return Status::OK();
}

Status HashJoinNode::Finish(const Emit& emit) {
  if (table_ == nullptr || table_->matched == nullptr) return Status::OK();
  const Table& t = *table_;
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < t.num_rows; ++r) {
    if (!t.matched[r].load(std::memory_order_relaxed)) rows.push_back(r);
  }
  const auto& left_schema = children_[0]->schema();
  const int64_t total = static_cast<int64_t>(rows.size());
  for (int64_t start = 0; start < total; start += ctx_->batch_size) {
    const int64_t len = std::min<int64_t>(ctx_->batch_size, total - start);
    std::vector<ArrayPtr> cols;
    for (const auto& f : left_schema->fields()) {
      ARROW_ASSIGN_OR_RAISE(auto nulls, arrow::MakeArrayOfNull(f->type(), len, ctx_->pool));
      cols.push_back(std::move(nulls));
    }
    ARROW_ASSIGN_OR_RAISE(auto bi, Indices(rows, start, len, ctx_->pool));
    for (const auto& c : t.columns) {
      ARROW_ASSIGN_OR_RAISE(auto col, cp::Take(*c, *bi));
      cols.push_back(std::move(col));
    }
    ARROW_RETURN_NOT_OK(emit(arrow::RecordBatch::Make(schema_, len, std::move(cols))));
  }
  return Status::OK();
}

}  // namespace lakestream::exec
