// libFuzzer target for the Delta transaction log parser: arbitrary bytes as
// the content of a commit file (NNNNNNNNNNNNNNNNNNNN.json) and as a Delta
// schema string must never crash, hang or trip a sanitizer. Every action that
// parses must serialize (ToJson) to a line that parses again, and every
// metadata schemaString is fed to the schema parser too.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "connectors/delta/actions.h"
#include "connectors/delta/log.h"
#include "types/types.h"

namespace {

void CheckRoundTrip(const lakestream::delta::Action& action) {
  std::string line = lakestream::delta::ToJson(action);
  auto again = lakestream::delta::ParseActionLine(line, "fuzz-roundtrip");
  if (!again.ok() || !again->has_value()) {
    fprintf(stderr, "serialized action does not parse again:\n  line:  %s\n  error: %s\n",
            line.c_str(), again.ok() ? "unknown action" : again.status().ToString().c_str());
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lakestream;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)types::SchemaFromDeltaJson(text);
  auto actions = delta::ParseCommitFile(text, "00000000000000000000.json");
  if (!actions.ok()) return 0;
  for (const auto& action : *actions) {
    if (const auto* md = std::get_if<delta::Metadata>(&action)) {
      (void)types::SchemaFromDeltaJson(md->schema_string);
    } else if (const auto* add = std::get_if<delta::AddFile>(&action)) {
      (void)delta::UrlDecodePath(add->path);
      (void)delta::ResolveDataPath("/table", add->path);
    } else if (const auto* p = std::get_if<delta::Protocol>(&action)) {
      (void)delta::CheckReadProtocol(*p, "/table");
    }
    CheckRoundTrip(action);
  }
  return 0;
}
