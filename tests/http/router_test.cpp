#include "http/router.h"

#include <gtest/gtest.h>

namespace weft::http {
namespace {

Handler Noop() {
    return [](Request&, const PathParams&, Respond) {};
}

class RouterTest : public ::testing::Test {
  protected:
    void SetUp() override {
        router_.Add("GET", "/v1/accounts", Execution::kBlocking, Noop());
        router_.Add("POST", "/v1/accounts", Execution::kBlocking, Noop());
        router_.Add("GET", "/v1/accounts/{account}", Execution::kBlocking, Noop());
        router_.Add("PUT", "/v1/accounts/{account}/expire", Execution::kBlocking, Noop());
        router_.Add("GET", "/v1/accounts/{account}/users/{user}", Execution::kBlocking, Noop());
    }
    Router router_;
};

TEST_F(RouterTest, MatchesLiteralAndCapturesParameters) {
    auto m = router_.Match("GET", "/v1/accounts/cust-1/users/u-2");
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.route->pattern, "/v1/accounts/{account}/users/{user}");
    EXPECT_EQ(m.params.at("account"), "cust-1");
    EXPECT_EQ(m.params.at("user"), "u-2");
}

TEST_F(RouterTest, DecodesEachSegmentAfterSplitting) {
    auto m = router_.Match("GET", "/v1/accounts/a%2Fb%20c");
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.params.at("account"), "a/b c");
}

TEST_F(RouterTest, WrongMethodListsTheAllowedOnes) {
    auto m = router_.Match("DELETE", "/v1/accounts");
    EXPECT_EQ(m.route, nullptr);
    EXPECT_EQ(m.allowed, (std::vector<std::string>{"GET", "POST"}));
}

TEST_F(RouterTest, UnknownPathsAndEmptySegmentsDoNotMatch) {
    for (const char* path : {"/v1/nope", "/v1/accounts/", "/v1/accounts//expire", "/v1", "/", "/v1/accounts/x/y"}) {
        auto m = router_.Match("GET", path);
        EXPECT_EQ(m.route, nullptr) << path;
        EXPECT_TRUE(m.allowed.empty()) << path;
    }
}

TEST_F(RouterTest, HeadIsServedByGet) {
    auto m = router_.Match("HEAD", "/v1/accounts");
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.route->method, "GET");
}

TEST(PercentDecode, KeepsMalformedEscapes) {
    EXPECT_EQ(PercentDecode("a%zz%4"), "a%zz%4");
    EXPECT_EQ(PercentDecode("%41%62"), "Ab");
}

}  // namespace
}  // namespace weft::http
