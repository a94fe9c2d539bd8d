#include "http/errors.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace weft::http {
namespace {

TEST(Errors, EveryCodeMapsToItsDocumentedStatus) {
    EXPECT_EQ(StatusFor(ErrorCode::kValidationFailed), 400);
    EXPECT_EQ(StatusFor(ErrorCode::kQueueFull), 400);
    EXPECT_EQ(StatusFor(ErrorCode::kUnauthenticated), 401);
    EXPECT_EQ(StatusFor(ErrorCode::kNotFound), 404);
    EXPECT_EQ(StatusFor(ErrorCode::kMethodNotAllowed), 405);
    EXPECT_EQ(StatusFor(ErrorCode::kConflict), 409);
    EXPECT_EQ(StatusFor(ErrorCode::kPayloadTooLarge), 413);
    EXPECT_EQ(StatusFor(ErrorCode::kUnsupportedMediaType), 415);
    EXPECT_EQ(StatusFor(ErrorCode::kRunFailed), 422);
    EXPECT_EQ(StatusFor(ErrorCode::kRateLimited), 429);
    EXPECT_EQ(StatusFor(ErrorCode::kInternal), 500);
    EXPECT_EQ(StatusFor(ErrorCode::kUnavailable), 503);
}

TEST(Errors, BodyCarriesCodeRequestIdAndFieldErrorsButNeverTheDetail) {
    Error e = Error::Validation({{"name", {"is required"}}});
    e.detail = "secret internals";
    const Response r = ErrorResponse(e, "req-1");
    EXPECT_EQ(r.status, 400);
    auto body = ParseJson(r.body);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ(body->at("code").as_string(), "validation_failed");
    EXPECT_EQ(body->at("request_id").as_string(), "req-1");
    EXPECT_EQ(body->at("errors").at("name").at(0).as_string(), "is required");
    EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

}  // namespace
}  // namespace weft::http
