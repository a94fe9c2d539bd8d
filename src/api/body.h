#pragma once

#include <optional>
#include <string>

#include "core/json.h"
#include "core/result.h"
#include "domain/account_service.h"
#include "http/message.h"

namespace weft::api {

// The JSON object body of a request: 415 for another content type, 400 for an empty body, malformed JSON,
// nesting deeper than 64, invalid UTF-8, or a top-level value that is not an object.
Result<json::object> ReadJsonObject(const http::Request& req);

// Like ReadJsonObject, but an empty body reads as {} (for endpoints whose body is optional).
Result<json::object> ReadOptionalJsonObject(const http::Request& req);

// Typed field readers: a present field of the wrong type records a message in `errors` under `path`.
std::optional<std::string> ReadString(const json::object& o, const char* key, const std::string& path,
                                      FieldErrors& errors);
NullableField ReadNullableString(const json::object& o, const char* key, const std::string& path, FieldErrors& errors);
// Accepts JSON booleans and, as the API promises, "true"/"false"/"1"/"0" and 1/0.
std::optional<bool> ReadBool(const json::object& o, const char* key, const std::string& path, FieldErrors& errors);
std::optional<bool> ParseBoolText(std::string_view text);

// Request bodies of section 6.
Result<AccountInput> ReadAccountInput(const json::object& body);
Result<UserInput> ReadUserInput(const json::object& body);

}  // namespace weft::api
