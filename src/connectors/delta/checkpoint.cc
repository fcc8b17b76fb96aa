// Checkpoint reading and writing.
//
// Reading converts each row of the Parquet checkpoint to the JSON form of its
// action and parses it with the same code as commit files, so checkpoints and
// commits can never disagree on what an action means. The last few files read
// are kept decoded (a streaming writer reads the same one at every commit).
#include "connectors/delta/checkpoint.h"

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/io/file.h>
#include <arrow/io/memory.h>
#include <arrow/table.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/arrow/writer.h>
#include <parquet/exception.h>
#include <simdjson.h>

#include <list>
#include <mutex>
#include <set>

namespace lakestream::delta {
namespace {

void AppendValueJson(const arrow::Array& arr, int64_t i, std::string* out);

void AppendStructJson(const arrow::StructArray& s, int64_t i, std::string* out) {
  out->push_back('{');
  bool first = true;
  const auto& type = static_cast<const arrow::StructType&>(*s.type());
  for (int f = 0; f < type.num_fields(); ++f) {
    const auto& name = type.field(f)->name();
    // Typed copies of stats/partition values are redundant with the strings.
    if (name == "stats_parsed" || name == "partitionValues_parsed") continue;
    auto child = s.field(f);
    if (child->IsNull(i)) continue;
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, name);
    out->push_back(':');
    AppendValueJson(*child, i, out);
  }
  out->push_back('}');
}

void AppendValueJson(const arrow::Array& arr, int64_t i, std::string* out) {
  if (arr.IsNull(i)) {
    out->append("null");
    return;
  }
  switch (arr.type_id()) {
    case arrow::Type::STRING:
      AppendJsonString(out, static_cast<const arrow::StringArray&>(arr).GetView(i));
      return;
    case arrow::Type::LARGE_STRING:
      AppendJsonString(out, static_cast<const arrow::LargeStringArray&>(arr).GetView(i));
      return;
    case arrow::Type::BOOL:
      out->append(static_cast<const arrow::BooleanArray&>(arr).Value(i) ? "true" : "false");
      return;
    case arrow::Type::INT8:
      out->append(std::to_string(static_cast<const arrow::Int8Array&>(arr).Value(i)));
      return;
    case arrow::Type::INT16:
      out->append(std::to_string(static_cast<const arrow::Int16Array&>(arr).Value(i)));
      return;
    case arrow::Type::INT32:
      out->append(std::to_string(static_cast<const arrow::Int32Array&>(arr).Value(i)));
      return;
    case arrow::Type::INT64:
      out->append(std::to_string(static_cast<const arrow::Int64Array&>(arr).Value(i)));
      return;
    case arrow::Type::STRUCT:
      AppendStructJson(static_cast<const arrow::StructArray&>(arr), i, out);
      return;
    case arrow::Type::MAP: {
      const auto& m = static_cast<const arrow::MapArray&>(arr);
      out->push_back('{');
      auto keys = m.keys();
      auto items = m.items();
      for (int64_t j = m.value_offset(i); j < m.value_offset(i) + m.value_length(i); ++j) {
        if (j != m.value_offset(i)) out->push_back(',');
        if (keys->type_id() == arrow::Type::STRING) {
          AppendJsonString(out, static_cast<const arrow::StringArray&>(*keys).GetView(j));
        } else {
          AppendJsonString(out, keys->GetScalar(j).ValueOrDie()->ToString());
        }
        out->push_back(':');
        AppendValueJson(*items, j, out);
      }
      out->push_back('}');
      return;
    }
    case arrow::Type::LIST: {
      const auto& l = static_cast<const arrow::ListArray&>(arr);
      out->push_back('[');
      auto values = l.values();
      for (int64_t j = l.value_offset(i); j < l.value_offset(i) + l.value_length(i); ++j) {
        if (j != l.value_offset(i)) out->push_back(',');
        AppendValueJson(*values, j, out);
      }
      out->push_back(']');
      return;
    }
    default: {
      // Other types do not occur in action columns; keep their text form.
      auto s = arr.GetScalar(i);
      AppendJsonString(out, s.ok() ? (*s)->ToString() : "");
      return;
    }
  }
}

const std::set<std::string, std::less<>>& ActionColumns() {
  static const std::set<std::string, std::less<>> k = {
      "add",     "remove", "metaData", "protocol", "txn", "domainMetadata", "checkpointMetadata",
      "sidecar", "cdc"};
  return k;
}

}  // namespace

