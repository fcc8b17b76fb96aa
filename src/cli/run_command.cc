// `lakestream run pipeline.sql --checkpoint DIR [--trigger
// availableNow|once|processingTime=100ms]`: runs every streaming table of a pipeline file
// (stream/pipeline.h) until SIGINT/SIGTERM (graceful: each query finishes its current batch) or,
// with availableNow/once, until every query has caught up. Prints one progress line per second to
// stderr.
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>

#include "cli/commands.h"
#include "stream/pipeline.h"

namespace lakestream::cli {

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

struct Counters {
  std::mutex mu;
  int64_t batches = 0;
  int64_t rows = 0;
  int64_t rows_since_print = 0;
  int64_t last_batch = -1;
  int64_t last_duration_ms = 0;
};

// ${NAME} in the pipeline text becomes the value of --var NAME=value, so one
// file serves several environments (Databricks SQL uses the same spelling).
Result<std::string> Substitute(std::string text, const std::vector<std::string>& vars) {
  for (const auto& kv : vars) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return UserError("bad --var '{}': expected NAME=value", kv);
    auto key = "${" + kv.substr(0, eq) + "}";
    auto value = kv.substr(eq + 1);
    for (size_t at = text.find(key); at != std::string::npos;
         at = text.find(key, at + value.size())) {
      text.replace(at, key.size(), value);
    }
  }
  auto left = text.find("${");
  if (left != std::string::npos) {
    auto end = text.find('}', left);
    return UserError("the pipeline uses {} but no --var sets it",
                     text.substr(left, end == std::string::npos ? 20 : end - left + 1));
  }
  return text;
}

int RunPipeline(const std::string& file, const std::string& checkpoint, const std::string& trigger,
                const std::vector<std::string>& confs, const std::vector<std::string>& vars,
                bool quiet) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << "Error: cannot read " << file << std::endl;
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  stream::PipelineOptions opts;
  opts.checkpoint_dir = checkpoint;
  auto trig = stream::Trigger::Parse(trigger);
  if (!trig.ok()) {
    std::cerr << "Error: " << trig.status().message() << std::endl;
    return 2;
  }
  opts.trigger = *trig;
  for (const auto& kv : confs) {
    auto eq = kv.find('=');
    std::string err;
    if (eq == std::string::npos || !opts.config.Set(kv.substr(0, eq), kv.substr(eq + 1), &err)) {
      std::cerr << "Error: bad --conf '" << kv << "' " << err << std::endl;
      return 2;
    }
  }
  auto text = Substitute(ss.str(), vars);
  if (!text.ok()) {
    std::cerr << "Error: " << file << ": " << text.status().message() << std::endl;
    return 2;
  }
  auto specs = stream::PlanPipeline(*text, opts);
  if (!specs.ok()) {
    std::cerr << "Error: " << file << ": " << specs.status().message() << std::endl;
    return 1;
  }
  if (specs->empty()) {
    std::cerr << "Error: " << file << " defines no CREATE STREAMING TABLE" << std::endl;
    return 1;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  std::vector<std::shared_ptr<Counters>> counters;
  std::vector<std::shared_ptr<stream::StreamingQuery>> queries;
  auto stop_all = [&] {
    for (auto& q : queries) q->Stop();
  };
  auto report_errors = [&]() -> int {
    int rc = 0;
    for (auto& q : queries) {
      auto st = q->exception();
      if (!st.ok()) {
        std::cerr << "Error: streaming table " << q->name() << " stopped: " << st.message()
                  << std::endl;
        rc = 1;
      }
    }
    return rc;
  };
  const bool finite = opts.trigger.kind == stream::Trigger::Kind::kAvailableNow ||
                      opts.trigger.kind == stream::Trigger::Kind::kOnce;
  for (auto& spec : *specs) {
    auto c = std::make_shared<Counters>();
    spec.on_progress = [c](const stream::ProgressJson& p) {
      std::lock_guard<std::mutex> lock(c->mu);
      int64_t rows = p.value("numInputRows", int64_t{0});
      c->batches++;
      c->rows += rows;
      c->rows_since_print += rows;
      c->last_batch = p.value("batchId", int64_t{-1});
      c->last_duration_ms = p["durationMs"].value("triggerExecution", int64_t{0});
    };
    auto q = stream::StreamingQuery::Start(spec);
    if (!q.ok()) {
      std::cerr << "Error: streaming table " << spec.name << ": " << q.status().message()
                << std::endl;
      stop_all();
      return 1;
    }
    counters.push_back(c);
    queries.push_back(*q);
    if (finite) {
      // Upstream tables catch up before the queries reading them start.
      while (!(*q)->AwaitTermination(std::chrono::milliseconds(200))) {
        if (g_stop) (*q)->Stop();
      }
      if (!(*q)->exception().ok()) return report_errors();
      if (!quiet) {
        std::lock_guard<std::mutex> lock(c->mu);
        std::cerr << fmt::format("{}: {} batches, {} rows", spec.name, c->batches, c->rows)
                  << std::endl;
      }
      if (g_stop) break;
    }
  }
  if (finite) return report_errors();

  auto last_print = std::chrono::steady_clock::now();
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    bool failed = false;
    for (auto& q : queries) failed |= !q->IsActive();
    if (failed) break;
    auto now = std::chrono::steady_clock::now();
    if (!quiet && now - last_print >= std::chrono::seconds(1)) {
      double secs = std::chrono::duration<double>(now - last_print).count();
      last_print = now;
      std::string line;
      for (size_t i = 0; i < queries.size(); ++i) {
        std::lock_guard<std::mutex> lock(counters[i]->mu);
        line += fmt::format("{}{}: batch {} {:.0f} rows/s total {}", line.empty() ? "" : " | ",
                            queries[i]->name(), counters[i]->last_batch,
                            counters[i]->rows_since_print / secs, counters[i]->rows);
        counters[i]->rows_since_print = 0;
      }
      std::cerr << line << std::endl;
    }
  }
  stop_all();
  return report_errors();
}

}  // namespace

Command AddRunCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run the streaming tables of a pipeline SQL file");
  struct Args {
    std::string file, checkpoint, trigger = "default";
    std::vector<std::string> confs, vars;
    bool quiet = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("pipeline", args->file, "SQL file with CREATE STREAMING TABLE statements")
      ->required();
  cmd->add_option("--checkpoint", args->checkpoint,
                  "Checkpoint folder (one sub-folder per streaming table)")
      ->required();
  cmd->add_option("--trigger", args->trigger,
                  "default | once | availableNow | processingTime=100ms");
  cmd->add_option("-c,--conf", args->confs, "Session setting key=value; repeatable")
      ->allow_extra_args(false)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--var", args->vars,
                  "Substitute ${NAME} in the pipeline with value: NAME=value; repeatable")
      ->allow_extra_args(false)
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("-q,--quiet", args->quiet, "No progress lines");
  return {cmd, [args] {
            return RunPipeline(args->file, args->checkpoint, args->trigger, args->confs, args->vars,
                               args->quiet);
          }};
}

}  // namespace lakestream::cli
