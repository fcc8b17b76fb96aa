#include "connectors/streaming.h"

#include <algorithm>
#include <charconv>

namespace lakestream::connectors {

namespace {
std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}
}  // namespace

std::optional<std::string> GetOption(const Options& options, std::string_view name) {
  auto want = Lower(name);
  for (const auto& [k, v] : options) {
    if (Lower(k) == want) return v;
  }
  return std::nullopt;
}

Result<int64_t> GetIntOption(const Options& options, std::string_view name, int64_t fallback) {
  auto v = GetOption(options, name);
  if (!v) return fallback;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size()) {
    return UserError("option '{}' must be an integer, got '{}'", name, *v);
  }
  return out;
}

Result<bool> GetBoolOption(const Options& options, std::string_view name, bool fallback) {
  auto v = GetOption(options, name);
  if (!v) return fallback;
  auto t = Lower(*v);
  if (t == "true") return true;
  if (t == "false") return false;
  return UserError("option '{}' must be true or false, got '{}'", name, *v);
}

Result<OutputMode> ParseOutputMode(std::string_view text) {
  auto t = Lower(text);
  if (t == "append") return OutputMode::kAppend;
  if (t == "update") return OutputMode::kUpdate;
  if (t == "complete") return OutputMode::kComplete;
  return UserError("unknown output mode '{}': expected append, update or complete", text);
}

const char* OutputModeName(OutputMode mode) {
  switch (mode) {
    case OutputMode::kAppend:
      return "Append";
    case OutputMode::kUpdate:
      return "Update";
    case OutputMode::kComplete:
      return "Complete";
  }
  return "?";
}

std::map<std::string, SourceFactory>& SourceRegistry() {
  static std::map<std::string, SourceFactory> m;
  return m;
}

std::map<std::string, SinkFactory>& SinkRegistry() {
  static std::map<std::string, SinkFactory> m;
  return m;
}

Result<std::unique_ptr<Source>> MakeSource(const std::string& format, const Options& options,
                                           const SourceContext& context) {
  auto it = SourceRegistry().find(Lower(format));
  if (it == SourceRegistry().end()) return UserError("unknown streaming source '{}'", format);
  return it->second(options, context);
}

Result<std::unique_ptr<Sink>> MakeSink(const std::string& format, const Options& options,
                                       const SinkContext& context) {
  auto it = SinkRegistry().find(Lower(format));
  if (it == SinkRegistry().end()) return UserError("unknown streaming sink '{}'", format);
  return it->second(options, context);
}

}  // namespace lakestream::connectors
