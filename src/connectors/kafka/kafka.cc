// Registers the Kafka source and sink under the name "kafka".
#include "connectors/kafka/kafka.h"

#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"

namespace lakestream::connectors::kafka {

void RegisterKafkaConnectors() {
  SourceRegistry()["kafka"] = [](const Options& options, const SourceContext& context) -> Result<std::unique_ptr<Source>> {
    ARROW_ASSIGN_OR_RAISE(auto source, KafkaSource::Make(options, context));
    return std::unique_ptr<Source>(std::move(source));
  };
  SinkRegistry()["kafka"] = [](const Options& options, const SinkContext& context) -> Result<std::unique_ptr<Sink>> {
    ARROW_ASSIGN_OR_RAISE(auto sink, KafkaSink::Make(options, context));
    return std::unique_ptr<Sink>(std::move(sink));
  };
}

}  // namespace lakestream::connectors::kafka
