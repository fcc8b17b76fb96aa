#include "stream/event_time.h"

#include <algorithm>

#include "stream/stream_join.h"
#include "types/types.h"

namespace lakestream::stream {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::optional<std::string> StringLiteral(const expr::Expr& e) {
  if (e.kind != expr::ExprKind::kLiteral || !e.value || !e.value->is_valid) return std::nullopt;
  if (e.value->type->id() != arrow::Type::STRING) return std::nullopt;
  return static_cast<const arrow::StringScalar&>(*e.value).value->ToString();
}

// window(ts, width[, slide[, start]]) or sliding_windows(...) over an event
// time: the windows holding the rows of value v end after v, so a window is
// complete once its last instant's rows are, `lag - 1µs` after its end (Spark
// closes a window over a source column, lag 0, at its end).
std::optional<EventTimeColumn> WindowOver(const expr::Expr& call, const EventTimeColumns& input) {
  if (call.args.size() < 2) return std::nullopt;
  auto ts = EventTimeOf(*call.args[0], input);
  if (!ts || ts->window || ts->lag_us < 0) return std::nullopt;
  EventTimeColumn w;
  w.window = true;
  w.lag_us = ts->lag_us > 0 ? ts->lag_us - 1 : 0;
  if (auto text = StringLiteral(*call.args[1])) {
    auto width = types::ParseDurationMicros(*text);
    if (width.ok()) w.width_us = *width;
  }
  return w;
}

// Internally a column lineage has ruled out (a join's row without a time
// bound) is marked with a negative lag, so that a watermark name does not
// bring its event time back; the public results hold nullopt for it.
constexpr int64_t kOpaque = -1;

EventTimeColumns Strip(EventTimeColumns cols) {
  for (auto& c : cols) {
    if (c && c->lag_us < 0) c.reset();
  }
  return cols;
}

struct TraceContext {
  const std::set<std::string>& watermark_names;
  const std::set<const plan::ScanSource*>& stream_scans;
};

EventTimeColumns Trace(const plan::LogicalNode& node, const TraceContext& ctx);

bool HasStream(const plan::LogicalNode& n, const TraceContext& ctx) {
  if (n.kind == plan::LogicalKind::kScan) return ctx.stream_scans.count(n.scan.get()) > 0;
  for (const auto& c : n.children) {
    if (HasStream(*c, ctx)) return true;
  }
  return false;
}

}  // namespace

std::optional<EventTimeColumn> EventTimeOf(const expr::Expr& e, const EventTimeColumns& input) {
  switch (e.kind) {
    case expr::ExprKind::kColumn:
      if (e.column_index >= 0 && static_cast<size_t>(e.column_index) < input.size())
        return input[e.column_index];
      return std::nullopt;
    case expr::ExprKind::kCall:
      break;
    default:
      return std::nullopt;
  }
  if (e.name == "window" || e.name == "sliding_windows") return WindowOver(e, input);
  if (e.name == "session_window" && !e.args.empty()) {
    auto ts = EventTimeOf(*e.args[0], input);
    if (!ts || ts->window || ts->lag_us < 0) return std::nullopt;
    return EventTimeColumn{true, ts->lag_us > 0 ? ts->lag_us - 1 : 0, -1};
  }
  if (e.name == "window_time" && e.args.size() == 1) {
    // end - 1µs: complete one microsecond later than its value says.
    auto w = EventTimeOf(*e.args[0], input);
    if (!w || !w->window || w->lag_us < 0) return std::nullopt;
    return EventTimeColumn{false, w->lag_us + 1, -1};
  }
  if (e.name == "get_field" && e.args.size() == 2) {
    auto w = EventTimeOf(*e.args[0], input);
    auto field = StringLiteral(*e.args[1]);
    if (!w || !w->window || w->lag_us < 0 || !field) return std::nullopt;
    if (Lower(*field) == "end") return EventTimeColumn{false, w->lag_us, -1};
    if (Lower(*field) == "start" && w->width_us >= 0)
      return EventTimeColumn{false, w->lag_us + w->width_us, -1};
  }
  return std::nullopt;
}

EventTimeColumns TraceEventTime(const plan::LogicalNode& node,
                                const std::set<std::string>& watermark_names,
                                const std::set<const plan::ScanSource*>& stream_scans) {
  return Strip(Trace(node, TraceContext{watermark_names, stream_scans}));
}

