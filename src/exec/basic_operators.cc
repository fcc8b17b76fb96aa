#include "exec/basic_operators.h"

#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <arrow/util/bitmap_ops.h>

#include "expr/evaluator.h"
#include "types/types.h"

namespace lakestream::exec {

namespace cp = arrow::compute;

// ---------------------------------------------------------------- ScanNode

ScanNode::ScanNode(std::shared_ptr<arrow::Schema> schema, std::vector<ScanTask> tasks,
                   std::string description)
    : tasks_(std::move(tasks)), description_(std::move(description)) {
  schema_ = std::move(schema);
}

std::shared_ptr<ScanNode> ScanNode::FromBatches(std::shared_ptr<arrow::Schema> schema,
                                                std::vector<BatchPtr> batches,
                                                std::string description) {
  std::vector<ScanTask> tasks;
  tasks.reserve(batches.size());
  for (auto& b : batches) {
    tasks.push_back([b]() -> Result<BatchIterator> {
      auto done = std::make_shared<bool>(false);
      return BatchIterator([b, done]() -> Result<BatchPtr> {
        if (*done) return nullptr;
        *done = true;
        return b;
      });
    });
  }
  return std::make_shared<ScanNode>(std::move(schema), std::move(tasks), std::move(description));
}

Status ScanNode::Prepare(ExecContext* ctx) {
  next_task_ = 0;
  current_.assign(ctx->threads, nullptr);
  open_.clear();
  return Status::OK();
}

Result<BatchPtr> ScanNode::Next(int thread) {
  auto& cur = current_[thread];
  while (true) {
    if (cur) {
      std::lock_guard<std::mutex> lock(cur->mu);
      if (!cur->done.load()) {
        auto b = cur->it();
        // A failed read ends the task for every worker sharing it.
        if (!b.ok() || *b == nullptr) cur->done = true;
        ARROW_RETURN_NOT_OK(b.status());
        if (*b) return std::move(*b);
      }
    }
    cur = nullptr;
    size_t t = next_task_.fetch_add(1);
    if (t < tasks_.size()) {
      ARROW_ASSIGN_OR_RAISE(auto it, tasks_[t]());
      cur = std::make_shared<OpenTask>();
      cur->it = std::move(it);
      if (share_tasks_) {
        std::lock_guard<std::mutex> lock(open_mu_);
        open_.push_back(cur);
      }
      continue;
    }
    if (!share_tasks_) return nullptr;
    {
      std::lock_guard<std::mutex> lock(open_mu_);
      // The most recently started task first: it has the most batches left.
      for (auto i = open_.rbegin(); i != open_.rend() && !cur; ++i) {
        if (!(*i)->done.load()) cur = *i;
      }
    }
    if (!cur) return nullptr;
  }
}

// -------------------------------------------------------------- FilterNode

namespace {

void CollectConjuncts(const expr::ExprPtr& e, std::vector<expr::ExprPtr>* out) {
  if (e->kind == expr::ExprKind::kAnd) {
    CollectConjuncts(e->args[0], out);
    CollectConjuncts(e->args[1], out);
    return;
  }
  out->push_back(e);
}

/// The rows of `mask` that are not FALSE (TRUE or NULL), as a boolean array
/// without nulls.
Result<std::shared_ptr<arrow::BooleanArray>> NotFalse(const arrow::BooleanArray& mask,
                                                      arrow::MemoryPool* pool) {
  if (mask.null_count() == 0) {
    return std::make_shared<arrow::BooleanArray>(mask.length(), mask.values(), nullptr, 0,
                                                 mask.offset());
  }
  ARROW_ASSIGN_OR_RAISE(auto bits, arrow::internal::BitmapOrNot(
                                       pool, mask.values()->data(), mask.offset(),
                                       mask.null_bitmap_data(), mask.offset(), mask.length(), 0));
  return std::make_shared<arrow::BooleanArray>(mask.length(), std::move(bits));
}

}  // namespace

FilterNode::FilterNode(PhysicalNodePtr child, expr::ExprPtr predicate)
    : predicate_(std::move(predicate)) {
  schema_ = child->schema();
  children_ = {std::move(child)};
  CollectConjuncts(predicate_, &conjuncts_);
  if (conjuncts_.size() > 1) {
    // Conjunct k > 0 runs as `mask AND c_k` over the batch plus the mask of
    // the conjuncts before it as an extra column, so the evaluator's AND
    // decides where c_k is evaluated (only where the mask is not FALSE, when
    // c_k can fail), as Spark's left-to-right AND does.
    auto mask = expr::MakeColumn(schema_->num_fields(), "__filter_mask", arrow::boolean(), true);
    guarded_.push_back(nullptr);
    for (size_t k = 1; k < conjuncts_.size(); ++k) {
      guarded_.push_back(
          expr::MakeSpecial(expr::ExprKind::kAnd, arrow::boolean(), {mask, conjuncts_[k]}));
    }
  }
}

std::string FilterNode::ToString() const { return "Filter " + predicate_->ToString(); }

Result<OperatorResult> FilterNode::Execute(int thread, BatchPtr batch, const Emit& emit) {
  if (conjuncts_.size() <= 1) {
    ARROW_ASSIGN_OR_RAISE(auto out, expr::FilterBatch(*predicate_, batch, ctx_->eval));
    if (out->num_rows() > 0) ARROW_RETURN_NOT_OK(emit(std::move(out)));
    return OperatorResult::kNeedMoreInput;
  }
  // Conjunct by conjunct: once the rows still in play are at most half of the
  // batch, the batch is cut down to them, so that the later conjuncts (often
  // string comparisons) run over the survivors only.
  BatchPtr cur = std::move(batch);
  std::shared_ptr<arrow::BooleanArray> mask;  // over `cur`; null: every row TRUE so far
  for (size_t k = 0; k < conjuncts_.size(); ++k) {
    arrow::Datum d;
    if (mask == nullptr) {
      ARROW_ASSIGN_OR_RAISE(d, expr::Evaluate(*conjuncts_[k], *cur, ctx_->eval));
    } else {
      ARROW_ASSIGN_OR_RAISE(auto with_mask,
                            cur->AddColumn(cur->num_columns(),
                                           arrow::field("__filter_mask", arrow::boolean()), mask));
      ARROW_ASSIGN_OR_RAISE(d, expr::Evaluate(*guarded_[k], *with_mask, ctx_->eval));
    }
    if (d.is_scalar()) {
      const auto& s = d.scalar_as<arrow::BooleanScalar>();
      if (s.is_valid && s.value) continue;  // TRUE AND mask = mask
      return OperatorResult::kNeedMoreInput;
    }
    mask = std::static_pointer_cast<arrow::BooleanArray>(d.make_array());
    if (k + 1 == conjuncts_.size()) break;
    ARROW_ASSIGN_OR_RAISE(auto live, NotFalse(*mask, ctx_->pool));
    const int64_t n = cur->num_rows();
    const int64_t kept = live->true_count();
    if (kept == 0) return OperatorResult::kNeedMoreInput;
    if (kept == n && mask->null_count() == 0) {
      mask = nullptr;
    } else if (kept * 2 <= n) {
      cp::ExecContext ectx(ctx_->pool);
      ARROW_ASSIGN_OR_RAISE(auto cut, cp::Filter(cur, live, cp::FilterOptions::Defaults(), &ectx));
      cur = cut.record_batch();
      ARROW_ASSIGN_OR_RAISE(auto m, cp::Filter(mask, live, cp::FilterOptions::Defaults(), &ectx));
      mask = std::static_pointer_cast<arrow::BooleanArray>(m.make_array());
      if (mask->null_count() == 0) mask = nullptr;  // every row left is TRUE
    }
  }
  if (mask != nullptr && !(mask->null_count() == 0 && mask->true_count() == mask->length())) {
    cp::ExecContext ectx(ctx_->pool);
    // DROP: NULL predicate rows are removed, as SQL's WHERE does.
    ARROW_ASSIGN_OR_RAISE(auto out, cp::Filter(cur, mask, cp::FilterOptions::Defaults(), &ectx));
    cur = out.record_batch();
  }
  if (cur->num_rows() > 0) ARROW_RETURN_NOT_OK(emit(std::move(cur)));
  return OperatorResult::kNeedMoreInput;
}

// ------------------------------------------------------------- ProjectNode

ProjectNode::ProjectNode(PhysicalNodePtr child, std::vector<expr::ExprPtr> exprs,
                         std::vector<std::string> names)
    : exprs_(std::move(exprs)) {
  arrow::FieldVector fields;
  for (size_t i = 0; i < exprs_.size(); ++i) {
    fields.push_back(arrow::field(names[i], exprs_[i]->type, exprs_[i]->nullable));
  }
  schema_ = arrow::schema(std::move(fields));
  children_ = {std::move(child)};
}

std::string ProjectNode::ToString() const {
  std::string s = "Project [";
  for (size_t i = 0; i < exprs_.size(); ++i) {
    if (i) s += ", ";
    s += exprs_[i]->ToString() + " AS " + schema_->field(static_cast<int>(i))->name();
  }
  return s + "]";
}

Result<OperatorResult> ProjectNode::Execute(int thread, BatchPtr batch, const Emit& emit) {
  arrow::ArrayVector cols;
  cols.reserve(exprs_.size());
  for (const auto& e : exprs_) {
    // A column reference is handed over as it is, also a dictionary-encoded
    // STRING column the planner let the scan keep so (plan/physical_planner.cc).
    if (e->kind == expr::ExprKind::kColumn && e->column_index >= 0 &&
        e->column_index < batch->num_columns()) {
      cols.push_back(batch->column(e->column_index));
      continue;
    }
    ARROW_ASSIGN_OR_RAISE(auto a, expr::EvaluateToArray(*e, *batch, ctx_->eval));
    cols.push_back(std::move(a));
  }
  ARROW_RETURN_NOT_OK(emit(arrow::RecordBatch::Make(schema_, batch->num_rows(), std::move(cols))));
  return OperatorResult::kNeedMoreInput;
}

// --------------------------------------------------------------- LimitNode

LimitNode::LimitNode(PhysicalNodePtr child, int64_t limit, int64_t offset)
    : limit_(limit), offset_(offset) {
  schema_ = child->schema();
  children_ = {std::move(child)};
}

std::string LimitNode::ToString() const {
  return offset_ > 0 ? fmt::format("Limit {} Offset {}", limit_, offset_)
                     : fmt::format("Limit {}", limit_);
}

Result<OperatorResult> LimitNode::Execute(int thread, BatchPtr batch, const Emit& emit) {
  int64_t begin, end, n = batch->num_rows();
  bool done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t total = limit_ < 0 ? INT64_MAX : offset_ + limit_;
    int64_t start = seen_;
    seen_ += n;
    begin = std::max<int64_t>(0, offset_ - start);
    end = std::min<int64_t>(n, total - start);
    done = seen_ >= total;
  }
  if (end > begin) ARROW_RETURN_NOT_OK(emit(batch->Slice(begin, end - begin)));
  return done ? OperatorResult::kDone : OperatorResult::kNeedMoreInput;
}

