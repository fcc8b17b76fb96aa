#include "connectors/kafka/kafka.h"

namespace lakestream::connectors::kafka {

void RegisterKafkaConnectors() {}

}  // namespace lakestream::connectors::kafka
