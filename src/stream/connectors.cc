#include "stream/connectors.h"

#include <mutex>

#include "connectors/builtin.h"
#include "connectors/kafka/kafka.h"
#include "plan/binder.h"

namespace lakestream::stream {

void RegisterStateTables();  // state_table.cc

namespace {
std::string ScalarText(const arrow::Scalar& s) {
  if (s.type->id() == arrow::Type::STRING)
    return static_cast<const arrow::StringScalar&>(s).value->ToString();
  if (s.type->id() == arrow::Type::BOOL)
    return static_cast<const arrow::BooleanScalar&>(s).value ? "true" : "false";
  return s.ToString();
}
}  // namespace

Result<connectors::Options> SourceOptions(
    const std::vector<std::shared_ptr<arrow::Scalar>>& positional,
    const std::map<std::string, std::shared_ptr<arrow::Scalar>>& named) {
  connectors::Options options;
  for (const auto& p : positional) {
    if (!p || !p->is_valid) return UserError("a streaming source argument must not be NULL");
    if (options.count("path"))
      return UserError("a streaming source takes one path; pass options by name");
    options["path"] = ScalarText(*p);
  }
  for (const auto& [k, v] : named) {
    if (!v || !v->is_valid) return UserError("streaming source option '{}' must not be NULL", k);
    options[k] = ScalarText(*v);
  }
  return options;
}

void RegisterBuiltinConnectors() {
  static std::once_flag once;
  std::call_once(once, [] {
    connectors::RegisterFilesConnector();
    connectors::RegisterRateConnector();
    connectors::RegisterDeltaStreaming();
    connectors::RegisterMemoryAndConsoleSinks();
    connectors::kafka::RegisterKafkaConnectors();
    RegisterStateTables();
    // memory.`name`: what a memory sink collected, readable in SQL as Spark's
    // memory sink registers a temporary view.
    plan::TableSourceRegistry()["memory"] =
        [](plan::Session*, const std::vector<std::shared_ptr<arrow::Scalar>>& positional,
           const std::map<std::string, std::shared_ptr<arrow::Scalar>>&)
        -> Result<std::shared_ptr<plan::ScanSource>> {
      if (positional.size() != 1 || !positional[0]->is_valid)
        return UserError("memory.`name` needs a table name");
      auto name = static_cast<const arrow::StringScalar&>(*positional[0]).value->ToString();
      ARROW_ASSIGN_OR_RAISE(auto table, connectors::ReadMemoryTable(name));
      auto src = std::make_shared<plan::ScanSource>();
      src->description = "MemoryTable " + name;
      src->schema = table.first;
      src->batches = table.second;
      if (src->batches.empty())
        src->batches.push_back(arrow::RecordBatch::MakeEmpty(table.first).ValueOrDie());
      return src;
    };
  });
}

}  // namespace lakestream::stream
