// Registers every built-in connector (files, rate, delta, memory, console,
// kafka) with the connector registries, and the in-memory sink's tables as
// the SQL source memory.`name`. The stream layer names connectors only here.
#pragma once

#include <arrow/scalar.h>

#include <map>
#include <memory>
#include <vector>

#include "connectors/streaming.h"

namespace lakestream::stream {

/// The options of a streaming source from its SQL arguments: a positional
/// argument is the path, named arguments are options (values as text).
Result<connectors::Options> SourceOptions(
    const std::vector<std::shared_ptr<arrow::Scalar>>& positional,
    const std::map<std::string, std::shared_ptr<arrow::Scalar>>& named);

/// A source by format (connectors::MakeSource), parsing its `value` column
/// when the options carry `valueSchema` (see parsed_source.cc).
Result<std::unique_ptr<connectors::Source>> MakeStreamSource(
    const std::string& kind, const connectors::Options& options,
    const connectors::SourceContext& context);

/// Idempotent and thread-safe.
void RegisterBuiltinConnectors();

}  // namespace lakestream::stream
