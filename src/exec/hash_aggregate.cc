// See hash_aggregate.h.
#include "exec/hash_aggregate.h"

#include <arrow/array/util.h>
#include <arrow/builder.h>
#include <arrow/compute/api_vector.h>
#include <arrow/compute/exec.h>
#include <arrow/compute/row/grouper.h>
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "exec/batch_internal.h"
#include "expr/collation.h"
#include "expr/evaluator.h"

namespace lakestream::exec {

namespace cp = arrow::compute;
using internal::ArrayPtr;

struct HashAggregateNode::ThreadState {
  std::unique_ptr<cp::ExecContext> exec_ctx;
  std::unique_ptr<cp::Grouper> grouper;  // null for a global aggregate
  std::vector<std::unique_ptr<expr::GroupedAggregator>> aggs;
  int64_t num_groups = 0;
  int64_t key_bytes = 0;  // estimated bytes held by the grouper
  int64_t reported = 0;   // bytes of this thread counted in memory_used_
  std::vector<uint32_t> zeros;  // group ids of a global aggregate
  // Keys with a non-binary collation group by their collation keys; the value
  // shown for a group is the first one seen (as Spark), kept here per key
  // (null builder for other keys), one per group in group id order.
  std::vector<std::unique_ptr<arrow::StringBuilder>> representatives;
};

namespace {
// The collation of a grouping key when it groups by collation keys.
std::optional<types::Collation> GroupingCollation(const expr::Expr& key) {
  if (key.type->id() != arrow::Type::STRING) return std::nullopt;
  auto c = types::CollationOf(*key.type);
  if (c == types::Collation::kUtf8Binary) return std::nullopt;
  return c;
}

std::shared_ptr<arrow::DataType> GrouperKeyType(const expr::Expr& key) {
  auto c = GroupingCollation(key);
  if (!c) return key.type;
  return *c == types::Collation::kUtf8Lcase ? arrow::utf8() : arrow::binary();
}

// Appends, for each group in [first, last), the value of `values` at the
// group's first row (ids[r] is row r's group). Arrow's Grouper need not number
// new groups in row order (it hashes in mini-batches), so first rows are found
// per id, then appended in id order.
Status AppendRepresentatives(const uint32_t* ids, int64_t n, int64_t first, int64_t last,
                             const arrow::Array* values, arrow::StringBuilder* out) {
  std::vector<int64_t> first_row(last - first, -1);
  for (int64_t r = 0; r < n; ++r) {
    const int64_t id = ids[r];
    if (id >= first && id < last && first_row[id - first] < 0) first_row[id - first] = r;
  }
  for (int64_t r : first_row) {
    if (values == nullptr || r < 0 || values->IsNull(r)) {
      ARROW_RETURN_NOT_OK(out->AppendNull());
    } else {
      ARROW_RETURN_NOT_OK(out->Append(static_cast<const arrow::StringArray&>(*values).GetView(r)));
    }
  }
  return Status::OK();
}
}  // namespace

Result<std::shared_ptr<HashAggregateNode>> HashAggregateNode::Make(PhysicalNodePtr child,
                                                                   HashAggregateOptions options) {
  std::vector<std::shared_ptr<arrow::Field>> fields;
  const bool sets = !options.grouping_sets.empty();
  for (size_t i = 0; i < options.keys.size(); ++i) {
    std::string name = i < options.key_names.size() ? options.key_names[i] : fmt::format("k{}", i);
    fields.push_back(arrow::field(name, options.keys[i]->type, options.keys[i]->nullable || sets));
  }
  for (const auto& set : options.grouping_sets) {
    for (int k : set) {
      if (k < 0 || k >= static_cast<int>(options.keys.size())) {
        return InternalError("grouping set refers to key {} of {}", k, options.keys.size());
      }
    }
  }
  if (sets) {
    if (options.keys.size() > 63) return Unsupported("GROUPING SETS over more than 63 keys");
    fields.push_back(arrow::field("spark_grouping_id", arrow::int64(), false));
  }
  for (const auto& a : options.aggregates) {
    if (!a.aggregate.make || a.aggregate.result_type == nullptr) {
      return InternalError("aggregate {} is not resolved", a.name);
    }
    fields.push_back(arrow::field(a.name, a.aggregate.result_type, true));
  }
  return std::make_shared<HashAggregateNode>(std::move(child), std::move(options),
                                             arrow::schema(std::move(fields)));
}

HashAggregateNode::HashAggregateNode(PhysicalNodePtr child, HashAggregateOptions options,
                                     std::shared_ptr<arrow::Schema> schema)
    : options_(std::move(options)) {
  schema_ = std::move(schema);
  children_ = {std::move(child)};
}

HashAggregateNode::~HashAggregateNode() = default;

std::string HashAggregateNode::ToString() const {
  std::string keys, fns;
  for (size_t i = 0; i < options_.keys.size(); ++i) {
    keys += (i ? ", " : "") + options_.keys[i]->ToString();
  }
  for (size_t i = 0; i < options_.aggregates.size(); ++i) {
    const auto& a = options_.aggregates[i];
    fns += (i ? ", " : "") + (a.text.empty() ? a.name : a.text);
  }
  std::string out = fmt::format("HashAggregate(keys=[{}], functions=[{}]", keys, fns);
  if (!options_.grouping_sets.empty()) {
    out += ", grouping_sets=[";
    for (size_t s = 0; s < options_.grouping_sets.size(); ++s) {
      out += s ? ", (" : "(";
      for (size_t k = 0; k < options_.grouping_sets[s].size(); ++k) {
        out += (k ? ", " : "") + options_.keys[options_.grouping_sets[s][k]]->ToString();
      }
      out += ")";
    }
    out += "]";
  }
  return out + ")";
}

namespace {

// Arrow's Grouper takes no struct keys (window() groups by struct<start, end>):
// a struct key is grouped by its validity and its fields, recursively, and
// reassembled from the grouper's uniques on output.
void FlatKeyTypes(const std::shared_ptr<arrow::DataType>& t, std::vector<arrow::TypeHolder>* out) {
  if (t->id() != arrow::Type::STRUCT) {
    out->emplace_back(t);
    return;
  }
  out->emplace_back(arrow::boolean());
  for (const auto& f : t->fields()) FlatKeyTypes(f->type(), out);
}

Status FlattenKey(const ArrayPtr& a, arrow::MemoryPool* pool, std::vector<arrow::Datum>* out) {
  if (a->type_id() != arrow::Type::STRUCT) {
    out->emplace_back(a);
    return Status::OK();
  }
  const auto& st = static_cast<const arrow::StructArray&>(*a);
  arrow::BooleanBuilder valid(pool);
  ARROW_RETURN_NOT_OK(valid.Reserve(a->length()));
  for (int64_t i = 0; i < a->length(); ++i) valid.UnsafeAppend(a->IsValid(i));
  ARROW_ASSIGN_OR_RAISE(auto v, valid.Finish());
  out->emplace_back(v);
  for (int f = 0; f < st.num_fields(); ++f) {
    // Flattened fields carry the struct's nulls, so NULL structs group together.
    ARROW_ASSIGN_OR_RAISE(auto child, st.GetFlattenedField(f, pool));
    ARROW_RETURN_NOT_OK(FlattenKey(child, pool, out));
  }
  return Status::OK();
}

Result<ArrayPtr> UnflattenKey(const std::shared_ptr<arrow::DataType>& t, const std::vector<arrow::Datum>& flat,
                              size_t* pos, arrow::MemoryPool* pool) {
  if (t->id() != arrow::Type::STRUCT) return flat[(*pos)++].make_array();
  auto valid = std::static_pointer_cast<arrow::BooleanArray>(flat[(*pos)++].make_array());
  arrow::ArrayVector children;
  for (const auto& f : t->fields()) {
    ARROW_ASSIGN_OR_RAISE(auto c, UnflattenKey(f->type(), flat, pos, pool));
    children.push_back(std::move(c));
  }
  int64_t nulls = valid->length() - valid->true_count();
  std::shared_ptr<arrow::Buffer> bitmap;
  if (nulls > 0) bitmap = valid->values();
  if (nulls > 0 && valid->offset() != 0) return InternalError("unexpected offset in grouper uniques");
  return std::make_shared<arrow::StructArray>(t, valid->length(), children, bitmap, nulls);
}

}  // namespace

Status HashAggregateNode::MakeThreadState(ThreadState* st) {
  st->exec_ctx = std::make_unique<cp::ExecContext>(ctx_->pool);
  if (!options_.keys.empty()) {
    std::vector<arrow::TypeHolder> types;
    for (const auto& k : options_.keys) {
      FlatKeyTypes(GrouperKeyType(*k), &types);
      st->representatives.push_back(
          GroupingCollation(*k) ? std::make_unique<arrow::StringBuilder>(ctx_->pool) : nullptr);
    }
    if (!options_.grouping_sets.empty()) types.emplace_back(arrow::int64());
    ARROW_ASSIGN_OR_RAISE(st->grouper, cp::Grouper::Make(types, st->exec_ctx.get()));
  }
  for (const auto& a : options_.aggregates) {
    auto agg = a.aggregate.make();
    if (agg == nullptr) return InternalError("aggregate {} made no aggregator", a.name);
    st->aggs.push_back(std::move(agg));
  }
  if (options_.keys.empty()) {
    st->num_groups = 1;
    for (auto& a : st->aggs) ARROW_RETURN_NOT_OK(a->Resize(1));
  }
  return Status::OK();
}

Status HashAggregateNode::Prepare(ExecContext* ctx) {
  ctx_ = ctx;
  threads_.clear();
  for (int t = 0; t < std::max(1, ctx->threads); ++t) {
    auto st = std::make_unique<ThreadState>();
    ARROW_RETURN_NOT_OK(MakeThreadState(st.get()));
    threads_.push_back(std::move(st));
  }
  memory_used_ = 0;
  output_.clear();
  next_output_ = 0;
  return Status::OK();
}

Status HashAggregateNode::UpdateAggregates(ThreadState* st, const arrow::RecordBatch& batch,
                                           const std::vector<std::vector<ArrayPtr>>& args,
                                           const uint32_t* group_ids, int64_t length) {
  for (size_t i = 0; i < st->aggs.size(); ++i) {
    const auto& call = options_.aggregates[i];
    std::vector<arrow::Datum> datums(args[i].begin(), args[i].end());
    if (call.filter == nullptr) {
      if (options_.keys.empty()) {
        ARROW_RETURN_NOT_OK(st->aggs[i]->UpdateOneGroup(datums, group_ids, length));
      } else {
        ARROW_RETURN_NOT_OK(st->aggs[i]->Update(datums, group_ids, length));
      }
      continue;
    }
    // FILTER (WHERE p): only rows where p is TRUE reach the aggregator.
    ARROW_ASSIGN_OR_RAISE(auto pred, expr::EvaluateToArray(*call.filter, batch, ctx_->eval));
    const auto& p = static_cast<const arrow::BooleanArray&>(*pred);
    std::vector<int64_t> rows;
    std::vector<uint32_t> ids;
    for (int64_t r = 0; r < length; ++r) {
      if (p.IsValid(r) && p.Value(r)) {
        rows.push_back(r);
        ids.push_back(group_ids[r]);
      }
    }
    if (rows.empty()) continue;
    arrow::Int64Builder b(ctx_->pool);
    ARROW_RETURN_NOT_OK(b.AppendValues(rows));
    ARROW_ASSIGN_OR_RAISE(auto indices, b.Finish());
    for (auto& d : datums) {
      ARROW_ASSIGN_OR_RAISE(d, cp::Take(d, indices, cp::TakeOptions::NoBoundsCheck(),
                                        st->exec_ctx.get()));
    }
    ARROW_RETURN_NOT_OK(st->aggs[i]->Update(datums, ids.data(), static_cast<int64_t>(ids.size())));
  }
  return Status::OK();
}

Status HashAggregateNode::CheckMemory(ThreadState* st) {
  int64_t used = st->key_bytes;
  for (const auto& a : st->aggs) used += a->MemoryUsage();
  const int64_t total = memory_used_.fetch_add(used - st->reported) + (used - st->reported);
  st->reported = used;
  if (total > ctx_->memory_limit) {
    return internal::MemoryLimitError("hash aggregate", total, ctx_->memory_limit);
  }
  return Status::OK();
}

Status HashAggregateNode::Consume(int child, int thread, BatchPtr batch) {
  const int64_t n = batch->num_rows();
  if (n == 0) return Status::OK();
  ThreadState* st = threads_[thread].get();
  std::vector<std::vector<ArrayPtr>> args;
  for (const auto& a : options_.aggregates) {
    ARROW_ASSIGN_OR_RAISE(auto cols, internal::EvaluateAll(a.args, *batch, *ctx_));
    args.push_back(std::move(cols));
  }
  if (options_.keys.empty()) {
    if (static_cast<int64_t>(st->zeros.size()) < n) st->zeros.assign(n, 0);
    ARROW_RETURN_NOT_OK(UpdateAggregates(st, *batch, args, st->zeros.data(), n));
    return CheckMemory(st);
  }
  ARROW_ASSIGN_OR_RAISE(auto keys, internal::EvaluateAll(options_.keys, *batch, *ctx_));
  std::vector<ArrayPtr> shown(keys.size());  // values of collated keys, for representatives
  for (size_t i = 0; i < keys.size(); ++i) {
    if (auto c = GroupingCollation(*options_.keys[i])) {
      shown[i] = keys[i];
      ARROW_ASSIGN_OR_RAISE(auto ck, expr::CollationKeys(arrow::Datum(keys[i]), *c, ctx_->pool));
      keys[i] = ck.make_array();
    }
  }
  int64_t width = 16;
  for (auto& k : keys) {
    ARROW_ASSIGN_OR_RAISE(k, internal::NormalizeKey(k, ctx_->pool));
    for (const auto& b : k->data()->buffers) width += b ? b->size() / n : 0;
  }
  std::vector<std::vector<int>> sets = options_.grouping_sets;
  const bool with_gid = !sets.empty();
  if (sets.empty()) {
    sets.emplace_back();
    for (size_t i = 0; i < keys.size(); ++i) sets.back().push_back(static_cast<int>(i));
  }
  const int nkeys = static_cast<int>(keys.size());
  for (const auto& set : sets) {
    std::vector<arrow::Datum> cols;
    int64_t gid = 0;
    for (int i = 0; i < nkeys; ++i) {
      if (std::find(set.begin(), set.end(), i) != set.end()) {
        ARROW_RETURN_NOT_OK(FlattenKey(keys[i], ctx_->pool, &cols));
      } else {
        gid |= int64_t{1} << (nkeys - 1 - i);
        ARROW_ASSIGN_OR_RAISE(auto nulls, arrow::MakeArrayOfNull(keys[i]->type(), n, ctx_->pool));
        ARROW_RETURN_NOT_OK(FlattenKey(nulls, ctx_->pool, &cols));
      }
    }
    if (with_gid) {
      ARROW_ASSIGN_OR_RAISE(auto g, arrow::MakeArrayFromScalar(arrow::Int64Scalar(gid), n, ctx_->pool));
      cols.emplace_back(std::move(g));
    }
    cp::ExecBatch key_batch(std::move(cols), n);
    ARROW_ASSIGN_OR_RAISE(auto ids_datum, st->grouper->Consume(cp::ExecSpan(key_batch)));
    const int64_t groups = st->grouper->num_groups();
    if (groups > st->num_groups) {
      for (int i = 0; i < nkeys; ++i) {
        if (!st->representatives[i]) continue;
        bool in_set = std::find(set.begin(), set.end(), i) != set.end();
        ARROW_RETURN_NOT_OK(AppendRepresentatives(
            ids_datum.array()->GetValues<uint32_t>(1), n, st->num_groups, groups,
            in_set ? shown[i].get() : nullptr, st->representatives[i].get()));
      }
      st->key_bytes += (groups - st->num_groups) * width;
      st->num_groups = groups;
      for (auto& a : st->aggs) ARROW_RETURN_NOT_OK(a->Resize(groups));
    }
    const uint32_t* ids = ids_datum.array()->GetValues<uint32_t>(1);
    ARROW_RETURN_NOT_OK(UpdateAggregates(st, *batch, args, ids, n));
  }
  return CheckMemory(st);
}

Status HashAggregateNode::FinishSink(int child) {
  ThreadState* dst = threads_[0].get();
  for (size_t t = 1; t < threads_.size(); ++t) {
    ThreadState* src = threads_[t].get();
    if (dst->grouper == nullptr) {
      const uint32_t zero = 0;
      for (size_t i = 0; i < dst->aggs.size(); ++i) {
        ARROW_RETURN_NOT_OK(dst->aggs[i]->Merge(*src->aggs[i], &zero));
      }
    } else if (src->num_groups > 0) {
      ARROW_ASSIGN_OR_RAISE(auto uniques, src->grouper->GetUniques());
      ARROW_ASSIGN_OR_RAISE(auto ids_datum, dst->grouper->Consume(cp::ExecSpan(uniques)));
      const int64_t groups = dst->grouper->num_groups();
      if (groups > dst->num_groups) {
        for (size_t i = 0; i < dst->representatives.size(); ++i) {
          if (!dst->representatives[i]) continue;
          std::shared_ptr<arrow::Array> src_shown;
          ARROW_RETURN_NOT_OK(src->representatives[i]->Finish(&src_shown));
          ARROW_RETURN_NOT_OK(AppendRepresentatives(
              ids_datum.array()->GetValues<uint32_t>(1), src->num_groups, dst->num_groups, groups,
              src_shown.get(), dst->representatives[i].get()));
        }
        dst->key_bytes += (groups - dst->num_groups) * (src->key_bytes / src->num_groups);
        dst->num_groups = groups;
        for (auto& a : dst->aggs) ARROW_RETURN_NOT_OK(a->Resize(groups));
      }
      const uint32_t* mapping = ids_datum.array()->GetValues<uint32_t>(1);
      for (size_t i = 0; i < dst->aggs.size(); ++i) {
        ARROW_RETURN_NOT_OK(dst->aggs[i]->Merge(*src->aggs[i], mapping));
      }
    }
    memory_used_ -= src->reported;
    threads_[t].reset();
    ARROW_RETURN_NOT_OK(CheckMemory(dst));
  }
  threads_.resize(1);

  std::vector<ArrayPtr> columns;
  if (dst->grouper != nullptr) {
    ARROW_ASSIGN_OR_RAISE(auto uniques, dst->grouper->GetUniques());
    size_t pos = 0;
    for (size_t i = 0; i < options_.keys.size(); ++i) {
      ARROW_ASSIGN_OR_RAISE(auto col, UnflattenKey(GrouperKeyType(*options_.keys[i]),
                                                   uniques.values, &pos, ctx_->pool));
      if (dst->representatives[i]) ARROW_RETURN_NOT_OK(dst->representatives[i]->Finish(&col));
      columns.push_back(std::move(col));
    }
    for (; pos < uniques.values.size(); ++pos) columns.push_back(uniques.values[pos].make_array());
  }
  if (options_.emit_state) {
    arrow::FieldVector fields;
    for (size_t i = 0; i < columns.size(); ++i) fields.push_back(schema_->field(static_cast<int>(i)));
    for (size_t i = 0; i < dst->aggs.size(); ++i) {
      ARROW_ASSIGN_OR_RAISE(auto state, dst->aggs[i]->SaveState());
      fields.push_back(arrow::field(options_.aggregates[i].name, state->type()));
      columns.push_back(std::move(state));
    }
    output_ = internal::ToBatches(arrow::schema(fields), columns, dst->num_groups, ctx_->batch_size);
    threads_.clear();
    memory_used_ = 0;
    return Status::OK();
  }
  for (size_t i = 0; i < dst->aggs.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto result, dst->aggs[i]->Finalize());
    const auto& want = schema_->field(static_cast<int>(columns.size()))->type();
    if (!result->type()->Equals(*want)) {
      return InternalError("aggregate {} produced {} but {} was resolved",
                           options_.aggregates[i].name, result->type()->ToString(), want->ToString());
    }
    columns.push_back(std::move(result));
  }
  output_ = internal::ToBatches(schema_, columns, dst->num_groups, ctx_->batch_size);
  threads_.clear();
  memory_used_ = 0;
  return Status::OK();
}

Result<BatchPtr> HashAggregateNode::Next(int thread) {
  size_t i = next_output_.fetch_add(1);
  if (i >= output_.size()) return nullptr;
  return std::move(output_[i]);
}

}  // namespace lakestream::exec
