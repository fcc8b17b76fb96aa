// JSON (de)serialization of Delta log actions.
#include "connectors/delta/actions.h"

#include <arrow/util/utf8.h>
#include <simdjson.h>

#include <algorithm>

#include "types/value_format.h"

namespace lakestream::delta {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// Reads typed fields of one JSON object, remembering the first error with the
// action and field name so the caller reports it with the file and line.
class FieldReader {
 public:
  FieldReader(object obj, std::string_view action) : obj_(obj), action_(action) {}

  bool Has(std::string_view key) {
    element e;
    return obj_[key].get(e) == simdjson::SUCCESS && !e.is_null();
  }

  std::optional<std::string> OptString(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    std::string_view s;
    if (e.get(s) != simdjson::SUCCESS) {
      Fail(key, "a string");
      return std::nullopt;
    }
    return std::string(s);
  }
  std::string String(std::string_view key) {
    auto v = OptString(key);
    if (!v && error_.empty()) Missing(key);
    return v.value_or("");
  }
  std::optional<int64_t> OptInt(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    int64_t v;
    if (e.get(v) == simdjson::SUCCESS) return v;
    // Some writers put numbers in strings (e.g. offsets); accept them.
    std::string_view s;
    if (e.get(s) == simdjson::SUCCESS) {
      try {
        size_t pos = 0;
        long long parsed = std::stoll(std::string(s), &pos);
        if (pos == s.size()) return parsed;
      } catch (...) {
      }
    }
    Fail(key, "an integer");
    return std::nullopt;
  }
  int64_t Int(std::string_view key) {
    auto v = OptInt(key);
    if (!v && error_.empty()) Missing(key);
    return v.value_or(0);
  }
  std::optional<bool> OptBool(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    bool v;
    if (e.get(v) != simdjson::SUCCESS) {
      Fail(key, "a boolean");
      return std::nullopt;
    }
    return v;
  }
  std::optional<StringMap> OptStringMap(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    object o;
    if (e.get(o) != simdjson::SUCCESS) {
      Fail(key, "an object");
      return std::nullopt;
    }
    StringMap m;
    for (auto [k, v] : o) {
      std::string_view s;
      if (v.is_null()) continue;
      if (v.get(s) == simdjson::SUCCESS) {
        m.emplace(std::string(k), std::string(s));
      } else {
        m.emplace(std::string(k), simdjson::minify(v));
      }
    }
    return m;
  }
  std::optional<PartitionValues> OptPartitionValues(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    object o;
    if (e.get(o) != simdjson::SUCCESS) {
      Fail(key, "an object");
      return std::nullopt;
    }
    PartitionValues m;
    for (auto [k, v] : o) {
      std::string_view s;
      if (v.is_null()) {
        m.emplace(std::string(k), std::nullopt);
      } else if (v.get(s) == simdjson::SUCCESS) {
        m.emplace(std::string(k), std::string(s));
      } else {
        m.emplace(std::string(k), simdjson::minify(v));
      }
    }
    return m;
  }
  std::optional<std::vector<std::string>> OptStringList(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    simdjson::dom::array a;
    if (e.get(a) != simdjson::SUCCESS) {
      Fail(key, "an array");
      return std::nullopt;
    }
    std::vector<std::string> out;
    for (auto v : a) {
      std::string_view s;
      if (v.get(s) != simdjson::SUCCESS) {
        Fail(key, "an array of strings");
        return std::nullopt;
      }
      out.emplace_back(s);
    }
    return out;
  }
  std::optional<object> OptObject(std::string_view key) {
    element e;
    if (obj_[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    object o;
    if (e.get(o) != simdjson::SUCCESS) {
      Fail(key, "an object");
      return std::nullopt;
    }
    return o;
  }

  void Missing(std::string_view key) {
    if (error_.empty()) error_ = fmt::format("action '{}' lacks required field '{}'", action_, key);
  }
  void Fail(std::string_view key, std::string_view expected) {
    if (error_.empty()) {
      error_ = fmt::format("field '{}.{}' is not {}", action_, key, expected);
    }
  }
  void Adopt(const std::string& err) {
    if (error_.empty()) error_ = err;
  }
  const std::string& error() const { return error_; }

 private:
  object obj_;
  std::string_view action_;
  std::string error_;
};

std::optional<DeletionVectorDescriptor> ReadDv(FieldReader& r) {
  auto o = r.OptObject("deletionVector");
  if (!o) return std::nullopt;
  FieldReader d(*o, "deletionVector");
  DeletionVectorDescriptor dv;
  dv.storage_type = d.String("storageType");
  dv.path_or_inline_dv = d.String("pathOrInlineDv");
  if (auto off = d.OptInt("offset")) dv.offset = static_cast<int32_t>(*off);
  dv.size_in_bytes = static_cast<int32_t>(d.Int("sizeInBytes"));
  dv.cardinality = d.Int("cardinality");
  dv.max_row_index = d.OptInt("maxRowIndex");
  r.Adopt(d.error());
  return dv;
}

Result<std::optional<Action>> ParseAction(std::string_view type, object obj) {
  FieldReader r(obj, type);
  std::optional<Action> out;
  if (type == "add") {
    AddFile a;
    a.path = r.String("path");
    a.partition_values = r.OptPartitionValues("partitionValues").value_or(PartitionValues{});
    a.size = r.Int("size");
    a.modification_time = r.OptInt("modificationTime").value_or(0);
    a.data_change = r.OptBool("dataChange").value_or(true);
    a.stats = r.OptString("stats");
    a.tags = r.OptStringMap("tags");
    a.deletion_vector = ReadDv(r);
    a.base_row_id = r.OptInt("baseRowId");
    a.default_row_commit_version = r.OptInt("defaultRowCommitVersion");
    a.clustering_provider = r.OptString("clusteringProvider");
    out = std::move(a);
  } else if (type == "remove") {
    RemoveFile a;
    a.path = r.String("path");
    a.deletion_timestamp = r.OptInt("deletionTimestamp");
    a.data_change = r.OptBool("dataChange").value_or(true);
    a.extended_file_metadata = r.OptBool("extendedFileMetadata");
    a.partition_values = r.OptPartitionValues("partitionValues");
    a.size = r.OptInt("size");
    a.stats = r.OptString("stats");
    a.tags = r.OptStringMap("tags");
    a.deletion_vector = ReadDv(r);
    a.base_row_id = r.OptInt("baseRowId");
    a.default_row_commit_version = r.OptInt("defaultRowCommitVersion");
    out = std::move(a);
  } else if (type == "metaData") {
    Metadata m;
    m.id = r.OptString("id").value_or("");
    m.name = r.OptString("name");
    m.description = r.OptString("description");
    if (auto f = r.OptObject("format")) {
      FieldReader fr(*f, "format");
      m.format.provider = fr.OptString("provider").value_or("parquet");
      m.format.options = fr.OptStringMap("options").value_or(StringMap{});
      r.Adopt(fr.error());
    }
    m.schema_string = r.OptString("schemaString").value_or("");
    m.partition_columns = r.OptStringList("partitionColumns").value_or(std::vector<std::string>{});
    m.configuration = r.OptStringMap("configuration").value_or(StringMap{});
    m.created_time = r.OptInt("createdTime");
    out = std::move(m);
  } else if (type == "protocol") {
    Protocol p;
    p.min_reader_version = static_cast<int32_t>(r.Int("minReaderVersion"));
    p.min_writer_version = static_cast<int32_t>(r.OptInt("minWriterVersion").value_or(2));
    p.reader_features = r.OptStringList("readerFeatures");
    p.writer_features = r.OptStringList("writerFeatures");
    out = std::move(p);
  } else if (type == "txn") {
    Txn t;
    t.app_id = r.String("appId");
    t.version = r.Int("version");
    t.last_updated = r.OptInt("lastUpdated");
    out = std::move(t);
  } else if (type == "commitInfo") {
    CommitInfo c;
    c.raw_json = simdjson::minify(obj);
    c.timestamp = r.OptInt("timestamp");
    c.in_commit_timestamp = r.OptInt("inCommitTimestamp");
    c.operation = r.OptString("operation");
    // commitInfo is free-form: a malformed optional field is not an error.
    return std::optional<Action>(std::move(c));
  } else if (type == "domainMetadata") {
    DomainMetadata d;
    d.domain = r.String("domain");
    d.configuration = r.OptString("configuration").value_or("");
    d.removed = r.OptBool("removed").value_or(false);
    out = std::move(d);
  } else if (type == "cdc") {
    AddCdcFile c;
    c.path = r.String("path");
    c.partition_values = r.OptPartitionValues("partitionValues").value_or(PartitionValues{});
    c.size = r.OptInt("size").value_or(0);
    c.data_change = r.OptBool("dataChange").value_or(false);
    c.tags = r.OptStringMap("tags");
    out = std::move(c);
  } else if (type == "checkpointMetadata") {
    CheckpointMetadata c;
    c.version = r.Int("version");
    c.tags = r.OptStringMap("tags");
    out = std::move(c);
  } else if (type == "sidecar") {
    Sidecar s;
    s.path = r.String("path");
    s.size_in_bytes = r.OptInt("sizeInBytes").value_or(0);
    s.modification_time = r.OptInt("modificationTime").value_or(0);
    s.tags = r.OptStringMap("tags");
    out = std::move(s);
  } else {
    return std::optional<Action>();  // unknown action type: ignored (forward compatibility)
  }
  if (!r.error().empty()) return UserError("{}", r.error());
  return out;
}

// --- output -------------------------------------------------------------

class JsonObjectWriter {
 public:
  explicit JsonObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  void Key(std::string_view k) {
    if (!first_) out_->push_back(',');
    first_ = false;
    AppendJsonString(out_, k);
    out_->push_back(':');
  }
  void Str(std::string_view k, std::string_view v) {
    Key(k);
    AppendJsonString(out_, v);
  }
  void OptStr(std::string_view k, const std::optional<std::string>& v) {
    if (v) Str(k, *v);
  }
  void Int(std::string_view k, int64_t v) {
    Key(k);
    out_->append(std::to_string(v));
  }
  void OptInt(std::string_view k, const std::optional<int64_t>& v) {
    if (v) Int(k, *v);
  }
  void Bool(std::string_view k, bool v) {
    Key(k);
    out_->append(v ? "true" : "false");
  }
  void Map(std::string_view k, const StringMap& m) {
    Key(k);
    out_->push_back('{');
    bool first = true;
    for (const auto& [mk, mv] : m) {
      if (!first) out_->push_back(',');
      first = false;
      AppendJsonString(out_, mk);
      out_->push_back(':');
      AppendJsonString(out_, mv);
    }
    out_->push_back('}');
  }
  void OptMap(std::string_view k, const std::optional<StringMap>& m) {
    if (m) Map(k, *m);
  }
  void Partitions(std::string_view k, const PartitionValues& m) {
    Key(k);
    out_->push_back('{');
    bool first = true;
    for (const auto& [mk, mv] : m) {
      if (!first) out_->push_back(',');
      first = false;
      AppendJsonString(out_, mk);
      out_->push_back(':');
      if (mv) {
        AppendJsonString(out_, *mv);
      } else {
        out_->append("null");
      }
    }
    out_->push_back('}');
  }
  void List(std::string_view k, const std::vector<std::string>& v) {
    Key(k);
    out_->push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out_->push_back(',');
      AppendJsonString(out_, v[i]);
    }
    out_->push_back(']');
  }
  void Raw(std::string_view k, std::string_view raw) {
    Key(k);
    out_->append(raw);
  }
  void Close() { out_->push_back('}'); }

 private:
  std::string* out_;
  bool first_ = true;
};

void WriteDv(JsonObjectWriter& w, std::string* out, const DeletionVectorDescriptor& dv) {
  w.Key("deletionVector");
  JsonObjectWriter d(out);
  d.Str("storageType", dv.storage_type);
  d.Str("pathOrInlineDv", dv.path_or_inline_dv);
  if (dv.offset) d.Int("offset", *dv.offset);
  d.Int("sizeInBytes", dv.size_in_bytes);
  d.Int("cardinality", dv.cardinality);
  d.OptInt("maxRowIndex", dv.max_row_index);
  d.Close();
}

struct ActionWriter {
  std::string* out;

