#include "core/json.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(Json, ParsesValidDocuments) {
    auto v = ParseJson(R"({"a":[1,2,{"b":"é"}]})");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->at("a").at(2).at("b").as_string(), "é");
}

TEST(Json, RejectsTooDeepNesting) {
    std::string deep(65, '[');
    deep += std::string(65, ']');
    auto v = ParseJson(deep);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().code, ErrorCode::kInvalidRequest);
    EXPECT_NE(v.error().message.find("64"), std::string::npos);
    std::string ok(64, '[');
    ok += std::string(64, ']');
    EXPECT_TRUE(ParseJson(ok).ok());
}

TEST(Json, RejectsInvalidUtf8WithItsOwnMessage) {
    auto v = ParseJson("{\"a\":\"\xff\xfe\"}");
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.error().message.find("UTF-8"), std::string::npos) << v.error().message;
}

TEST(Json, RejectsSyntaxErrorsCommentsAndTrailingCommas) {
    EXPECT_FALSE(ParseJson("{").ok());
    EXPECT_FALSE(ParseJson("{\"a\":1,}").ok());
    EXPECT_FALSE(ParseJson("{\"a\":1} // x").ok());
    EXPECT_FALSE(ParseJson("").ok());
}

}  // namespace
}  // namespace weft
