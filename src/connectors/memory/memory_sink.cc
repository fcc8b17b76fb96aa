// The memory sink (a named in-memory table, for tests and notebooks, as
// Spark's) and the console sink (prints every batch as Spark's does).
#include <iostream>
#include <mutex>

#include "connectors/builtin.h"
#include "types/value_format.h"

namespace lakestream::connectors {

namespace {

struct MemoryTable {
  std::shared_ptr<arrow::Schema> schema;
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  int64_t last_batch_id = -1;
};

std::mutex& TablesMutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, MemoryTable>& Tables() {
  static std::map<std::string, MemoryTable> tables;
  return tables;
}

class MemorySink : public Sink {
 public:
  MemorySink(std::string name, OutputMode mode) : name_(std::move(name)), mode_(mode) {
    std::lock_guard<std::mutex> lock(TablesMutex());
    Tables()[name_] = MemoryTable{};
  }
  std::string Description() const override { return "MemorySink[" + name_ + "]"; }
  Status AddBatch(int64_t batch_id, const std::shared_ptr<arrow::Schema>& schema,
                  const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) override {
    std::lock_guard<std::mutex> lock(TablesMutex());
    auto& t = Tables()[name_];
    // Idempotent within the process; a memory sink does not survive restarts.
    if (batch_id <= t.last_batch_id) return Status::OK();
    t.schema = schema;
    if (mode_ == OutputMode::kComplete) t.batches.clear();
    for (const auto& b : batches) {
      if (b->num_rows() > 0) t.batches.push_back(b);
    }
    t.last_batch_id = batch_id;
    return Status::OK();
  }

 private:
  std::string name_;
  OutputMode mode_;
};

class ConsoleSink : public Sink {
 public:
  ConsoleSink(int64_t num_rows, bool truncate) : num_rows_(num_rows), truncate_(truncate) {}
  std::string Description() const override { return "ConsoleSink"; }
  Status AddBatch(int64_t batch_id, const std::shared_ptr<arrow::Schema>& schema,
                  const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) override {
    std::vector<std::vector<std::string>> cells;
    std::vector<size_t> width;
    for (const auto& f : schema->fields()) width.push_back(f->name().size());
    int64_t total = 0;
    types::FormatOptions fo;
    for (const auto& b : batches) {
      for (int64_t r = 0; r < b->num_rows(); ++r, ++total) {
        if (total >= num_rows_) continue;
        std::vector<std::string> row;
        for (int c = 0; c < b->num_columns(); ++c) {
          auto v = types::FormatValue(*b->column(c), r, fo);
          if (truncate_ && v.size() > 20) v = v.substr(0, 17) + "...";
          width[c] = std::max(width[c], v.size());
          row.push_back(std::move(v));
        }
        cells.push_back(std::move(row));
      }
    }
    std::string sep = "+";
    for (auto w : width) sep += std::string(w, '-') + "+";
    std::string out = fmt::format(
        "-------------------------------------------\nBatch: {}\n"
        "-------------------------------------------\n{}\n|",
        batch_id, sep);
    for (int c = 0; c < schema->num_fields(); ++c)
      out += fmt::format("{:>{}}|", schema->field(c)->name(), width[c]);
    out += "\n" + sep + "\n";
    for (const auto& row : cells) {
      out += "|";
      for (size_t c = 0; c < row.size(); ++c) out += fmt::format("{:>{}}|", row[c], width[c]);
      out += "\n";
    }
    out += sep + "\n";
    if (total > num_rows_) out += fmt::format("only showing top {} rows\n", num_rows_);
    std::cout << out << std::endl;
    return Status::OK();
  }

 private:
  int64_t num_rows_;
  bool truncate_;
};

}  // namespace

Result<std::pair<std::shared_ptr<arrow::Schema>, std::vector<std::shared_ptr<arrow::RecordBatch>>>>
ReadMemoryTable(const std::string& name) {
  std::lock_guard<std::mutex> lock(TablesMutex());
  auto it = Tables().find(name);
  if (it == Tables().end() || !it->second.schema) {
    return UserError("no memory table '{}' (a memory sink creates it with its first batch)", name);
  }
  return std::make_pair(it->second.schema, it->second.batches);
}

void RegisterMemoryAndConsoleSinks() {
  SinkRegistry()["memory"] = [](const Options& o,
                                const SinkContext& ctx) -> Result<std::unique_ptr<Sink>> {
    auto name = GetOption(o, "queryName");
    if (!name) name = GetOption(o, "name");
    if (!name) name = GetOption(o, "path");
    if (!name || name->empty()) return UserError("the memory sink needs a table name (queryName)");
    return std::make_unique<MemorySink>(*name, ctx.output_mode);
  };
  SinkRegistry()["console"] = [](const Options& o,
                                 const SinkContext&) -> Result<std::unique_ptr<Sink>> {
    ARROW_ASSIGN_OR_RAISE(auto n, GetIntOption(o, "numRows", 20));
    ARROW_ASSIGN_OR_RAISE(auto truncate, GetBoolOption(o, "truncate", true));
    return std::make_unique<ConsoleSink>(n, truncate);
  };
}

}  // namespace lakestream::connectors
