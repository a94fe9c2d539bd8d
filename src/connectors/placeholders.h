#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace weft::connectors {

// Connector templates use `{name}` placeholders (name: letters, digits, _) for param values; any other brace
// is literal text.

// The names a text refers to, in order.
std::vector<std::string> PlaceholderNames(std::string_view text);

// Looks a param's value up; nullptr when it has none.
using ParamLookup = std::function<const json::value*(std::string_view name)>;

// Replaces every placeholder with its value as text (missing values: ""), percent-encoded when `url_encode`.
std::string ExpandText(std::string_view text, const ParamLookup& lookup, bool url_encode);

// Expands a URL path: values percent-encoded, except '/' (a value may name a sub-path).
std::string ExpandPath(std::string_view path, const ParamLookup& lookup);

// Expands a JSON template: a string that is exactly one placeholder takes the value with its JSON type (null
// when missing); other strings are expanded as text; objects and lists recursively, dropping object members
// that came out null (an optional param left out).
json::value ExpandValue(const json::value& tmpl, const ParamLookup& lookup);

// RFC 3986 unreserved characters kept, everything else %XX.
std::string PercentEncode(std::string_view s);

}  // namespace weft::connectors
