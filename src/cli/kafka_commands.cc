// Placeholder until the Kafka commands land (issue 9).
#include "cli/commands.h"

namespace lakestream::cli {

Command AddBrokerCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("broker", "Run an embedded Kafka broker (librdkafka mock cluster)");
  return {cmd, [] { return 2; }};
}

Command AddGenerateCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Produce generated events into a Kafka topic");
  return {cmd, [] { return 2; }};
}

}  // namespace lakestream::cli
