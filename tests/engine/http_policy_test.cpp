#include "engine/http_policy.h"

#include "test_support.h"

namespace weft::engine::testing {
namespace {

HttpResult Status(int status, HeaderList headers = {}) {
    return HttpResult{
        HttpResponse{status, std::move(headers), ""}, TransportError::kNone, {}, std::nullopt, std::nullopt};
}

TEST(HttpPolicyTest, AppendQuery) {
    EXPECT_EQ(AppendQuery("https://x/a", J(R"({"q": "a&b=c", "n": 1})")), "https://x/a?q=a%26b%3Dc&n=1");
    EXPECT_EQ(AppendQuery("https://x/a?z=1", J(R"({"q": true})")), "https://x/a?z=1&q=true");
    EXPECT_EQ(AppendQuery("https://x/a", json::value(nullptr)), "https://x/a");
}

TEST(HttpPolicyTest, Body) {
    HeaderList headers;
    EXPECT_EQ(BodyFromValue(json::value("raw"), headers), "raw");
    EXPECT_TRUE(headers.empty());
    EXPECT_EQ(BodyFromValue(J(R"({"a": [1]})"), headers), R"({"a":[1]})");
    EXPECT_EQ(headers, (HeaderList{{"Content-Type", "application/json"}}));
    HeaderList own{{"content-type", "application/vnd.api+json"}};
    EXPECT_EQ(BodyFromValue(J("[1]"), own), "[1]");
    EXPECT_EQ(own.size(), 1u);
    EXPECT_EQ(BodyFromValue(json::value(nullptr), headers), "");
}

TEST(HttpPolicyTest, ResponseValueLowercasesAndJoinsHeaders) {
    HttpResponse r{200, {{"Set-Cookie", "a=1"}, {"set-cookie", "b=2"}, {"X-Id", "7"}}, ""};
    auto v = ResponseValue(r, ResponseMode::kAuto);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v.value(), J(R"({"status": 200, "headers": {"set-cookie": "a=1, b=2", "x-id": "7"}, "body": ""})"));
    auto j = ResponseValue(HttpResponse{204, {}, ""}, ResponseMode::kJson);
    ASSERT_TRUE(j.ok());
    EXPECT_EQ(j->get_object().at("body"), json::value(nullptr));
}

TEST(HttpPolicyTest, TransientFaults) {
    const std::vector<int> none;
    EXPECT_TRUE(IsTransient(HttpResult{std::nullopt, TransportError::kNetwork, "", std::nullopt, std::nullopt}, none));
    EXPECT_TRUE(IsTransient(HttpResult{std::nullopt, TransportError::kTimeout, "", std::nullopt, std::nullopt}, none));
    EXPECT_FALSE(IsTransient(HttpResult{std::nullopt, TransportError::kBlocked, "", std::nullopt, std::nullopt}, none));
    EXPECT_TRUE(IsTransient(Status(429), none));
    EXPECT_TRUE(IsTransient(Status(500), none));
    EXPECT_TRUE(IsTransient(Status(503), none));
    EXPECT_FALSE(IsTransient(Status(503), {503}));
    EXPECT_FALSE(IsTransient(Status(404), none));
    EXPECT_FALSE(IsTransient(Status(200), none));
}

TEST(HttpPolicyTest, RetryDelays) {
    RetryPolicy fixed{3, Backoff::kFixed, 500, 60000};
    EXPECT_EQ(RetryDelay(fixed, 1, Status(500), 0), 500000);
    EXPECT_EQ(RetryDelay(fixed, 2, Status(500), 0), 500000);
    EXPECT_EQ(RetryDelay(fixed, 3, Status(500), 0), std::nullopt);
    RetryPolicy exp{10, Backoff::kExponential, 100, 1000};
    std::vector<Micros> delays;
    for (int attempt = 1; attempt <= 6; ++attempt) delays.push_back(*RetryDelay(exp, attempt, Status(500), 0));
    EXPECT_EQ(delays, (std::vector<Micros>{100000, 200000, 400000, 800000, 1000000, 1000000}));
    EXPECT_EQ(RetryDelay(RetryPolicy{}, 1, Status(500), 0), std::nullopt);
}

TEST(HttpPolicyTest, RetryAfter) {
    RetryPolicy p{3, Backoff::kFixed, 100, 100};
    EXPECT_EQ(RetryDelay(p, 1, Status(429, {{"Retry-After", "7"}}), 0), 7000000);
    // An HTTP date: 2015-10-21 07:28:00 GMT, seen 10 s before.
    const Micros at = 1445412480LL * 1000000;
    EXPECT_EQ(RetryDelay(p, 1, Status(503, {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}), at - 10000000),
              10000000);
    EXPECT_EQ(RetryDelay(p, 1, Status(503, {{"Retry-After", "999999"}}), 0), 3600LL * 1000000);
    EXPECT_EQ(RetryDelay(p, 1, Status(503, {{"Retry-After", "soon"}}), 0), 100000);
}

}  // namespace
}  // namespace weft::engine::testing
