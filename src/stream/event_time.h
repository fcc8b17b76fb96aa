// Event-time lineage: which output columns of a streaming plan carry event
// time, and how far behind the watermark their rows can still arrive. Spark
// knows event time only by a column's metadata, so a renamed window bound
// (`window.start AS starttime`, as Flink's Nexmark q5 writes it) loses it and
// the query is refused; Flink recognises window bounds after a window
// aggregation. We trace it through projections, filters, joins and
// aggregations instead, so both forms plan.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "plan/logical_plan.h"

namespace lakestream::stream {

/// An event-time column. Its rows are complete for a value v once the
/// watermark reaches `closes_at(v)`: v + lag for a TIMESTAMP column, or the
/// window's end + lag for a window struct<start, end>. A column computed
/// from a source's watermarked column has lag 0; a bound of a window that an
/// aggregation emits has the lag at which that aggregation emits it (the
/// start of a 10-second window: lag 10 s).
struct EventTimeColumn {
  bool window = false;    // struct<start, end> (closes at end + lag) or TIMESTAMP
  int64_t lag_us = 0;     // >= 0
  int64_t width_us = -1;  // window: end - start when known (-1: varies, e.g. sessions)
};

using EventTimeColumns = std::vector<std::optional<EventTimeColumn>>;

/// The event-time columns of `node`'s output, one entry per output column.
/// `watermark_names` (lower case) are the columns a WATERMARK clause
/// declared; a TIMESTAMP column of that name with no other lineage counts
/// as event time with lag 0. `stream_scans` are the scans of streaming
/// sources (a join is a stream-stream join when both inputs read one).
EventTimeColumns TraceEventTime(const plan::LogicalNode& node,
                                const std::set<std::string>& watermark_names,
                                const std::set<const plan::ScanSource*>& stream_scans);

/// The event time of `e`, an expression over a node whose columns are `input`.
std::optional<EventTimeColumn> EventTimeOf(const expr::Expr& e, const EventTimeColumns& input);

}  // namespace lakestream::stream
