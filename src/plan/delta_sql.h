// Delta Lake in SQL: the "delta" table source (delta.`/path` with time travel)
// and the statements CREATE TABLE AS, INSERT, DESCRIBE HISTORY/DETAIL on Delta
// paths, registered into the plan layer's registries.
#pragma once

namespace lakestream::plan {

/// Registers the "delta" source in TableSourceRegistry() and the Delta
/// statement handlers in Session::StatementHandlers(). Idempotent and
/// thread-safe (std::call_once); Session's constructor calls it, because a
/// static registration object in a static library would be dropped by the linker.
void RegisterDeltaSql();

}  // namespace lakestream::plan
