#include "api/body.h"

#include <gtest/gtest.h>

namespace weft::api {
namespace {

http::Request Post(std::string body, std::string content_type = "application/json") {
    http::Request r;
    r.method = "POST";
    r.body = std::move(body);
    if (!content_type.empty()) r.headers.emplace_back("content-type", content_type);
    return r;
}

TEST(Body, AcceptsJsonContentTypesOnly) {
    EXPECT_TRUE(ReadJsonObject(Post("{}", "application/json; charset=utf-8")).ok());
    EXPECT_TRUE(ReadJsonObject(Post("{}", "Application/JSON")).ok());
    EXPECT_TRUE(ReadJsonObject(Post("{}", "application/merge-patch+json")).ok());
    for (const char* ct : {"text/plain", "application/x-www-form-urlencoded", "", "application/jsonx"}) {
        auto r = ReadJsonObject(Post("{}", ct));
        ASSERT_FALSE(r.ok()) << ct;
        EXPECT_EQ(r.error().code, ErrorCode::kUnsupportedMediaType) << ct;
    }
}

TEST(Body, EmptyMalformedAndNonObjectBodiesAreInvalidRequests) {
    for (const char* body : {"", "{", "[1]", "\"x\"", "null"}) {
        auto r = ReadJsonObject(Post(body));
        ASSERT_FALSE(r.ok()) << body;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidRequest) << body;
    }
    EXPECT_TRUE(ReadOptionalJsonObject(Post("", "")).ok());
}

TEST(Body, AccountInputReportsEveryTypeErrorByField) {
    auto body = ParseJson(R"({"name": 5, "externalid": [], "user": "x", "expired": "maybe", "datasource": 3})");
    auto r = ReadAccountInput(body->as_object());
    ASSERT_FALSE(r.ok());
    const auto& f = r.error().fields;
    for (const char* field : {"name", "externalid", "user", "expired", "datasource"}) {
        EXPECT_EQ(f.count(field), 1u) << field;
    }
}

TEST(Body, BooleansAcceptTheDocumentedSpellings) {
    for (const char* text :
         {R"({"expired": true})", R"({"expired": "1"})", R"({"expired": 1})", R"({"expired": "true"})"}) {
        auto r = ReadAccountInput(ParseJson(text)->as_object());
        ASSERT_TRUE(r.ok()) << text;
        EXPECT_EQ(r->expired, true) << text;
    }
    auto off = ReadAccountInput(ParseJson(R"({"expired": "0"})")->as_object());
    EXPECT_EQ(off->expired, false);
}

TEST(Body, UserFieldsDistinguishNullFromAbsent) {
    auto r = ReadUserInput(ParseJson(R"({"name": null, "email": "a@b.c"})")->as_object());
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->name.has_value());
    EXPECT_FALSE(r->name->has_value());
    EXPECT_EQ(**r->email, "a@b.c");
    EXPECT_FALSE(r->locale.has_value());
}

}  // namespace
}  // namespace weft::api
