#pragma once

#include <string>

#include "core/result.h"
#include "http/message.h"

namespace weft::http {

// The one place an error code becomes an HTTP status.
int StatusFor(ErrorCode code);

// `{"error", "code", "request_id"}` (+ `errors` for field failures), with the status of the code.
Response ErrorResponse(const Error& error, const std::string& request_id);

// A JSON response with the given status and body.
Response JsonResponse(int status, std::string body);

}  // namespace weft::http
