#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.h"

namespace weft::engine {

// Helpers giving JSON values the loose, user-friendly semantics automations expect.

// Text of a value as it appears when interpolated into a string: strings as is, null as "",
// numbers in their shortest form, objects and lists as compact JSON.
std::string ToText(const json::value& v);

// A number from a number, a numeric string or a boolean; nullopt otherwise.
std::optional<double> ToNumber(const json::value& v);

// An integer when `v` holds an integral number (or a numeric string of one); nullopt otherwise.
std::optional<std::int64_t> ToInteger(const json::value& v);

// The value that represents `d`: an int64 when it is integral and in range, else a double.
json::value NumberValue(double d);

// null, "", [], {} are empty; everything else (including 0 and false) is not.
bool IsEmpty(const json::value& v);

// false, null, 0, "", "false", [] and {} are false; everything else is true.
bool IsTruthy(const json::value& v);

// Equality that treats 1, 1.0 and "1" alike; other values compare structurally.
bool LooseEquals(const json::value& a, const json::value& b);

// Order of two values: numerically when both are numbers (or numeric strings), else by text.
// Negative, zero or positive like strcmp.
int Compare(const json::value& a, const json::value& b);

// The size in bytes of the compact JSON serialisation of `v`, computed without serialising.
std::size_t JsonSize(const json::value& v);

// Levels of nesting: 0 for a scalar, 1 for [] or [1], 2 for [[1]], ...
std::size_t JsonDepth(const json::value& v);

// `v` when its JSON form is at most `limit` bytes; else a string holding the start of that form
// and a note saying how large the value was.
json::value TruncateForLog(const json::value& v, std::size_t limit);
// The same, giving the JSON size of the result in `logged_size` (the log's accounting needs it, and walking a
// value once is enough). The rvalue form keeps `v` without copying it when it fits.
json::value TruncateForLog(const json::value& v, std::size_t limit, std::size_t& logged_size);
json::value TruncateForLog(json::value&& v, std::size_t limit, std::size_t& logged_size);

// The kind of a value in user messages: "string", "number", "boolean", "null", "list", "object".
const char* KindName(const json::value& v);

// The kind with its article, for messages: "a string", "an object".
std::string KindWithArticle(const json::value& v);

}  // namespace weft::engine