namespace {

EventTimeColumns Trace(const plan::LogicalNode& node, const TraceContext& ctx) {
  const int n = node.schema ? node.schema->num_fields() : 0;
  EventTimeColumns out(n);
  auto child = [&](size_t i) {
    return i < node.children.size() ? Trace(*node.children[i], ctx) : EventTimeColumns{};
  };
  switch (node.kind) {
    case plan::LogicalKind::kFilter:
    case plan::LogicalKind::kSort:
    case plan::LogicalKind::kLimit:
    case plan::LogicalKind::kWindow:  // the child's columns, then window function results
    case plan::LogicalKind::kGenerate: {
      auto in = child(0);
      for (int i = 0; i < n && static_cast<size_t>(i) < in.size(); ++i) out[i] = in[i];
      if (node.kind == plan::LogicalKind::kGenerate && !node.exprs.empty() && !node.with_position &&
          static_cast<size_t>(n) == in.size() + 1 && node.exprs[0]->kind == expr::ExprKind::kCall &&
          node.exprs[0]->name == "sliding_windows") {
        out[n - 1] = WindowOver(*node.exprs[0], in);
      }
      break;
    }
    case plan::LogicalKind::kProject: {
      auto in = child(0);
      for (int i = 0; i < n && static_cast<size_t>(i) < node.exprs.size(); ++i)
        out[i] = EventTimeOf(*node.exprs[i], in);
      break;
    }
    case plan::LogicalKind::kAggregate: {
      // Keys keep their event time; aggregate results have none.
      if (!node.grouping_sets.empty()) break;
      auto in = child(0);
      for (int i = 0; i < n && static_cast<size_t>(i) < node.exprs.size(); ++i)
        out[i] = EventTimeOf(*node.exprs[i], in);
      break;
    }
    case plan::LogicalKind::kJoin: {
      // A buffered row still meets new rows of the other side until the
      // watermark passes its time bound, so the join emits it that much
      // later than its event time (Spark delays a join's output watermark
      // by the bound likewise). Without a bound on its side a row can be
      // emitted at any time: its columns carry no event time any more.
      auto left = child(0);
      auto right = child(1);
      const bool stream_stream = node.children.size() == 2 && HasStream(*node.children[0], ctx) &&
                                 HasStream(*node.children[1], ctx);
      auto options = stream_stream
                         ? StreamJoin::Analyze(node, Strip(left), Strip(right))
                         : Result<StreamJoinOptions>(Status::Cancelled("not stream-stream"));
      if (options.ok()) {
        for (int side = 0; side < 2; ++side) {
          auto& cols = side == 0 ? left : right;
          for (size_t c = 0; c < cols.size(); ++c) {
            if (!cols[c] || cols[c]->lag_us < 0) continue;
            if (static_cast<int>(c) != options->expiry_column[side]) {
              cols[c] = EventTimeColumn{false, kOpaque, -1};
            } else {
              cols[c]->lag_us = std::max(cols[c]->lag_us, options->expiry_offset[side]);
            }
          }
        }
      }
      left.insert(left.end(), right.begin(), right.end());
      for (int i = 0; i < n && static_cast<size_t>(i) < left.size(); ++i) out[i] = left[i];
      break;
    }
    case plan::LogicalKind::kUnion: {
      // Event time only where every input agrees; the latest lag holds for all.
      for (size_t c = 0; c < node.children.size(); ++c) {
        auto in = child(c);
        for (int i = 0; i < n; ++i) {
          std::optional<EventTimeColumn> v =
              static_cast<size_t>(i) < in.size() ? in[i] : std::nullopt;
          if (c == 0) {
            out[i] = v;
          } else if (out[i] && v && out[i]->lag_us >= 0 && v->lag_us >= 0 &&
                     out[i]->window == v->window && out[i]->width_us == v->width_us) {
            out[i]->lag_us = std::max(out[i]->lag_us, v->lag_us);
          } else {
            out[i].reset();
          }
        }
      }
      break;
    }
    case plan::LogicalKind::kScan:
      break;
  }
  for (int i = 0; i < n; ++i) {
    const auto& f = node.schema->field(i);
    if (!out[i] && f->type()->id() == arrow::Type::TIMESTAMP &&
        ctx.watermark_names.count(Lower(f->name()))) {
      out[i] = EventTimeColumn{};
    }
  }
  return out;
}

}  // namespace

}  // namespace lakestream::stream