Result<std::shared_ptr<arrow::Table>> ReadParquetTable(storage::FileSystem* fs,
                                                       const std::string& path,
                                                       const std::vector<std::string>& columns,
                                                       bool combine) {
  std::shared_ptr<arrow::io::RandomAccessFile> input;
  if (dynamic_cast<storage::LocalFileSystem*>(fs) != nullptr) {
    // A local file is memory-mapped: libparquet touches only the footer and
    // the column chunks it decodes, not every byte of the file.
    // (If it cannot be mapped, the FileSystem read below names the problem.)
    auto mapped = arrow::io::MemoryMappedFile::Open(path, arrow::io::FileMode::READ);
    if (mapped.ok()) input = *mapped;
  }
  if (!input) {
    // Other file systems through the FileSystem, so object stores work alike;
    // the buffer owns the bytes, so arrays that slice it stay valid.
    LS_ASSIGN_OR_RAISE(auto bytes, fs->ReadAll(path));
    input = std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(std::move(bytes)));
  }
  try {
    auto reader_r = parquet::arrow::OpenFile(input, arrow::default_memory_pool());
    if (!reader_r.ok()) {
      return UserError("cannot read Parquet file '{}': {}", path, reader_r.status().message());
    }
    auto reader = std::move(*reader_r);
    arrow::Result<std::shared_ptr<arrow::Table>> table;
    if (columns.empty()) {
      table = reader->ReadTable();
    } else {
      std::vector<int> indices;
      const auto& manifest = reader->manifest();
      for (size_t f = 0; f < manifest.schema_fields.size(); ++f) {
        const auto& field = manifest.schema_fields[f];
        for (const auto& c : columns) {
          if (field.field->name() == c) {
            std::vector<const parquet::arrow::SchemaField*> stack = {&field};
            while (!stack.empty()) {
              auto* sf = stack.back();
              stack.pop_back();
              if (sf->column_index >= 0) indices.push_back(sf->column_index);
              for (const auto& ch : sf->children) stack.push_back(&ch);
            }
          }
        }
      }
      std::sort(indices.begin(), indices.end());
      // No requested column in the file: read everything so the row count
      // stays right (the caller fills missing columns with NULLs).
      table = indices.empty() ? reader->ReadTable() : reader->ReadTable(indices);
    }
    if (!table.ok()) {
      return UserError("cannot read Parquet file '{}': {}", path, table.status().message());
    }
    if (!combine) return *table;
    auto combined = (*table)->CombineChunks();
    if (!combined.ok())
      return UserError("cannot read Parquet file '{}': {}", path, combined.status().message());
    return *combined;
  } catch (const std::exception& e) {
    return UserError("cannot read Parquet file '{}': {}", path, e.what());
  }
}

Result<std::vector<Action>> ActionsFromTable(const arrow::Table& table, std::string_view where) {
  std::vector<Action> out;
  LS_ASSIGN_OR_RAISE(auto combined, table.CombineChunksToBatch());
  const auto& schema = *combined->schema();
  std::string line;
  for (int c = 0; c < schema.num_fields(); ++c) {
    const std::string& name = schema.field(c)->name();
    if (ActionColumns().count(name) == 0) continue;
    auto col = combined->column(c);
    if (col->type_id() != arrow::Type::STRUCT) {
      return UserError("checkpoint {}: column '{}' is not a struct", where, name);
    }
    for (int64_t i = 0; i < col->length(); ++i) {
      if (col->IsNull(i)) continue;
      line.clear();
      line.push_back('{');
      AppendJsonString(&line, name);
      line.push_back(':');
      AppendValueJson(*col, i, &line);
      line.push_back('}');
      LS_ASSIGN_OR_RAISE(auto action, ParseActionLine(line, fmt::format("{} row {}", where, i)));
      if (action) out.push_back(std::move(*action));
    }
  }
  return out;
}

