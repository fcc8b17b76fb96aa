#include "stream/pipeline.h"

#include <fmt/format.h>

#include <functional>
#include <set>

#include "sql/parser.h"
#include "stream/connectors.h"

namespace lakestream::stream {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// FNV-1a: a stable short name for a target across runs and builds.
std::string ShortHash(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return fmt::format("{:08x}", h);
}

std::string Basename(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.find_last_of('/');
  auto base = slash == std::string::npos ? p : p.substr(slash + 1);
  for (auto& c : base) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  }
  return base.empty() ? "table" : base;
}

std::string Normalize(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// Delta paths read as streams anywhere in a query (FROM, joins, subqueries,
// set operations, CTEs).
void StreamDeltaPaths(const sql::Query& q, std::set<std::string>* out);

void FromRef(const sql::TableRef& t, std::set<std::string>* out) {
  if (t.stream && t.type == sql::TableRefType::kTable && t.name_parts.size() == 2 &&
      Lower(t.name_parts[0]) == "delta") {
    out->insert(Normalize(t.name_parts[1]));
  }
  if (t.stream && t.type == sql::TableRefType::kTableFunction && !t.name_parts.empty() &&
      Lower(t.name_parts.back()) == "read_delta") {
    for (const auto& a : t.args) {
      const auto* v = a->type == sql::ExprType::kNamedArgument ? a->args[0].get() : a.get();
      if (v->type == sql::ExprType::kLiteral &&
          (a->type != sql::ExprType::kNamedArgument || Lower(a->name) == "path")) {
        out->insert(Normalize(v->text));
      }
    }
  }
  if (t.subquery) StreamDeltaPaths(*t.subquery, out);
  if (t.left) FromRef(*t.left, out);
  if (t.right) FromRef(*t.right, out);
}

void StreamDeltaPaths(const sql::Query& q, std::set<std::string>* out) {
  for (const auto& cte : q.with) StreamDeltaPaths(*cte.query, out);
  if (q.select) {
    for (const auto& f : q.select->from) FromRef(*f, out);
  }
  if (q.set_op) {
    StreamDeltaPaths(*q.set_op->left, out);
    StreamDeltaPaths(*q.set_op->right, out);
  }
  if (q.nested) StreamDeltaPaths(*q.nested, out);
}

}  // namespace

Result<std::vector<QuerySpec>> PlanPipeline(const std::string& sql,
                                            const PipelineOptions& options) {
  if (options.checkpoint_dir.empty())
    return UserError("a pipeline needs a checkpoint folder (--checkpoint DIR)");
  ARROW_ASSIGN_OR_RAISE(auto statements, sql::ParseStatements(sql));
  RegisterBuiltinConnectors();
  plan::Session session;
  session.config() = options.config;
  // CREATE VIEW over a stream binds here only to check names and types: the
  // source is opened for its schema and never read.
  session.stream_resolver = [](const std::string& kind,
                               const std::vector<std::shared_ptr<arrow::Scalar>>& positional,
                               const std::map<std::string, std::shared_ptr<arrow::Scalar>>& named,
                               const sql::TableRef&) -> Result<std::shared_ptr<plan::ScanSource>> {
    ARROW_ASSIGN_OR_RAISE(auto options, SourceOptions(positional, named));
    ARROW_ASSIGN_OR_RAISE(auto source,
                          MakeStreamSource(kind, options, connectors::SourceContext{}));
    auto scan = std::make_shared<plan::ScanSource>();
    scan->description = source->Description();
    scan->schema = source->schema();
    scan->batches = {arrow::RecordBatch::MakeEmpty(scan->schema).ValueOrDie()};
    return scan;
  };

  struct Pending {
    QuerySpec spec;
    std::string target;           // normalized Delta path ("" for other sinks)
    std::set<std::string> reads;  // Delta paths read as streams
  };
  std::vector<Pending> pending;
  std::set<std::string> dirs;
  for (const auto& st : statements) {
    if (st->type != sql::StatementType::kCreateStreamingTable) {
      auto r = session.Execute(*st);
      if (!r.ok())
        return r.status().WithMessage(
            fmt::format("{} (in: {})", r.status().message(), st->text.substr(0, 120)));
      continue;
    }
    if (st->name_parts.size() != 2) {
      return UserError(
          "CREATE STREAMING TABLE needs a target such as delta.`/path`, kafka.`topic`, "
          "memory.`name` or "
          "console.`name` (line {}:{})",
          st->loc.line, st->loc.column);
    }
    Pending p;
    auto& spec = p.spec;
    auto format = Lower(st->name_parts[0]);
    const auto& where = st->name_parts[1];
    spec.name = Basename(where);
    spec.sql = st->text;
    spec.query = st->query;
    spec.trigger = options.trigger;
    spec.config = session.config();
    spec.views = session.views();
    spec.sink_format = format;
    if (format == "delta") {
      spec.sink_options["path"] = where;
      p.target = Normalize(where);
    } else if (format == "kafka") {
      spec.sink_options["topic"] = where;
    } else if (format == "memory") {
      spec.sink_options["queryName"] = where;
    } else if (format != "console") {
      return UserError(
          "unknown streaming table target '{}' (delta, kafka, memory or console) at line {}:{}",
          st->name_parts[0], st->loc.line, st->loc.column);
    }
    if (!st->partition_by.empty()) {
      std::string cols;
      for (const auto& c : st->partition_by) cols += (cols.empty() ? "" : ",") + c;
      spec.sink_options["partitionBy"] = cols;
    }
    for (const auto& [k, v] : st->properties) {
      auto key = Lower(k);
      if (key == "trigger") {
        ARROW_ASSIGN_OR_RAISE(spec.trigger, Trigger::Parse(v));
      } else if (key == "outputmode") {
        ARROW_ASSIGN_OR_RAISE(spec.output_mode, connectors::ParseOutputMode(v));
      } else if (key == "asyncprogresstrackingenabled") {
        spec.async_progress = Lower(v) == "true";
      } else if (key == "checkpointlocation") {
        spec.checkpoint_dir = v;
      } else {
        spec.sink_options[k] = v;
      }
    }
    if (spec.checkpoint_dir.empty()) {
      spec.checkpoint_dir = fmt::format("{}/{}-{}", Normalize(options.checkpoint_dir), spec.name,
                                        ShortHash(format + ":" + Normalize(where)));
    }
    if (!dirs.insert(spec.checkpoint_dir).second) {
      return UserError("two streaming tables write to {}.`{}`: each target may appear once", format,
                       where);
    }
    StreamDeltaPaths(*st->query, &p.reads);
    pending.push_back(std::move(p));
  }

  // Topological order: a query starts after the queries writing the Delta
  // tables it reads as streams. A cycle is a pipeline error.
  std::vector<QuerySpec> out;
  std::vector<int> state(pending.size(), 0);  // 0 new, 1 visiting, 2 done
  std::function<Status(size_t)> visit = [&](size_t i) -> Status {
    if (state[i] == 2) return Status::OK();
    if (state[i] == 1)
      return UserError("the pipeline's streaming tables read each other in a cycle (at {})",
                       pending[i].spec.name);
    state[i] = 1;
    for (size_t j = 0; j < pending.size(); ++j) {
      if (j != i && !pending[j].target.empty() && pending[i].reads.count(pending[j].target)) {
        ARROW_RETURN_NOT_OK(visit(j));
      }
    }
    state[i] = 2;
    out.push_back(pending[i].spec);
    return Status::OK();
  };
  for (size_t i = 0; i < pending.size(); ++i) ARROW_RETURN_NOT_OK(visit(i));
  return out;
}

}  // namespace lakestream::stream