// --------------------------------------------------------------- UnionNode

UnionNode::UnionNode(std::vector<PhysicalNodePtr> children) {
  schema_ = children[0]->schema();
  children_ = std::move(children);
}

// ------------------------------------------------------------ GenerateNode

GenerateNode::GenerateNode(PhysicalNodePtr child, expr::ExprPtr generator_input, bool outer,
                           bool with_position, std::vector<std::string> output_names)
    : input_(std::move(generator_input)), outer_(outer), with_position_(with_position) {
  arrow::FieldVector fields = child->schema()->fields();
  size_t k = 0;
  if (with_position_) fields.push_back(arrow::field(output_names[k++], arrow::int32(), outer_));
  if (input_->type->id() == arrow::Type::MAP) {
    const auto& m = static_cast<const arrow::MapType&>(*input_->type);
    fields.push_back(arrow::field(output_names[k++], m.key_type(), outer_));
    fields.push_back(arrow::field(output_names[k++], m.item_type(), true));
  } else {
    const auto& l = static_cast<const arrow::ListType&>(*input_->type);
    fields.push_back(arrow::field(output_names[k++], l.value_type(), true));
  }
  schema_ = arrow::schema(std::move(fields));
  children_ = {std::move(child)};
}

std::string GenerateNode::ToString() const {
  return fmt::format("Generate {}{}({})", outer_ ? "outer " : "",
                     with_position_ ? "posexplode" : "explode", input_->ToString());
}

