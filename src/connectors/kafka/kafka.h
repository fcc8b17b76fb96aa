// Apache Kafka through librdkafka: the streaming source and sink with Spark's
// options, and the embedded mock cluster of `lakestream broker`.
#pragma once

#include "connectors/streaming.h"

namespace lakestream::connectors::kafka {

/// Registers "kafka" in SourceRegistry() and SinkRegistry(). Idempotent.
void RegisterKafkaConnectors();

}  // namespace lakestream::connectors::kafka
