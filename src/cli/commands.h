// Subcommands of the `lakestream` tool besides `sql`, each in its own file.
// Add*Command registers the subcommand and its options on `app`; the returned
// Command runs it when the user chose it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace lakestream::cli {

struct Command {
  CLI::App* app = nullptr;   // the subcommand
  std::function<int()> run;  // runs it, returns the exit code
};

/// `lakestream broker`: librdkafka's mock cluster on loopback (kafka_commands.cc).
Command AddBrokerCommand(CLI::App& app);
/// `lakestream generate`: realistic JSON events into a topic (kafka_commands.cc).
Command AddGenerateCommand(CLI::App& app);
/// `lakestream run pipeline.sql --checkpoint DIR`: streaming pipelines (run_command.cc).
Command AddRunCommand(CLI::App& app);

}  // namespace lakestream::cli