  void operator()(const Protocol& p) {
    out->append("{\"protocol\":");
    JsonObjectWriter w(out);
    w.Int("minReaderVersion", p.min_reader_version);
    w.Int("minWriterVersion", p.min_writer_version);
    if (p.reader_features) w.List("readerFeatures", *p.reader_features);
    if (p.writer_features) w.List("writerFeatures", *p.writer_features);
    w.Close();
  }
  void operator()(const Metadata& m) {
    out->append("{\"metaData\":");
    JsonObjectWriter w(out);
    w.Str("id", m.id);
    w.OptStr("name", m.name);
    w.OptStr("description", m.description);
    w.Key("format");
    {
      JsonObjectWriter f(out);
      f.Str("provider", m.format.provider);
      f.Map("options", m.format.options);
      f.Close();
    }
    w.Str("schemaString", m.schema_string);
    w.List("partitionColumns", m.partition_columns);
    w.Map("configuration", m.configuration);
    w.OptInt("createdTime", m.created_time);
    w.Close();
  }
  void operator()(const AddFile& a) {
    out->append("{\"add\":");
    JsonObjectWriter w(out);
    w.Str("path", a.path);
    w.Partitions("partitionValues", a.partition_values);
    w.Int("size", a.size);
    w.Int("modificationTime", a.modification_time);
    w.Bool("dataChange", a.data_change);
    w.OptStr("stats", a.stats);
    w.OptMap("tags", a.tags);
    if (a.deletion_vector) WriteDv(w, out, *a.deletion_vector);
    w.OptInt("baseRowId", a.base_row_id);
    w.OptInt("defaultRowCommitVersion", a.default_row_commit_version);
    w.OptStr("clusteringProvider", a.clustering_provider);
    w.Close();
  }
  void operator()(const RemoveFile& a) {
    out->append("{\"remove\":");
    JsonObjectWriter w(out);
    w.Str("path", a.path);
    w.OptInt("deletionTimestamp", a.deletion_timestamp);
    w.Bool("dataChange", a.data_change);
    if (a.extended_file_metadata) w.Bool("extendedFileMetadata", *a.extended_file_metadata);
    if (a.partition_values) w.Partitions("partitionValues", *a.partition_values);
    w.OptInt("size", a.size);
    w.OptStr("stats", a.stats);
    w.OptMap("tags", a.tags);
    if (a.deletion_vector) WriteDv(w, out, *a.deletion_vector);
    w.OptInt("baseRowId", a.base_row_id);
    w.OptInt("defaultRowCommitVersion", a.default_row_commit_version);
    w.Close();
  }
  void operator()(const AddCdcFile& a) {
    out->append("{\"cdc\":");
    JsonObjectWriter w(out);
    w.Str("path", a.path);
    w.Partitions("partitionValues", a.partition_values);
    w.Int("size", a.size);
    w.Bool("dataChange", a.data_change);
    w.OptMap("tags", a.tags);
    w.Close();
  }
  void operator()(const Txn& t) {
    out->append("{\"txn\":");
    JsonObjectWriter w(out);
    w.Str("appId", t.app_id);
    w.Int("version", t.version);
    w.OptInt("lastUpdated", t.last_updated);
    w.Close();
  }
  void operator()(const CommitInfo& c) {
    out->append("{\"commitInfo\":");
    out->append(c.raw_json.empty() ? "{}" : c.raw_json);
  }
  void operator()(const DomainMetadata& d) {
    out->append("{\"domainMetadata\":");
    JsonObjectWriter w(out);
    w.Str("domain", d.domain);
    w.Str("configuration", d.configuration);
    w.Bool("removed", d.removed);
    w.Close();
  }
  void operator()(const CheckpointMetadata& c) {
    out->append("{\"checkpointMetadata\":");
    JsonObjectWriter w(out);
    w.Int("version", c.version);
    w.OptMap("tags", c.tags);
    w.Close();
  }
  void operator()(const Sidecar& s) {
    out->append("{\"sidecar\":");
    JsonObjectWriter w(out);
    w.Str("path", s.path);
    w.Int("sizeInBytes", s.size_in_bytes);
    w.Int("modificationTime", s.modification_time);
    w.OptMap("tags", s.tags);
    w.Close();
  }
};

}  // namespace

bool Protocol::HasReaderFeature(std::string_view f) const {
  return reader_features &&
         std::find(reader_features->begin(), reader_features->end(), f) != reader_features->end();
}
bool Protocol::HasWriterFeature(std::string_view f) const {
  return writer_features &&
         std::find(writer_features->begin(), writer_features->end(), f) != writer_features->end();
}

std::string DeletionVectorDescriptor::UniqueId() const {
  std::string id = storage_type + path_or_inline_dv;
  if (offset) id += "@" + std::to_string(*offset);
  return id;
}

Result<std::optional<Action>> ParseActionLine(std::string_view line, std::string_view where) {
  size_t b = line.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return std::optional<Action>();
  thread_local simdjson::dom::parser parser;
  element doc;
  auto err = parser.parse(line.data(), line.size(), /*realloc_if_needed=*/true).get(doc);
  if (err) {
    return UserError("malformed Delta log entry at {}: {} (expected one JSON object per line)",
                     where, simdjson::error_message(err));
  }
  object obj;
  if (doc.get(obj) != simdjson::SUCCESS) {
    return UserError("malformed Delta log entry at {}: expected a JSON object", where);
  }
  std::optional<Action> result;
  for (auto [key, value] : obj) {
    if (value.is_null()) continue;
    object inner;
    if (value.get(inner) != simdjson::SUCCESS) {
      return UserError("malformed Delta log entry at {}: action '{}' is not a JSON object", where,
                       key);
    }
    auto parsed = ParseAction(key, inner);
    if (!parsed.ok()) {
      return UserError("malformed Delta log entry at {}: {}", where, parsed.status().message());
    }
    if (parsed->has_value()) {
      if (result.has_value()) {
        return UserError("malformed Delta log entry at {}: more than one action on a line", where);
      }
      result = std::move(**parsed);
    }
  }
  return result;
}

Result<std::vector<Action>> ParseCommitFile(std::string_view content, std::string_view file) {
  std::vector<Action> out;
  size_t pos = 0;
  int line_no = 0;
  while (pos < content.size()) {
    size_t nl = content.find('\n', pos);
    if (nl == std::string_view::npos) nl = content.size();
    ++line_no;
    std::string_view line = content.substr(pos, nl - pos);
    pos = nl + 1;
    LS_ASSIGN_OR_RAISE(auto action,
                       ParseActionLine(line, fmt::format("{} line {}", file, line_no)));
    if (action) out.push_back(std::move(*action));
  }
  return out;
}

std::string ToJson(const Action& action) {
  std::string out;
  std::visit(ActionWriter{&out}, action);
  out.push_back('}');
  return out;
}

std::string ToCommitFile(const std::vector<Action>& actions) {
  std::string out;
  for (const auto& a : actions) {
    std::visit(ActionWriter{&out}, a);
    out.append("}\n");
  }
  return out;
}

void AppendJsonString(std::string* out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  // JSON text must be UTF-8 (a Delta log other readers choke on is worse than
  // a replaced byte): invalid sequences become U+FFFD, as Spark decodes them.
  std::string repaired;
  if (!arrow::util::ValidateUTF8(s)) {
    repaired = types::DecodeUtf8Lossy(s);
    s = repaired;
  }
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

std::string CommitFileName(int64_t version) { return fmt::format("{:020d}.json", version); }
std::string CheckpointFileName(int64_t version) {
  return fmt::format("{:020d}.checkpoint.parquet", version);
}

}  // namespace lakestream::delta