namespace {

// The actions of the checkpoint files read last. Every commit of a streaming
// writer loads the latest snapshot, i.e. the same checkpoint again until the
// next one: decoding it (Parquet, then each row through JSON) was a third of
// the engine's CPU at 100k events/s into a table of ~700 files. A checkpoint
// file is immutable once its name exists (written by rename); a rewrite of the
// same version by another writer changes size or mtime, which are part of the
// key, so a hit is always the file as it is now.
class CheckpointCache {
 public:
  using Entry = std::shared_ptr<const std::vector<Action>>;

  Entry Find(const std::string& path, const storage::FileInfo& info) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->path == path && it->size == info.size && it->mtime_ms == info.modification_time_ms) {
        entries_.splice(entries_.begin(), entries_, it);  // most recently used first
        return entries_.front().actions;
      }
    }
    return nullptr;
  }

  void Put(const std::string& path, const storage::FileInfo& info, Entry actions) {
    if (actions->size() > kMaxActionsPerEntry) return;  // bounded memory
    std::lock_guard<std::mutex> lock(mu_);
    entries_.push_front({path, info.size, info.modification_time_ms, std::move(actions)});
    if (entries_.size() > kMaxEntries) entries_.pop_back();
  }

 private:
  static constexpr size_t kMaxEntries = 4;
  static constexpr size_t kMaxActionsPerEntry = 100000;
  struct Item {
    std::string path;
    int64_t size;
    int64_t mtime_ms;
    Entry actions;
  };
  std::mutex mu_;
  std::list<Item> entries_;
};

CheckpointCache& Cache() {
  static CheckpointCache* cache = new CheckpointCache();  // never destroyed (exit order)
  return *cache;
}

Result<std::vector<Action>> DecodeCheckpointFile(storage::FileSystem* fs, const std::string& path) {
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    LS_ASSIGN_OR_RAISE(auto content, fs->ReadAll(path));
    return ParseCommitFile(content, path);
  }
  LS_ASSIGN_OR_RAISE(auto table, ReadParquetTable(fs, path));
  return ActionsFromTable(*table, path);
}

}  // namespace

Result<std::vector<Action>> ReadCheckpointFile(storage::FileSystem* fs, const std::string& path) {
  auto info = fs->Stat(path);
  if (!info.ok()) return DecodeCheckpointFile(fs, path);  // the read reports the error
  if (auto hit = Cache().Find(path, *info)) return *hit;
  LS_ASSIGN_OR_RAISE(auto actions, DecodeCheckpointFile(fs, path));
  // Stat again: a file replaced while it was read is not cached under the old key.
  auto after = fs->Stat(path);
  if (after.ok() && after->size == info->size &&
      after->modification_time_ms == info->modification_time_ms) {
    Cache().Put(path, *info, std::make_shared<const std::vector<Action>>(actions));
  }
  return actions;
}