Result<OperatorResult> GenerateNode::Execute(int thread, BatchPtr batch, const Emit& emit) {
  ARROW_ASSIGN_OR_RAISE(auto arr, expr::EvaluateToArray(*input_, *batch, ctx_->eval));
  // Lists and maps share the offsets layout; a map's values are a struct of (key, value).
  const auto& list = static_cast<const arrow::BaseListArray<arrow::ListType>&>(*arr);
  auto values = arr->type_id() == arrow::Type::MAP
                    ? static_cast<const arrow::MapArray&>(*arr).values()
                    : static_cast<const arrow::ListArray&>(*arr).values();
  arrow::Int64Builder parent(ctx_->pool), child_idx(ctx_->pool);
  arrow::Int32Builder pos(ctx_->pool);
  for (int64_t i = 0; i < list.length(); ++i) {
    int64_t len = list.IsValid(i) ? list.value_length(i) : 0;
    int64_t off = list.value_offset(i);
    if (len == 0) {
      if (outer_) {
        ARROW_RETURN_NOT_OK(parent.Append(i));
        ARROW_RETURN_NOT_OK(child_idx.AppendNull());
        ARROW_RETURN_NOT_OK(pos.AppendNull());
      }
      continue;
    }
    for (int64_t j = 0; j < len; ++j) {
      ARROW_RETURN_NOT_OK(parent.Append(i));
      ARROW_RETURN_NOT_OK(child_idx.Append(off + j));
      ARROW_RETURN_NOT_OK(pos.Append(static_cast<int32_t>(j)));
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto parent_arr, parent.Finish());
  ARROW_ASSIGN_OR_RAISE(auto child_arr, child_idx.Finish());
  ARROW_ASSIGN_OR_RAISE(auto pos_arr, pos.Finish());
  if (parent_arr->length() == 0) return OperatorResult::kNeedMoreInput;
  cp::ExecContext ectx(ctx_->pool);
  arrow::ArrayVector cols;
  for (const auto& c : batch->columns()) {
    ARROW_ASSIGN_OR_RAISE(auto t, cp::Take(c, parent_arr, cp::TakeOptions::NoBoundsCheck(), &ectx));
    cols.push_back(t.make_array());
  }
  if (with_position_) cols.push_back(pos_arr);
  ARROW_ASSIGN_OR_RAISE(auto elems,
                        cp::Take(values, child_arr, cp::TakeOptions::NoBoundsCheck(), &ectx));
  auto elem_arr = elems.make_array();
  if (arr->type_id() == arrow::Type::MAP) {
    const auto& st = static_cast<const arrow::StructArray&>(*elem_arr);
    ARROW_ASSIGN_OR_RAISE(auto k, st.GetFlattenedField(0, ctx_->pool));
    ARROW_ASSIGN_OR_RAISE(auto v, st.GetFlattenedField(1, ctx_->pool));
    cols.push_back(k);
    cols.push_back(v);
  } else {
    cols.push_back(elem_arr);
  }
  ARROW_RETURN_NOT_OK(
      emit(arrow::RecordBatch::Make(schema_, parent_arr->length(), std::move(cols))));
  return OperatorResult::kNeedMoreInput;
}

}  // namespace lakestream::exec
