// Errors as values, in Arrow's dialect: every fallible boundary returns
// Status or Result<T>. Messages say what, where and what was expected, and
// whether the fault is the user's input (UserError) or ours (InternalError).
#pragma once

#include <arrow/result.h>
#include <arrow/status.h>
#include <fmt/format.h>

#include <string>
#include <utility>

namespace lakestream {

using arrow::Result;
using arrow::Status;

/// The user's input is wrong (bad SQL, a type mismatch, a malformed file).
template <typename... Args>
Status UserError(fmt::format_string<Args...> f, Args&&... args) {
  return Status::Invalid(fmt::format(f, std::forward<Args>(args)...));
}

/// A runtime failure caused by data (overflow, division by zero, bad cast).
template <typename... Args>
Status ExecutionError(fmt::format_string<Args...> f, Args&&... args) {
  return Status::Invalid(fmt::format(f, std::forward<Args>(args)...));
}

/// Something the engine does not support (yet); the message names it.
template <typename... Args>
Status Unsupported(fmt::format_string<Args...> f, Args&&... args) {
  return Status::NotImplemented(fmt::format(f, std::forward<Args>(args)...));
}

/// Our own bug: an invariant broke.
template <typename... Args>
Status InternalError(fmt::format_string<Args...> f, Args&&... args) {
  return Status::UnknownError("internal error: " + fmt::format(f, std::forward<Args>(args)...));
}

/// An I/O failure naming the path.
template <typename... Args>
Status IOErrorAt(fmt::format_string<Args...> f, Args&&... args) {
  return Status::IOError(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace lakestream

#define LS_RETURN_NOT_OK(expr) ARROW_RETURN_NOT_OK(expr)
#define LS_ASSIGN_OR_RAISE(lhs, rexpr) ARROW_ASSIGN_OR_RAISE(lhs, rexpr)
