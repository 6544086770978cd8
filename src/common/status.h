// Status and Result<T>: how every fallible operation in Sluice reports failure.
//
// Our code throws no exceptions. A function that can fail returns Status (or Result<T> when it also
// produces a value); exceptions from libraries are caught where they enter and turned into a Status.
// An OK status holds no allocation, so returning one is as cheap as returning a pointer.
// The mapping from StatusCode to an HTTP status lives in exactly one place: http/status_map.h.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace sluice {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // the caller's input is malformed or inconsistent (400)
  kUnauthenticated,    // missing or wrong credentials (401)
  kNotFound,           // no such endpoint or object (404)
  kMethodNotAllowed,   // the endpoint exists but not for this method (405)
  kPayloadTooLarge,    // a body or header exceeds a configured limit (413)
  kResourceExhausted,  // a query budget (series, points, depth) was exceeded (422)
  kDeadlineExceeded,   // a query ran past its deadline (504)
  kUnavailable,        // a backend (database, file) cannot be reached right now (503)
  kInternal,           // a bug: an invariant did not hold (500)
};

// Returns a short stable name such as "invalid_argument"; used as the "error" field of JSON errors.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status OK() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The human-readable message; empty for OK.
  const std::string& message() const;
  // "invalid_argument: <message>", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>". OK stays OK.
  Status Annotate(std::string_view prefix) const;

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

// Helpers: InvalidArgument("bad {} at column {}", x, col).
template <typename... Args>
Status MakeStatus(StatusCode code, fmt::format_string<Args...> f, Args&&... args) {
  return Status(code, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status InvalidArgument(fmt::format_string<Args...> f, Args&&... args) {
  return MakeStatus(StatusCode::kInvalidArgument, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status NotFound(fmt::format_string<Args...> f, Args&&... args) {
  return MakeStatus(StatusCode::kNotFound, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status Internal(fmt::format_string<Args...> f, Args&&... args) {
  return MakeStatus(StatusCode::kInternal, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status Unavailable(fmt::format_string<Args...> f, Args&&... args) {
  return MakeStatus(StatusCode::kUnavailable, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status ResourceExhausted(fmt::format_string<Args...> f, Args&&... args) {
  return MakeStatus(StatusCode::kResourceExhausted, f, std::forward<Args>(args)...);
}

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "Result built from an OK status");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace sluice

#define SLUICE_STATUS_CONCAT_INNER(a, b) a##b
#define SLUICE_STATUS_CONCAT(a, b) SLUICE_STATUS_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define SLUICE_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::sluice::Status sluice_status_ = (expr);        \
    if (!sluice_status_.ok()) return sluice_status_; \
  } while (0)

// `lhs = value of expr` (a Result<T>), or returns its Status from the enclosing function.
#define SLUICE_ASSIGN_OR_RETURN(lhs, expr) \
  SLUICE_ASSIGN_OR_RETURN_IMPL(SLUICE_STATUS_CONCAT(sluice_result_, __LINE__), lhs, expr)
#define SLUICE_ASSIGN_OR_RETURN_IMPL(result, lhs, expr) \
  auto result = (expr);                                 \
  if (!result.ok()) return result.status();             \
  lhs = std::move(result).value()
