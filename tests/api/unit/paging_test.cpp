#include "api/paging.h"

#include <gtest/gtest.h>

namespace weft::api {
namespace {

http::Request Get(std::vector<std::pair<std::string, std::string>> query) {
    http::Request r;
    r.method = "GET";
    r.path = "/v1/accounts";
    r.host = "example.test:8080";
    r.query = std::move(query);
    return r;
}

TEST(Paging, DefaultsAndValidRanges) {
    auto p = ParsePaging(Get({}));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->page, 1);
    EXPECT_EQ(p->per_page, 100);
    auto q = ParsePaging(Get({{"page", "3"}, {"per_page", "25"}}));
    EXPECT_EQ(q->AsRequest().offset, 50);
    EXPECT_EQ(q->AsRequest().limit, 25);
}

TEST(Paging, RejectsAnythingButAnIntegerInRange) {
    for (const char* bad : {"0", "-1", "abc", "1.5", "", "+2", " 1", "99999999999999"}) {
        auto p = ParsePaging(Get({{"page", bad}}));
        ASSERT_FALSE(p.ok()) << bad;
        EXPECT_EQ(p.error().fields.count("page"), 1u) << bad;
    }
    for (const char* bad : {"0", "101", "x"}) {
        auto p = ParsePaging(Get({{"per_page", bad}}));
        ASSERT_FALSE(p.ok()) << bad;
        EXPECT_EQ(p.error().fields.count("per_page"), 1u);
    }
}

struct EnvelopeTest : ::testing::Test {
    json::object Envelope(const http::Request& req, Paging paging, std::int64_t total, int items,
                          std::string public_url = "") {
        json::array data;
        for (int i = 0; i < items; ++i) data.emplace_back(i);
        return PageEnvelope(req, BaseUrl(req, public_url), paging, total, std::move(data));
    }
};

TEST_F(EnvelopeTest, MiddlePageHasEveryLinkAndExactMeta) {
    auto req = Get({{"search", "a b"}, {"page", "2"}});
    auto env = Envelope(req, {2, 100}, 1050, 100);
    const auto& meta = env.at("meta").as_object();
    EXPECT_EQ(meta.at("current_page").as_int64(), 2);
    EXPECT_EQ(meta.at("from").as_int64(), 101);
    EXPECT_EQ(meta.at("to").as_int64(), 200);
    EXPECT_EQ(meta.at("last_page").as_int64(), 11);
    EXPECT_EQ(meta.at("total").as_int64(), 1050);
    const auto& links = env.at("links").as_object();
    EXPECT_EQ(links.at("first").as_string(), "http://example.test:8080/v1/accounts?search=a%20b&page=1");
    EXPECT_EQ(links.at("prev").as_string(), "http://example.test:8080/v1/accounts?search=a%20b&page=1");
    EXPECT_EQ(links.at("next").as_string(), "http://example.test:8080/v1/accounts?search=a%20b&page=3");
    EXPECT_EQ(links.at("last").as_string(), "http://example.test:8080/v1/accounts?search=a%20b&page=11");
    EXPECT_EQ(meta.at("path").as_string(), "http://example.test:8080/v1/accounts?search=a%20b&page=2");
}

TEST_F(EnvelopeTest, EmptyCollectionAndPagePastTheEnd) {
    auto empty = Envelope(Get({}), {1, 100}, 0, 0);
    EXPECT_TRUE(empty.at("meta").at("from").is_null());
    EXPECT_TRUE(empty.at("meta").at("to").is_null());
    EXPECT_EQ(empty.at("meta").at("last_page").as_int64(), 1);
    EXPECT_TRUE(empty.at("links").at("prev").is_null());
    EXPECT_TRUE(empty.at("links").at("next").is_null());
    auto past = Envelope(Get({{"page", "9"}}), {9, 100}, 250, 0, "https://weft.example.com");
    EXPECT_TRUE(past.at("meta").at("from").is_null());
    EXPECT_EQ(past.at("meta").at("last_page").as_int64(), 3);
    EXPECT_EQ(past.at("links").at("prev").as_string(), "https://weft.example.com/v1/accounts?page=3");
    EXPECT_TRUE(past.at("links").at("next").is_null());
}

}  // namespace
}  // namespace weft::api
