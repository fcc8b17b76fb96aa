// LocalFileSystem: POSIX implementation of the storage primitives.
#include "storage/filesystem.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <thread>

namespace lakestream::storage {
namespace {

// Marks "no such file" so callers can tell it from other I/O failures.
class NotFoundDetail : public arrow::StatusDetail {
 public:
  const char* type_id() const override { return "lakestream::storage::NotFound"; }
  std::string ToString() const override { return "not found"; }
};

Status ErrnoError(int err, std::string_view what, std::string_view path) {
  std::string msg = fmt::format("{} '{}': {}", what, path, std::strerror(err));
  if (err == ENOENT) {
    return Status(arrow::StatusCode::IOError, std::move(msg), std::make_shared<NotFoundDetail>());
  }
  return Status::IOError(std::move(msg));
}

std::string Parent(std::string_view path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string_view::npos) return ".";
  if (pos == 0) return "/";
  return std::string(path.substr(0, pos));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

Status FsyncDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError(errno, "cannot open directory", dir);
  if (::fsync(fd.get()) != 0) return ErrnoError(errno, "cannot fsync directory", dir);
  return Status::OK();
}

std::string TempName(std::string_view path) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   std::hash<std::thread::id>()(std::this_thread::get_id()));
  std::string parent = Parent(path);
  std::string_view base = path.substr(path.find_last_of('/') + 1);
  return fmt::format("{}/.{}.{}.{:x}{:x}.tmp", parent, base, ::getpid(), counter.fetch_add(1),
                     rng());
}

// Writes `bytes` to a new file `tmp` (an error if it exists) and fsyncs it;
// a failed write removes it.
Status WriteTemp(const std::string& tmp, std::string_view bytes) {
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return ErrnoError(errno, "cannot create", tmp);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = ErrnoError(errno, "cannot write", tmp);
      ::unlink(tmp.c_str());
      return st;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    Status st = ErrnoError(errno, "cannot fsync", tmp);
    ::unlink(tmp.c_str());
    return st;
  }
  return Status::OK();
}

}  // namespace

Status AlreadyExistsError(std::string_view path) {
  return Status::AlreadyExists(fmt::format("file already exists: '{}'", path));
}

bool IsAlreadyExists(const Status& st) { return st.IsAlreadyExists(); }

bool IsNotFound(const Status& st) {
  return st.detail() != nullptr &&
         std::strcmp(st.detail()->type_id(), "lakestream::storage::NotFound") == 0;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  std::string out(a);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  size_t i = 0;
  while (i < b.size() && b[i] == '/') ++i;
  out += '/';
  out.append(b.substr(i));
  return out;
}

Result<std::vector<FileInfo>> LocalFileSystem::List(std::string_view dir,
                                                    std::string_view name_prefix) {
  std::string d(dir);
  DIR* dp = ::opendir(d.c_str());
  if (dp == nullptr) return ErrnoError(errno, "cannot list directory", d);
  std::vector<FileInfo> out;
  while (struct dirent* e = ::readdir(dp)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    if (name.substr(0, name_prefix.size()) != name_prefix) continue;
    FileInfo fi;
    fi.name = std::string(name);
    fi.path = JoinPath(d, name);
    struct stat st;
    if (::stat(fi.path.c_str(), &st) != 0) continue;  // deleted concurrently
    fi.size = st.st_size;
    fi.modification_time_ms =
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
    fi.is_dir = S_ISDIR(st.st_mode);
    out.push_back(std::move(fi));
  }
  ::closedir(dp);
  std::sort(out.begin(), out.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
  return out;
}

Result<FileInfo> LocalFileSystem::Stat(std::string_view path) {
  std::string p(path);
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return ErrnoError(errno, "cannot stat", p);
  FileInfo fi;
  fi.path = p;
  fi.name = p.substr(p.find_last_of('/') + 1);
  fi.size = st.st_size;
  fi.modification_time_ms =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  fi.is_dir = S_ISDIR(st.st_mode);
  return fi;
}

Result<std::string> LocalFileSystem::ReadRange(std::string_view path, int64_t offset,
                                               int64_t length) {
  std::string p(path);
  if (offset < 0 || length < 0) {
    return UserError("invalid range offset={} length={} for '{}'", offset, length, p);
  }
  Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError(errno, "cannot open", p);
  std::string out;
  out.resize(static_cast<size_t>(length));
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd.get(), out.data() + done, out.size() - done,
                        static_cast<off_t>(offset + static_cast<int64_t>(done)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "cannot read", p);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

Result<std::string> LocalFileSystem::ReadAll(std::string_view path) {
  std::string p(path);
  Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError(errno, "cannot open", p);
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "cannot read", p);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status LocalFileSystem::WriteAtomic(std::string_view path, std::string_view bytes) {
  std::string p(path);
  std::string tmp = TempName(p);
  LS_RETURN_NOT_OK(WriteTemp(tmp, bytes));
  if (::rename(tmp.c_str(), p.c_str()) != 0) {
    Status st = ErrnoError(errno, "cannot rename temp file onto", p);
    ::unlink(tmp.c_str());
    return st;
  }
  return FsyncDir(Parent(p));
}

Status LocalFileSystem::PutIfAbsent(std::string_view path, std::string_view bytes) {
  std::string p(path);
  std::string tmp = TempName(p);
  LS_RETURN_NOT_OK(WriteTemp(tmp, bytes));
  // link(2) fails with EEXIST atomically if the name is taken, and the content
  // is complete and durable before the name appears.
  int rc = ::link(tmp.c_str(), p.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    if (err == EEXIST) return AlreadyExistsError(p);
    return ErrnoError(err, "cannot create", p);
  }
  return FsyncDir(Parent(p));
}

Status LocalFileSystem::WriteNew(std::string_view path, std::string_view bytes) {
  std::string p(path);
  LS_RETURN_NOT_OK(WriteTemp(p, bytes));
  return FsyncDir(Parent(p));
}

Status LocalFileSystem::Delete(std::string_view path) {
  std::string p(path);
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) return ErrnoError(errno, "cannot delete", p);
  return Status::OK();
}

Result<bool> LocalFileSystem::Exists(std::string_view path) {
  std::string p(path);
  struct stat st;
  if (::stat(p.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return ErrnoError(errno, "cannot stat", p);
}

Status LocalFileSystem::MakeDirs(std::string_view path) {
  std::string p(path);
  if (p.empty()) return Status::OK();
  for (size_t i = 1; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '/') {
      std::string sub = p.substr(0, i);
      if (::mkdir(sub.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoError(errno, "cannot create directory", sub);
      }
    }
  }
  struct stat st;
  if (::stat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return IOErrorAt("cannot create directory '{}': a file of that name exists", p);
  }
  return Status::OK();
}

std::shared_ptr<FileSystem> LocalFs() {
  static std::shared_ptr<FileSystem> fs = std::make_shared<LocalFileSystem>();
  return fs;
}

}  // namespace lakestream::storage