namespace {

std::shared_ptr<arrow::DataType> StringMapType() {
  return arrow::map(arrow::utf8(), arrow::utf8());
}

std::shared_ptr<arrow::DataType> DvType() {
  return arrow::struct_(
      {arrow::field("storageType", arrow::utf8()), arrow::field("pathOrInlineDv", arrow::utf8()),
       arrow::field("offset", arrow::int32()), arrow::field("sizeInBytes", arrow::int32()),
       arrow::field("cardinality", arrow::int64()), arrow::field("maxRowIndex", arrow::int64())});
}

// Spark's checkpoint schema (the columns Delta Spark writes, in its order).
std::shared_ptr<arrow::Schema> CheckpointSchema() {
  auto txn =
      arrow::struct_({arrow::field("appId", arrow::utf8()), arrow::field("version", arrow::int64()),
                      arrow::field("lastUpdated", arrow::int64())});
  auto add = arrow::struct_(
      {arrow::field("path", arrow::utf8()), arrow::field("partitionValues", StringMapType()),
       arrow::field("size", arrow::int64()), arrow::field("modificationTime", arrow::int64()),
       arrow::field("dataChange", arrow::boolean()), arrow::field("stats", arrow::utf8()),
       arrow::field("tags", StringMapType()), arrow::field("deletionVector", DvType()),
       arrow::field("baseRowId", arrow::int64()),
       arrow::field("defaultRowCommitVersion", arrow::int64()),
       arrow::field("clusteringProvider", arrow::utf8())});
  auto remove = arrow::struct_(
      {arrow::field("path", arrow::utf8()), arrow::field("deletionTimestamp", arrow::int64()),
       arrow::field("dataChange", arrow::boolean()),
       arrow::field("extendedFileMetadata", arrow::boolean()),
       arrow::field("partitionValues", StringMapType()), arrow::field("size", arrow::int64()),
       arrow::field("tags", StringMapType()), arrow::field("deletionVector", DvType()),
       arrow::field("baseRowId", arrow::int64()),
       arrow::field("defaultRowCommitVersion", arrow::int64())});
  auto metadata = arrow::struct_(
      {arrow::field("id", arrow::utf8()), arrow::field("name", arrow::utf8()),
       arrow::field("description", arrow::utf8()),
       arrow::field("format", arrow::struct_({arrow::field("provider", arrow::utf8()),
                                              arrow::field("options", StringMapType())})),
       arrow::field("schemaString", arrow::utf8()),
       arrow::field("partitionColumns", arrow::list(arrow::utf8())),
       arrow::field("configuration", StringMapType()),
       arrow::field("createdTime", arrow::int64())});
  auto protocol = arrow::struct_({arrow::field("minReaderVersion", arrow::int32()),
                                  arrow::field("minWriterVersion", arrow::int32()),
                                  arrow::field("readerFeatures", arrow::list(arrow::utf8())),
                                  arrow::field("writerFeatures", arrow::list(arrow::utf8()))});
  auto domain = arrow::struct_({arrow::field("domain", arrow::utf8()),
                                arrow::field("configuration", arrow::utf8()),
                                arrow::field("removed", arrow::boolean())});
  return arrow::schema({arrow::field("txn", txn), arrow::field("add", add),
                        arrow::field("remove", remove), arrow::field("metaData", metadata),
                        arrow::field("protocol", protocol),
                        arrow::field("domainMetadata", domain)});
}

// Appends a JSON value (or null when `present` is false) to a builder of the
// matching Arrow type.
Status AppendJson(bool present, simdjson::dom::element e, arrow::ArrayBuilder* b) {
  if (!present || e.is_null()) return b->AppendNull();
  switch (b->type()->id()) {
    case arrow::Type::STRING: {
      std::string_view s;
      if (e.get(s) != simdjson::SUCCESS) {
        return static_cast<arrow::StringBuilder*>(b)->Append(simdjson::minify(e));
      }
      return static_cast<arrow::StringBuilder*>(b)->Append(s);
    }
    case arrow::Type::INT32: {
      int64_t v;
      if (e.get(v) != simdjson::SUCCESS) return b->AppendNull();
      return static_cast<arrow::Int32Builder*>(b)->Append(static_cast<int32_t>(v));
    }
    case arrow::Type::INT64: {
      int64_t v;
      if (e.get(v) != simdjson::SUCCESS) return b->AppendNull();
      return static_cast<arrow::Int64Builder*>(b)->Append(v);
    }
    case arrow::Type::BOOL: {
      bool v;
      if (e.get(v) != simdjson::SUCCESS) return b->AppendNull();
      return static_cast<arrow::BooleanBuilder*>(b)->Append(v);
    }
    case arrow::Type::STRUCT: {
      auto* sb = static_cast<arrow::StructBuilder*>(b);
      simdjson::dom::object o;
      if (e.get(o) != simdjson::SUCCESS) return b->AppendNull();
      LS_RETURN_NOT_OK(sb->Append());
      auto t = sb->type();  // built on demand: keep it alive
      for (int i = 0; i < t->num_fields(); ++i) {
        simdjson::dom::element child;
        bool has = o[t->field(i)->name()].get(child) == simdjson::SUCCESS;
        LS_RETURN_NOT_OK(AppendJson(has, child, sb->field_builder(i)));
      }
      return Status::OK();
    }
    case arrow::Type::MAP: {
      auto* mb = static_cast<arrow::MapBuilder*>(b);
      simdjson::dom::object o;
      if (e.get(o) != simdjson::SUCCESS) return b->AppendNull();
      LS_RETURN_NOT_OK(mb->Append());
      for (auto [k, v] : o) {
        LS_RETURN_NOT_OK(static_cast<arrow::StringBuilder*>(mb->key_builder())->Append(k));
        LS_RETURN_NOT_OK(AppendJson(true, v, mb->item_builder()));
      }
      return Status::OK();
    }
    case arrow::Type::LIST: {
      auto* lb = static_cast<arrow::ListBuilder*>(b);
      simdjson::dom::array a;
      if (e.get(a) != simdjson::SUCCESS) return b->AppendNull();
      LS_RETURN_NOT_OK(lb->Append());
      for (auto v : a) LS_RETURN_NOT_OK(AppendJson(true, v, lb->value_builder()));
      return Status::OK();
    }
    default:
      return InternalError("unexpected checkpoint column type {}", b->type()->ToString());
  }
}

}  // namespace

