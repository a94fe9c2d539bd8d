#pragma once

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace weft {

namespace json = boost::json;

// Limits applied to every JSON document Weft accepts from outside.
inline constexpr std::size_t kMaxJsonDepth = 64;

// Parses untrusted JSON text: strict UTF-8, no comments or trailing commas, at most kMaxJsonDepth levels.
// Failures are `invalid_request` errors with a message that says what was wrong.
Result<json::value> ParseJson(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

// Compact serialisation.
std::string ToJson(const json::value& v);

// Optional accessors used when reading request bodies: nullptr / nullopt when the key is missing.
const json::value* Find(const json::object& obj, std::string_view key);

}  // namespace weft
