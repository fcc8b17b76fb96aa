// The storage layer: one small interface over the places tables live.
// Delta's log protocol needs exactly these primitives (PROTOCOL.md, "Delta Log
// Entries"): listing with a prefix, whole and ranged reads, atomic whole-file
// writes for anything others may observe, and put-if-absent (mutual exclusion
// on the name of the next commit). LocalFileSystem implements them with POSIX
// calls; an object store implementation (Arrow's S3/GCS/Azure filesystems plus
// conditional PUT) slots in behind the same interface without changing callers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lakestream::storage {

/// One entry of a listing.
struct FileInfo {
  std::string path;             ///< full path (directory + name)
  std::string name;             ///< last path component
  int64_t size = 0;             ///< bytes
  int64_t modification_time_ms = 0;  ///< milliseconds since the epoch
  bool is_dir = false;
};

/// The status PutIfAbsent returns when the name is taken. Test with
/// IsAlreadyExists(); the message names the path.
Status AlreadyExistsError(std::string_view path);
/// True if `st` came from AlreadyExistsError().
bool IsAlreadyExists(const Status& st);
/// True if `st` is a "no such file" error from Read*/Stat.
bool IsNotFound(const Status& st);

/// A filesystem. Implementations are thread-safe: every method may be called
/// concurrently from several threads (and processes).
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  /// Entries directly inside `dir` whose name starts with `name_prefix`,
  /// sorted by name. A missing directory is a NotFound error.
  virtual Result<std::vector<FileInfo>> List(std::string_view dir,
                                             std::string_view name_prefix = "") = 0;
  /// Size and modification time of one file (NotFound if missing).
  virtual Result<FileInfo> Stat(std::string_view path) = 0;
  /// Reads `length` bytes at `offset`; fewer only at end of file.
  virtual Result<std::string> ReadRange(std::string_view path, int64_t offset,
                                        int64_t length) = 0;
  /// Reads the whole file.
  virtual Result<std::string> ReadAll(std::string_view path) = 0;
  /// Replaces `path` atomically: readers see the old or the new content, never
  /// a mix; after return the content is durable.
  virtual Status WriteAtomic(std::string_view path, std::string_view bytes) = 0;
  /// Creates `path` with `bytes` only if no file of that name exists, atomically
  /// and durably. Returns AlreadyExistsError(path) if it does (losing a race
  /// included); never overwrites.
  virtual Status PutIfAbsent(std::string_view path, std::string_view bytes) = 0;
  /// Creates `path` (an error if it exists) with `bytes`, durably, but not
  /// atomically: a reader may see the name before the content is complete.
  /// Only for files nobody reads until something written after them names
  /// them, as Delta data files are named by a commit. Cheaper than
  /// WriteAtomic: no rename, so one journal commit instead of two.
  virtual Status WriteNew(std::string_view path, std::string_view bytes) = 0;
  /// Deletes a file; deleting a missing file is OK.
  virtual Status Delete(std::string_view path) = 0;
  virtual Result<bool> Exists(std::string_view path) = 0;
  /// Creates a directory and its parents (object stores: no-op).
  virtual Status MakeDirs(std::string_view path) = 0;
};

/// POSIX implementation. WriteAtomic = temp file + fsync + rename + fsync(dir);
/// PutIfAbsent = fsynced temp file + link(2) (fails with EEXIST, atomically)
/// + fsync(dir); WriteNew = O_EXCL file + fsync + fsync(dir), where the
/// directory's fsync finds its change already in the journal commit of the
/// file's (ext4, xfs) and returns at once.
class LocalFileSystem final : public FileSystem {
 public:
  Result<std::vector<FileInfo>> List(std::string_view dir,
                                     std::string_view name_prefix = "") override;
  Result<FileInfo> Stat(std::string_view path) override;
  Result<std::string> ReadRange(std::string_view path, int64_t offset,
                                int64_t length) override;
  Result<std::string> ReadAll(std::string_view path) override;
  Status WriteAtomic(std::string_view path, std::string_view bytes) override;
  Status PutIfAbsent(std::string_view path, std::string_view bytes) override;
  Status WriteNew(std::string_view path, std::string_view bytes) override;
  Status Delete(std::string_view path) override;
  Result<bool> Exists(std::string_view path) override;
  Status MakeDirs(std::string_view path) override;
};

/// The process-wide local filesystem.
std::shared_ptr<FileSystem> LocalFs();

/// Joins two path components with exactly one '/'.
std::string JoinPath(std::string_view a, std::string_view b);

}  // namespace lakestream::storage