Result<std::string> WriteCheckpointParquet(const std::vector<Action>& actions) {
  auto schema = CheckpointSchema();
  std::vector<std::unique_ptr<arrow::ArrayBuilder>> builders;
  for (const auto& f : schema->fields()) {
    std::unique_ptr<arrow::ArrayBuilder> b;
    LS_RETURN_NOT_OK(arrow::MakeBuilder(arrow::default_memory_pool(), f->type(), &b));
    builders.push_back(std::move(b));
  }
  simdjson::dom::parser parser;
  int64_t rows = 0;
  for (const auto& a : actions) {
    std::string json = ToJson(a);
    simdjson::dom::element doc;
    if (parser.parse(json).get(doc) != simdjson::SUCCESS) {
      return InternalError("cannot re-parse action for checkpoint: {}", json);
    }
    simdjson::dom::object o;
    if (doc.get(o) != simdjson::SUCCESS) continue;
    bool any = false;
    for (int i = 0; i < schema->num_fields(); ++i) {
      simdjson::dom::element child;
      bool has = o[schema->field(i)->name()].get(child) == simdjson::SUCCESS;
      any |= has;
      LS_RETURN_NOT_OK(AppendJson(has, child, builders[static_cast<size_t>(i)].get()));
    }
    if (!any) return InternalError("action {} has no checkpoint column", json);
    ++rows;
  }
  arrow::ArrayVector arrays;
  for (auto& b : builders) {
    std::shared_ptr<arrow::Array> arr;
    LS_RETURN_NOT_OK(b->Finish(&arr));
    arrays.push_back(arr);
  }
  auto table = arrow::Table::Make(schema, arrays, rows);
  parquet::WriterProperties::Builder props;
  props.compression(parquet::Compression::SNAPPY);
  LS_ASSIGN_OR_RAISE(auto sink, arrow::io::BufferOutputStream::Create());
  try {
    LS_RETURN_NOT_OK(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), sink, 1 << 20,
                                                props.build()));
  } catch (const std::exception& e) {
    return InternalError("cannot encode checkpoint: {}", e.what());
  }
  LS_ASSIGN_OR_RAISE(auto buf, sink->Finish());
  return buf->ToString();
}

}  // namespace lakestream::delta
