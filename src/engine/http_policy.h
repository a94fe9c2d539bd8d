#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "engine/definition.h"
#include "engine/effects.h"

namespace weft::engine {

// The non-I/O half of HTTP blocks: building the request, judging the response, deciding retries.

// True when `url` starts with http:// or https:// (any case).
bool IsHttpUrl(std::string_view url);

// `url` with `query` appended (url-encoded; list values repeat the key; null values are skipped).
std::string AppendQuery(const std::string& url, const json::value& query);

// Headers from an evaluated headers object (values as text; null values skipped).
HeaderList HeadersFromValue(const json::value& headers);

// The body text for an evaluated `body`: strings as is, objects/lists as JSON (adding
// `Content-Type: application/json` to `headers` unless one is set), null as empty.
std::string BodyFromValue(const json::value& body, HeaderList& headers);

// `{"status", "headers", "body"}` with header names in lowercase and the body parsed per `mode`
// (`auto`: JSON when the content type says so and it parses, else text). Fails only for `json`
// mode with a body that is not JSON.
Result<json::value> ResponseValue(const HttpResponse& response, ResponseMode mode);

// True when the status counts as success: 2xx, or listed in `accept_status`.
bool IsAcceptedStatus(int status, const std::vector<int>& accept_status);

// Network errors, timeouts, 429 and 5xx (unless accepted) are worth retrying.
bool IsTransient(const HttpResult& result, const std::vector<int>& accept_status);

// Delay before retry number `attempt` + 1 after attempt `attempt` (1-based) failed transiently, or
// nullopt when the policy allows no more attempts. Honours `Retry-After` (seconds or HTTP date),
// never waiting more than an hour.
std::optional<Micros> RetryDelay(const RetryPolicy& policy, int attempt, const HttpResult& result, Micros now);

// The `Retry-After` header as a delay from `now`, if present and valid.
std::optional<Micros> ParseRetryAfter(const HttpResult& result, Micros now);

}  // namespace weft::engine
