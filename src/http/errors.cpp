#include "http/errors.h"

#include <boost/json.hpp>

namespace weft::http {

int StatusFor(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidRequest:
        case ErrorCode::kValidationFailed:
        case ErrorCode::kQueueFull:
        case ErrorCode::kDatasourceInUse:
        case ErrorCode::kAccountExpired:
        case ErrorCode::kInvalidDefinition:
            return 400;
        case ErrorCode::kUnauthenticated:
            return 401;
        case ErrorCode::kNotFound:
            return 404;
        case ErrorCode::kMethodNotAllowed:
            return 405;
        case ErrorCode::kConflict:
            return 409;
        case ErrorCode::kPayloadTooLarge:
            return 413;
        case ErrorCode::kUnsupportedMediaType:
            return 415;
        case ErrorCode::kRunFailed:
            return 422;
        case ErrorCode::kRateLimited:
            return 429;
        case ErrorCode::kInternal:
            return 500;
        case ErrorCode::kUnavailable:
            return 503;
    }
    return 500;
}

Response ErrorResponse(const Error& error, const std::string& request_id) {
    boost::json::object body;
    body["error"] = error.message;
    body["code"] = ErrorCodeName(error.code);
    body["request_id"] = request_id;
    if (!error.fields.empty()) {
        boost::json::object fields;
        for (const auto& [field, messages] : error.fields) {
            boost::json::array list;
            for (const auto& m : messages) list.emplace_back(m);
            fields[field] = std::move(list);
        }
        body["errors"] = std::move(fields);
    }
    return JsonResponse(StatusFor(error.code), boost::json::serialize(body));
}

Response JsonResponse(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

}  // namespace weft::http
