// Cuts a physical plan into pipelines at its breakers and runs each pipeline
// on all workers (morsel-driven: workers pull batches from the source and push
// them through the pipeline's operators into its sink).
#include <fmt/format.h>

#include <map>
#include <thread>

#include "exec/operator.h"

namespace lakestream::exec {

namespace {

/// The root sink that keeps the query result, in arrival order.
class CollectNode : public PhysicalNode {
 public:
  explicit CollectNode(PhysicalNodePtr child) {
    schema_ = child->schema();
    children_ = {std::move(child)};
  }
  std::string ToString() const override { return "Collect"; }
  bool IsSink() const override { return true; }
  Status Prepare(ExecContext* ctx) override {
    per_thread_.assign(ctx->threads, {});
    return Status::OK();
  }
  Status Consume(int child, int thread, BatchPtr batch) override {
    per_thread_[thread].push_back(std::move(batch));
    return Status::OK();
  }
  std::vector<BatchPtr> Take() {
    std::vector<BatchPtr> out;
    for (auto& v : per_thread_) {
      for (auto& b : v) out.push_back(std::move(b));
    }
    return out;
  }

 private:
  std::vector<std::vector<BatchPtr>> per_thread_;
};

struct Pipeline {
  PhysicalNode* source;
  std::vector<PhysicalNode*> ops;  // bottom to top
  PhysicalNode* sink;
  int sink_child;
};

void BuildPipelines(PhysicalNode* node, std::vector<PhysicalNode*> ops_above, PhysicalNode* sink, int sink_child,
                    std::vector<Pipeline>* out) {
  if (node->IsUnion()) {
    for (const auto& c : node->children()) BuildPipelines(c.get(), ops_above, sink, sink_child, out);
    return;
  }
  if (node->IsOperator()) {
    int blocking = node->BlockingChild();
    if (blocking >= 0) BuildPipelines(node->children()[blocking].get(), {}, node, blocking, out);
    ops_above.insert(ops_above.begin(), node);
    BuildPipelines(node->children()[0].get(), std::move(ops_above), sink, sink_child, out);
    return;
  }
  if (node->IsSink()) {
    for (size_t i = 0; i < node->children().size(); ++i) {
      BuildPipelines(node->children()[i].get(), {}, node, static_cast<int>(i), out);
    }
  }
  out->push_back(Pipeline{node, std::move(ops_above), sink, sink_child});
}

void PrepareAll(PhysicalNode* node, ExecContext* ctx, Status* st) {
  for (const auto& c : node->children()) PrepareAll(c.get(), ctx, st);
  if (st->ok()) *st = node->Prepare(ctx);
}

// Pushes `batch` through ops[i..] into the sink. Sets *done when an operator
// wants no more input.
Status Push(const Pipeline& p, size_t i, int thread, BatchPtr batch, bool* done) {
  if (i == p.ops.size()) return p.sink->Consume(p.sink_child, thread, std::move(batch));
  Emit emit = [&](BatchPtr b) { return Push(p, i + 1, thread, std::move(b), done); };
  ARROW_ASSIGN_OR_RAISE(auto r, p.ops[i]->Execute(thread, std::move(batch), emit));
  if (r == OperatorResult::kDone) *done = true;
  return Status::OK();
}

Status RunPipeline(const Pipeline& p, ExecContext* ctx) {
  int workers = p.source->IsOrderedSource() ? 1 : std::max(1, ctx->threads);
  std::atomic<bool> stop{false};
  std::vector<Status> status(workers);
  auto work = [&](int thread) {
    while (!stop.load(std::memory_order_relaxed)) {
      auto next = p.source->Next(thread);
      if (!next.ok()) {
        status[thread] = next.status();
        stop = true;
        break;
      }
      // An exhausted source ends this worker only: others may still be
      // reading their last morsels.
      if (*next == nullptr) break;
      bool done = false;
      status[thread] = Push(p, 0, thread, std::move(*next), &done);
      if (!status[thread].ok() || done || p.sink->SinkDone()) {
        stop = true;
        break;
      }
    }
  };
  if (workers == 1) {
    work(0);
  } else {
    std::vector<std::thread> threads;
    for (int t = 0; t < workers; ++t) threads.emplace_back(work, t);
    for (auto& t : threads) t.join();
  }
  for (auto& s : status) ARROW_RETURN_NOT_OK(s);
  // Operators flush what they hold (outer join leftovers) through the rest of the pipeline.
  for (size_t i = 0; i < p.ops.size(); ++i) {
    bool done = false;
    Emit emit = [&](BatchPtr b) { return Push(p, i + 1, 0, std::move(b), &done); };
    ARROW_RETURN_NOT_OK(p.ops[i]->Finish(emit));
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<BatchPtr>> ExecutePlan(const PhysicalNodePtr& root, ExecContext* ctx) {
  if (ctx->threads <= 0) ctx->threads = std::max(1u, std::thread::hardware_concurrency());
  auto collect = std::make_shared<CollectNode>(root);
  Status st;
  PrepareAll(collect.get(), ctx, &st);
  ARROW_RETURN_NOT_OK(st);
  std::vector<Pipeline> pipelines;
  BuildPipelines(root.get(), {}, collect.get(), 0, &pipelines);
  // A sink child is finished when the last pipeline feeding it has run.
  std::map<std::pair<PhysicalNode*, int>, int> feeding;
  for (const auto& p : pipelines) feeding[{p.sink, p.sink_child}]++;
  for (const auto& p : pipelines) {
    ARROW_RETURN_NOT_OK(RunPipeline(p, ctx));
    if (--feeding[{p.sink, p.sink_child}] == 0) ARROW_RETURN_NOT_OK(p.sink->FinishSink(p.sink_child));
  }
  return collect->Take();
}

namespace {
void ExplainRec(const PhysicalNode& n, int depth, std::string* out) {
  *out += std::string(depth * 2, ' ') + (depth ? "+- " : "") + n.ToString() + "\n";
  for (const auto& c : n.children()) ExplainRec(*c, depth + 1, out);
}
}  // namespace

std::string ExplainPlan(const PhysicalNode& root) {
  std::string out;
  ExplainRec(root, 0, &out);
  return out;
}

}  // namespace lakestream::exec
