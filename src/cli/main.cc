// The `lakestream` command: batch SQL now (sql), the streaming commands as
// they land. No engine logic here: parse arguments, call the session, print.
#include <readline/history.h>
#include <readline/readline.h>
#include <simdjson.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/init.h"
#include "plan/session.h"
#include "sql/parser.h"
#include "stream/connectors.h"

namespace lakestream::cli {
namespace {

int RunStatements(plan::Session& session, const std::string& sql, OutputFormat format) {
  auto st = session.ExecuteScript(sql, [&](const sql::Statement& s, const plan::QueryResult& r) {
    PrintResult(r, format, session.config().time_zone, std::cout);
    std::cout.flush();
    return Status::OK();
  });
  if (!st.ok()) {
    std::cerr << "Error: " << st.message() << std::endl;
    return 1;
  }
  return 0;
}

// One JSON request per line: {"sql": "..."}; one JSON answer per line.
int RunJsonl(plan::Session& session) {
  simdjson::dom::parser parser;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    std::string answer;
    simdjson::dom::element doc;
    std::string_view sql;
    if (parser.parse(line).get(doc) != simdjson::SUCCESS ||
        doc["sql"].get_string().get(sql) != simdjson::SUCCESS) {
      answer = ErrorToJsonLine("bad request: expected {\"sql\": \"...\"}");
    } else {
      auto r = session.ExecuteSql(sql);
      answer = r.ok() ? ResultToJsonLine(*r, session.config().time_zone)
                      : ErrorToJsonLine(r.status().message());
    }
    std::cout << answer << "\n";
    std::cout.flush();
  }
  return 0;
}

int RunShell(plan::Session& session, OutputFormat format) {
  std::string history = std::string(getenv("HOME") ? getenv("HOME") : ".") + "/.lakestream_history";
  read_history(history.c_str());
  std::string buffer;
  std::cout << "lakestream SQL shell. End statements with ';'. Ctrl-D exits.\n";
  while (true) {
    char* raw = readline(buffer.empty() ? "lakestream> " : "        ...> ");
    if (!raw) break;
    std::string line(raw);
    free(raw);
    if (buffer.empty() && line.empty()) continue;
    buffer += (buffer.empty() ? "" : "\n") + line;
    bool incomplete = false;
    sql::SplitStatements(buffer, &incomplete);
    if (incomplete) continue;
    add_history(buffer.c_str());
    write_history(history.c_str());
    RunStatements(session, buffer, format);
    buffer.clear();
  }
  std::cout << "\n";
  return 0;
}

}  // namespace
}  // namespace lakestream::cli

int main(int argc, char** argv) {
  using namespace lakestream;
  auto init = Initialize();
  if (!init.ok()) {
    std::cerr << "initialization failed: " << init.ToString() << std::endl;
    return 1;
  }
  // Table functions of other layers (read_statestore, memory.`name`) for `sql` too.
  stream::RegisterBuiltinConnectors();
  CLI::App app{"lakestream: streaming and batch SQL on Arrow, landing in Delta Lake"};
  app.require_subcommand(1);

  auto* sql_cmd = app.add_subcommand("sql", "Run Spark SQL statements");
  std::string query, file, format = "table";
  bool jsonl = false;
  std::vector<std::string> confs;
  sql_cmd->add_option("query", query, "SQL statements to run");
  sql_cmd->add_option("-f,--file", file, "Run the statements of a file");
  sql_cmd->add_option("--format", format, "Output format: table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  sql_cmd->add_flag("--jsonl", jsonl,
                    "Machine protocol: a JSON request per stdin line, a JSON answer per line");
  sql_cmd->add_option("-c,--conf", confs, "Session setting key=value (like SET); repeatable")
      ->allow_extra_args(false)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);

  std::vector<cli::Command> commands;
  for (auto add : {cli::AddRunCommand, cli::AddBrokerCommand, cli::AddGenerateCommand})
    commands.push_back(add(app));

  CLI11_PARSE(app, argc, argv);
  for (auto& c : commands) {
    if (*c.app) return c.run();
  }

  if (*sql_cmd) {
    plan::Session session;
    for (const auto& kv : confs) {
      auto eq = kv.find('=');
      std::string err;
      if (eq == std::string::npos ||
          !session.config().Set(kv.substr(0, eq), kv.substr(eq + 1), &err)) {
        std::cerr << "Error: bad --conf '" << kv << "' " << err << std::endl;
        return 2;
      }
    }
    auto fmt = format == "csv"    ? cli::OutputFormat::kCsv
               : format == "json" ? cli::OutputFormat::kJson
                                  : cli::OutputFormat::kTable;
    if (jsonl) return cli::RunJsonl(session);
    if (!file.empty()) {
      std::ifstream in(file);
      if (!in) {
        std::cerr << "Error: cannot read " << file << std::endl;
        return 1;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      return cli::RunStatements(session, ss.str(), fmt);
    }
    if (!query.empty()) return cli::RunStatements(session, query, fmt);
    if (isatty(STDIN_FILENO)) return cli::RunShell(session, fmt);
    std::stringstream ss;
    ss << std::cin.rdbuf();
    return cli::RunStatements(session, ss.str(), fmt);
  }
  return 0;
}
