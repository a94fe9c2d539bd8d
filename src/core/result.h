#pragma once

#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace weft {

// Machine codes of expected failures. One function in the api layer maps each to an HTTP status.
enum class ErrorCode {
    kInvalidRequest,
    kValidationFailed,
    kQueueFull,
    kDatasourceInUse,
    kAccountExpired,
    kInvalidDefinition,
    kUnauthenticated,
    kNotFound,
    kMethodNotAllowed,
    kConflict,
    kPayloadTooLarge,
    kUnsupportedMediaType,
    kRateLimited,
    kRunFailed,
    kInternal,
    kUnavailable,
};

// The wire name of a code ("not_found", ...).
const char* ErrorCodeName(ErrorCode code);

// Field path -> messages, for validation failures.
using FieldErrors = std::map<std::string, std::vector<std::string>>;

// An expected failure. `message` is safe to show to the caller; `detail` goes to the log only.
struct Error {
    ErrorCode code = ErrorCode::kInternal;
    std::string message;
    std::string detail;
    FieldErrors fields;

    static Error NotFound(std::string what) { return {ErrorCode::kNotFound, std::move(what), {}, {}}; }
    static Error Conflict(std::string msg) { return {ErrorCode::kConflict, std::move(msg), {}, {}}; }
    static Error Invalid(std::string msg) { return {ErrorCode::kInvalidRequest, std::move(msg), {}, {}}; }
    static Error Internal(std::string detail) {
        return {ErrorCode::kInternal, "Internal server error.", std::move(detail), {}};
    }
    static Error Unavailable(std::string detail) {
        return {ErrorCode::kUnavailable, "The service is temporarily unavailable.", std::move(detail), {}};
    }
    static Error Validation(FieldErrors fields) {
        return {ErrorCode::kValidationFailed, "The request is invalid.", {}, std::move(fields)};
    }
};

// A value or an Error. Deliberately small: expected failures are values, exceptions are for bugs.
template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    T& operator*() & { return std::get<0>(v_); }
    const T& operator*() const& { return std::get<0>(v_); }

    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

  private:
    std::variant<T, Error> v_;
};

// Result of an operation that yields nothing on success.
struct Unit {};
using Status = Result<Unit>;
inline Status Ok() { return Unit{}; }

}  // namespace weft
