// Listing the files behind a path the way Spark's DataSource does: a single
// file, a folder (hidden and underscore-prefixed entries skipped, as Spark
// skips _SUCCESS, _delta_log and .crc files), or a glob in any component.
// Local file system only for now (the storage layer's FileSystem will take
// over once it exists).
#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "formats/file_source.h"

namespace lakestream::formats {
namespace {

namespace fs = std::filesystem;

bool IsHiddenName(const std::string& name) {
  return !name.empty() && (name[0] == '_' || name[0] == '.');
}

bool HasGlobChars(std::string_view s) {
  return s.find_first_of("*?[{") != std::string_view::npos;
}

/// Expands the first `{a,b}` group (recursively), e.g. "x/{a,b}/*.csv" ->
/// "x/a/*.csv", "x/b/*.csv". Nested braces are handled by the recursion.
void ExpandBraces(const std::string& pattern, std::vector<std::string>* out) {
  size_t open = pattern.find('{');
  if (open == std::string::npos) {
    out->push_back(pattern);
    return;
  }
  int depth = 0;
  size_t close = std::string::npos;
  std::vector<size_t> commas;
  for (size_t i = open; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) {
        close = i;
        break;
      }
    } else if (c == ',' && depth == 1) {
      commas.push_back(i);
    }
  }
  if (close == std::string::npos) {  // unbalanced: treat literally
    out->push_back(pattern);
    return;
  }
  std::string prefix = pattern.substr(0, open);
  std::string suffix = pattern.substr(close + 1);
  size_t start = open + 1;
  commas.push_back(close);
  for (size_t c : commas) {
    ExpandBraces(prefix + pattern.substr(start, c - start) + suffix, out);
    start = c + 1;
  }
}

bool MatchGlob(const std::string& pattern, const std::string& name) {
  std::vector<std::string> alternatives;
  ExpandBraces(pattern, &alternatives);
  for (const auto& p : alternatives) {
    if (fnmatch(p.c_str(), name.c_str(), FNM_PERIOD) == 0) return true;
  }
  return false;
}

Status ListFolder(const fs::path& dir, const FileReadOptions& options,
                  std::vector<std::string>* out) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return IOErrorAt("cannot list folder {}: {}", dir.string(), ec.message());
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    if (IsHiddenName(name)) continue;
    if (entry.is_directory(ec)) {
      if (options.recursive_file_lookup) {
        LS_RETURN_NOT_OK(ListFolder(entry.path(), options, out));
      }
      continue;
    }
    if (!options.path_glob_filter.empty() && !MatchGlob(options.path_glob_filter, name)) {
      continue;
    }
    out->push_back(entry.path().string());
  }
  return Status::OK();
}

/// Paths matching a glob: walks component by component from the longest
/// literal prefix.
void ExpandGlob(const std::string& pattern, std::vector<std::string>* out) {
  fs::path p(pattern);
  std::vector<std::string> parts;
  for (const auto& part : p) parts.push_back(part.string());
  std::vector<fs::path> current;
  size_t i = 0;
  fs::path base;
  // Literal prefix.
  for (; i < parts.size() && !HasGlobChars(parts[i]); ++i) base /= parts[i];
  current.push_back(base.empty() ? fs::path(".") : base);
  bool relative_dot = base.empty();
  for (; i < parts.size(); ++i) {
    std::vector<fs::path> next;
    for (const auto& dir : current) {
      if (!HasGlobChars(parts[i])) {
        fs::path child = dir / parts[i];
        std::error_code ec;
        if (fs::exists(child, ec)) next.push_back(child);
        continue;
      }
      std::error_code ec;
      fs::directory_iterator it(dir, ec);
      if (ec) continue;
      for (const auto& entry : it) {
        std::string name = entry.path().filename().string();
        if (MatchGlob(parts[i], name)) next.push_back(entry.path());
      }
    }
    current = std::move(next);
  }
  for (auto& c : current) {
    std::string s = c.string();
    if (relative_dot && s.rfind("./", 0) == 0) s = s.substr(2);
    out->push_back(s);
  }
}

}  // namespace

Result<std::vector<std::string>> ListFiles(const std::string& path,
                                           const FileReadOptions& options) {
  std::vector<std::string> out;
  std::error_code ec;
  if (HasGlobChars(path) && !fs::exists(path, ec)) {
    std::vector<std::string> matches;
    ExpandGlob(path, &matches);
    for (const auto& m : matches) {
      // Spark filters hidden and underscore-prefixed names out of glob
      // results too (_SUCCESS, _delta_log, .crc files).
      if (IsHiddenName(fs::path(m).filename().string())) continue;
      if (fs::is_directory(m, ec)) {
        LS_RETURN_NOT_OK(ListFolder(m, options, &out));
      } else if (options.path_glob_filter.empty() ||
                 MatchGlob(options.path_glob_filter, fs::path(m).filename().string())) {
        out.push_back(m);
      }
    }
    if (out.empty()) return UserError("no files match {}", path);
  } else {
    auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) return UserError("[PATH_NOT_FOUND] Path does not exist: {}", path);
    if (fs::is_directory(status)) {
      LS_RETURN_NOT_OK(ListFolder(path, options, &out));
    } else {
      out.push_back(path);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::vector<std::string>> ListFiles(const std::vector<std::string>& paths,
                                           const FileReadOptions& options) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    LS_ASSIGN_OR_RAISE(auto files, ListFiles(p, options));
    out.insert(out.end(), files.begin(), files.end());
  }
  return out;
}

}  // namespace lakestream::formats
