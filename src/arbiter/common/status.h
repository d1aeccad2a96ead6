// Status and Result<T>: the error vocabulary of every Arbiter module.
//
// A Status is a code plus a message; OK carries nothing. Codes are chosen for
// what the caller should do next (retry the call, retry later, fix the input),
// following the canonical codes used by gRPC and abseil. Result<T> holds either
// a value or a non-OK Status. Both are cheap to move and are not thread-safe
// beyond what std::string is.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace arbiter {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad user input (definitions, flags): fix the input, do not retry
  kNotFound,            // a named thing does not exist
  kAlreadyExists,       // create of something that exists
  kFailedPrecondition,  // system not in a state to do this: fix the state, do not retry
  kUnavailable,         // transient (network, 5xx): retry the call with backoff
  kResourceExhausted,   // quota / rate limit (429): retry later, honour Retry-After
  kDeadlineExceeded,    // timed out
  kCancelled,           // the caller cancelled
  kPermissionDenied,    // credentials rejected
  kUnimplemented,       // not supported (yet)
  kInternal,            // our bug
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

  // Returns a copy with "context: " prepended to the message (no-op when OK).
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgumentError(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status NotFoundError(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status AlreadyExistsError(std::string m) {
  return Status(StatusCode::kAlreadyExists, std::move(m));
}
inline Status FailedPreconditionError(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status UnavailableError(std::string m) {
  return Status(StatusCode::kUnavailable, std::move(m));
}
inline Status InternalError(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }
inline Status UnimplementedError(std::string m) {
  return Status(StatusCode::kUnimplemented, std::move(m));
}

// Either a T or a non-OK Status. Accessing value() of an error is a programming
// error (asserted in debug builds).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(data_).ok() && "Result constructed from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(data_);
  }

  T& value() & {
    assert(ok());
    return std::get<T>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(data_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace arbiter

#define ARBITER_CONCAT_INNER_(a, b) a##b
#define ARBITER_CONCAT_(a, b) ARBITER_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define ARBITER_RETURN_IF_ERROR(expr)            \
  do {                                           \
    ::arbiter::Status arbiter_status_ = (expr);  \
    if (!arbiter_status_.ok()) return arbiter_status_; \
  } while (0)

// `lhs = value of expr`, or returns its Status from the enclosing function.
#define ARBITER_ASSIGN_OR_RETURN(lhs, expr) \
  ARBITER_ASSIGN_OR_RETURN_IMPL_(ARBITER_CONCAT_(arbiter_result_, __LINE__), lhs, expr)
#define ARBITER_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
