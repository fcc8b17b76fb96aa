// State as a table, as Spark's state data source: read_statestore(checkpoint
// [, operatorId => n, batchId => n]) gives one row per key of an operator's
// state (partition_id, key, value, decoded with the layout the query recorded)
// and read_state_metadata(checkpoint) one row per stateful operator.
#include <arrow/api.h>

#include <filesystem>

#include "exec/row_codec.h"
#include "exec/streaming_aggregate.h"
#include "plan/binder.h"
#include "state/state_store.h"
#include "stream/checkpoint.h"
#include "stream/connectors.h"
#include "types/types.h"

namespace lakestream::stream {

namespace {

namespace fs = std::filesystem;

std::string Text(const std::shared_ptr<arrow::Scalar>& s) {
  if (s && s->is_valid && s->type->id() == arrow::Type::STRING) {
    return static_cast<const arrow::StringScalar&>(*s).value->ToString();
  }
  return s ? s->ToString() : "";
}

Result<int64_t> IntArg(const std::map<std::string, std::shared_ptr<arrow::Scalar>>& named,
                       const std::string& name, int64_t fallback) {
  for (const auto& [k, v] : named) {
    std::string lk = k;
    std::transform(lk.begin(), lk.end(), lk.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lk != name) continue;
    if (!v || !v->is_valid || !arrow::is_integer(v->type->id()))
      return UserError("{} must be an integer", k);
    ARROW_ASSIGN_OR_RAISE(auto i64, v->CastTo(arrow::int64()));
    return static_cast<const arrow::Int64Scalar&>(*i64).value;
  }
  return fallback;
}

std::shared_ptr<plan::ScanSource> Table(std::string description,
                                        std::shared_ptr<arrow::Schema> schema,
                                        std::vector<std::shared_ptr<arrow::RecordBatch>> batches) {
  auto src = std::make_shared<plan::ScanSource>();
  src->description = std::move(description);
  src->schema = schema;
  src->batches = std::move(batches);
  if (src->batches.empty())
    src->batches.push_back(arrow::RecordBatch::MakeEmpty(schema).ValueOrDie());
  return src;
}

Result<std::shared_ptr<plan::ScanSource>> ReadStateStore(
    plan::Session*, const std::vector<std::shared_ptr<arrow::Scalar>>& positional,
    const std::map<std::string, std::shared_ptr<arrow::Scalar>>& named) {
  if (positional.size() != 1)
    return UserError("read_statestore expects the checkpoint folder, e.g. read_statestore('/cp')");
  auto dir = Text(positional[0]);
  ARROW_ASSIGN_OR_RAISE(int64_t op, IntArg(named, "operatorid", 0));
  auto state_dir = dir + "/state";
  ARROW_ASSIGN_OR_RAISE(auto schema_text, state::ReadStateSchema(state_dir, op));
  if (!schema_text) return UserError("no state for operator {} in checkpoint '{}'", op, dir);
  auto meta = Json::parse(*schema_text, nullptr, false);
  if (meta.is_discarded() || !meta.contains("key") || !meta.contains("value")) {
    return UserError("the state of operator {} in '{}' has no readable layout", op, dir);
  }
  ARROW_ASSIGN_OR_RAISE(auto key_schema, types::ParseDDLSchema(meta["key"].get<std::string>()));
  ARROW_ASSIGN_OR_RAISE(auto value_schema, types::ParseDDLSchema(meta["value"].get<std::string>()));
  const bool aggregation = meta.value("operatorName", "") == "stateStoreSave";
  // batchId => n: the state after batch n (version n+1); default the last committed batch.
  ARROW_ASSIGN_OR_RAISE(auto cp, Checkpoint::Open(dir));
  ARROW_ASSIGN_OR_RAISE(auto last, cp.LatestCommitBatch());
  ARROW_ASSIGN_OR_RAISE(int64_t batch, IntArg(named, "batchid", last ? *last : -1));
  int64_t version = batch + 1;

  auto key_type = arrow::struct_(key_schema->fields());
  auto value_type = arrow::struct_(value_schema->fields());
  std::unique_ptr<arrow::ArrayBuilder> kb, vb;
  ARROW_RETURN_NOT_OK(arrow::MakeBuilder(arrow::default_memory_pool(), key_type, &kb));
  ARROW_RETURN_NOT_OK(arrow::MakeBuilder(arrow::default_memory_pool(), value_type, &vb));
  auto* ks = static_cast<arrow::StructBuilder*>(kb.get());
  auto* vs = static_cast<arrow::StructBuilder*>(vb.get());
  std::vector<arrow::ArrayBuilder*> kf, vf;
  for (int i = 0; i < ks->num_fields(); ++i) kf.push_back(ks->field_builder(i));
  for (int i = 0; i < vs->num_fields(); ++i) vf.push_back(vs->field_builder(i));
  arrow::Int32Builder pb;
  auto op_dir = fmt::format("{}/{}", state_dir, op);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(op_dir, ec)) {
    auto name = entry.path().filename().string();
    if (!entry.is_directory() || name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit))
      continue;
    if (version <= 0) break;
    ARROW_ASSIGN_OR_RAISE(auto rows, state::ReadStateRows(entry.path().string(), version));
    for (const auto& r : rows) {
      std::string_view k = r.key, v = r.value;
      if (exec::IsStreamingAggregateMetaKey(k)) continue;  // index and count entries
      if (aggregation) {
        // An aggregation's value starts with its group's keys, in order
        // (session windows order the store key differently).
        k = r.value;
      }
      ARROW_RETURN_NOT_OK(ks->Append());
      ARROW_RETURN_NOT_OK(exec::DecodeRow(&k, kf));
      ARROW_RETURN_NOT_OK(vs->Append());
      ARROW_RETURN_NOT_OK(exec::DecodeRow(&v, vf));
      ARROW_RETURN_NOT_OK(pb.Append(std::stoi(name)));
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto keys, kb->Finish());
  ARROW_ASSIGN_OR_RAISE(auto values, vb->Finish());
  ARROW_ASSIGN_OR_RAISE(auto parts, pb.Finish());
  auto schema = arrow::schema({arrow::field("key", key_type), arrow::field("value", value_type),
                               arrow::field("partition_id", arrow::int32())});
  return Table(fmt::format("StateStore [{} operator {} batch {}]", dir, op, batch), schema,
               {arrow::RecordBatch::Make(schema, keys->length(), {keys, values, parts})});
}

Result<std::shared_ptr<plan::ScanSource>> ReadStateMetadata(
    plan::Session*, const std::vector<std::shared_ptr<arrow::Scalar>>& positional,
    const std::map<std::string, std::shared_ptr<arrow::Scalar>>&) {
  if (positional.size() != 1) return UserError("read_state_metadata expects the checkpoint folder");
  auto dir = Text(positional[0]);
  arrow::Int64Builder ids, parts, minb, maxb;
  arrow::StringBuilder names, layouts;
  std::error_code ec;
  for (const auto& op : fs::directory_iterator(dir + "/state", ec)) {
    auto name = op.path().filename().string();
    if (!op.is_directory() || name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit))
      continue;
    int64_t id = std::stoll(name), nparts = 0, lo = INT64_MAX, hi = 0;
    for (const auto& p : fs::directory_iterator(op.path(), ec)) {
      auto pn = p.path().filename().string();
      if (!p.is_directory() || pn.empty() || !std::all_of(pn.begin(), pn.end(), ::isdigit))
        continue;
      ++nparts;
      ARROW_ASSIGN_OR_RAISE(auto versions, state::ListStateVersions(p.path().string()));
      if (!versions.empty()) {
        lo = std::min(lo, versions.front());
        hi = std::max(hi, versions.back());
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto text, state::ReadStateSchema(dir + "/state", id));
    auto meta = Json::parse(text.value_or("{}"), nullptr, false);
    ARROW_RETURN_NOT_OK(ids.Append(id));
    ARROW_RETURN_NOT_OK(names.Append(meta.is_object() ? meta.value("operatorName", "") : ""));
    ARROW_RETURN_NOT_OK(parts.Append(nparts));
    // Store version v is the state after batch v-1.
    ARROW_RETURN_NOT_OK(minb.Append(lo == INT64_MAX ? -1 : lo - 1));
    ARROW_RETURN_NOT_OK(maxb.Append(hi - 1));
    ARROW_RETURN_NOT_OK(layouts.Append(text.value_or("")));
  }
  auto schema = arrow::schema(
      {arrow::field("operatorId", arrow::int64()), arrow::field("operatorName", arrow::utf8()),
       arrow::field("numPartitions", arrow::int64()), arrow::field("minBatchId", arrow::int64()),
       arrow::field("maxBatchId", arrow::int64()), arrow::field("stateSchema", arrow::utf8())});
  arrow::ArrayVector cols;
  for (arrow::ArrayBuilder* b :
       std::vector<arrow::ArrayBuilder*>{&ids, &names, &parts, &minb, &maxb, &layouts}) {
    ARROW_ASSIGN_OR_RAISE(auto a, b->Finish());
    cols.push_back(a);
  }
  return Table("StateMetadata [" + dir + "]", schema,
               {arrow::RecordBatch::Make(schema, cols[0]->length(), cols)});
}

}  // namespace

void RegisterStateTables() {
  plan::TableSourceRegistry()["read_statestore"] = ReadStateStore;
  plan::TableSourceRegistry()["read_state_metadata"] = ReadStateMetadata;
}

}  // namespace lakestream::stream
