#include "core/result.h"

namespace weft {

const char* ErrorCodeName(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidRequest:
            return "invalid_request";
        case ErrorCode::kValidationFailed:
            return "validation_failed";
        case ErrorCode::kQueueFull:
            return "queue_full";
        case ErrorCode::kDatasourceInUse:
            return "datasource_in_use";
        case ErrorCode::kAccountExpired:
            return "account_expired";
        case ErrorCode::kInvalidDefinition:
            return "invalid_definition";
        case ErrorCode::kUnauthenticated:
            return "unauthenticated";
        case ErrorCode::kNotFound:
            return "not_found";
        case ErrorCode::kMethodNotAllowed:
            return "method_not_allowed";
        case ErrorCode::kConflict:
            return "conflict";
        case ErrorCode::kPayloadTooLarge:
            return "payload_too_large";
        case ErrorCode::kUnsupportedMediaType:
            return "unsupported_media_type";
        case ErrorCode::kRateLimited:
            return "rate_limited";
        case ErrorCode::kRunFailed:
            return "run_failed";
        case ErrorCode::kInternal:
            return "internal";
        case ErrorCode::kUnavailable:
            return "unavailable";
    }
    return "internal";
}

}  // namespace weft
