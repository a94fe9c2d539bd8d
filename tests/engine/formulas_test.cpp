// Formula behaviour beyond the documented examples: failures and edge cases.

#include "engine/expr.h"
#include "engine/formula.h"
#include "test_support.h"

namespace weft::engine::testing {
namespace {

class FormulasTest : public ::testing::Test {
  protected:
    Result<json::value> Eval(std::string_view text) {
        auto t = ParseTemplate(text);
        if (!t.ok()) return t.error();
        return Evaluate(t.value(), scope_, ctx_);
    }
    json::value Ok(std::string_view text) {
        auto v = Eval(text);
        EXPECT_TRUE(v.ok()) << text << ": " << (v.ok() ? "" : v.error().message);
        return v.ok() ? v.value() : json::value();
    }
    std::string Fails(std::string_view text) {
        auto v = Eval(text);
        EXPECT_FALSE(v.ok()) << text << " gave " << (v.ok() ? S(v.value()) : "");
        return v.ok() ? "" : v.error().message;
    }

    MapScope scope_;
    FixedClock clock_{kTestNow};
    FormulaContext ctx_{&clock_, [] { return std::string("u"); }};
};

TEST_F(FormulasTest, FailuresNameTheFormula) {
    EXPECT_NE(Fails("{divide: 1, 0}").find("Formula 'divide': division by zero"), std::string::npos);
    EXPECT_NE(Fails("{object: 'not json'}").find("'object'"), std::string::npos);
    EXPECT_NE(Fails("{base64_decode: '!!!'}").find("base64"), std::string::npos);
    EXPECT_NE(Fails("{number: 'abc'}").find("not a number"), std::string::npos);
    EXPECT_NE(Fails("{add: 1, 'x'}").find("'x' is not a number"), std::string::npos);
    EXPECT_NE(Fails("{date: 'yesterday-ish'}").find("not a date"), std::string::npos);
    EXPECT_NE(Fails("{date: now, 'Y', 'Mars/Olympus'}").find("unknown time zone 'Mars/Olympus'"), std::string::npos);
    EXPECT_NE(Fails("{date_add: now, 1, 'fortnight'}").find("unknown unit"), std::string::npos);
    EXPECT_NE(Fails("{join: 'abc'}").find("must be a list"), std::string::npos);
    EXPECT_NE(Fails("{merge: 'a', 'b'}").find("expects objects or lists"), std::string::npos);
    EXPECT_NE(Fails("{round: 1.5, 99}").find("decimals"), std::string::npos);
}

TEST_F(FormulasTest, TextEdgeCases) {
    EXPECT_EQ(Ok("{substring: 'héllo', 1, 3}"), json::value("éll"));
    EXPECT_EQ(Ok("{substring: 'abc', 10}"), json::value(""));
    EXPECT_EQ(Ok("{split: '', ','}"), json::array{});
    EXPECT_EQ(Ok("{split: 'ab', ''}"), J(R"(["a","b"])"));
    EXPECT_EQ(Ok("{split: 'a,,b'}"), J(R"(["a","","b"])"));
    EXPECT_EQ(Ok("{replace: 'aaa', 'a', 'bb'}"), json::value("bbbbbb"));
    EXPECT_EQ(Ok("{pad_left: 'abc', 2}"), json::value("abc"));
    EXPECT_EQ(Ok("{pad_left: 7, 3}"), json::value("  7"));
    EXPECT_EQ(Ok("{length: null}"), json::value(0));
    EXPECT_EQ(Ok("{contains: {object: '{\"k\": 1}'}, 'k'}"), json::value(true));
    EXPECT_EQ(Ok("{trim: null}"), json::value(""));
}

TEST_F(FormulasTest, NumberEdgeCases) {
    EXPECT_EQ(Ok("{add: 9223372036854775807, 1}"), json::value(9223372036854775808.0));
    EXPECT_EQ(Ok("{divide: 10, 2}"), json::value(5));
    EXPECT_EQ(Ok("{round: -2.5}"), json::value(-3));
    EXPECT_EQ(Ok("{subtract: 1.5, 0.5}"), json::value(1));
    EXPECT_EQ(Ok("{min: {object: '[]'}}"), json::value(nullptr));
    EXPECT_EQ(Ok("{number: null}"), json::value(0));
    EXPECT_EQ(Ok("{add: '2', '3'}"), json::value(5));
}

TEST_F(FormulasTest, DateEdgeCases) {
    EXPECT_EQ(Ok("{date: '2024-02-29T23:30:00-05:00', 'Y-m-d H:i T'}"), json::value("2024-03-01 04:30 UTC"));
    EXPECT_EQ(Ok("{date: '2024-07-04T10:00:00Z', 'D N w z t L W o I', 'America/New_York'}"),
              json::value("Thu 4 4 185 31 1 27 2024 1"));
    EXPECT_EQ(Ok("{date: '2024-01-01T00:00:00.123456Z', 'u v'}"), json::value("123456 123"));
    EXPECT_EQ(Ok("{date: '2021-01-03', 'o-\\WW'}"), json::value("2020-W53"));
    EXPECT_EQ(Ok("{date: '2024-12-01T15:04:05Z', 'g:i a / h A / G'}"), json::value("3:04 pm / 03 PM / 15"));
    EXPECT_EQ(Ok("{date: '2024-12-01T15:04:05Z', 'r'}"), json::value("Sun, 01 Dec 2024 15:04:05 +0000"));
    EXPECT_EQ(Ok("{date: '2024-12-01T15:04:05Z', 'p e', 'Asia/Kolkata'}"), json::value("+05:30 Asia/Kolkata"));
    EXPECT_EQ(Ok("{date: '1710510330', 'U'}"), json::value(1710510330));
    EXPECT_EQ(Ok("{date: yesterday, 'Y-m-d', 'Pacific/Auckland'}"), json::value("2024-03-15"));
    EXPECT_EQ(Ok("{date_add: '2024-02-29', 1, 'year'}"), json::value("2025-02-28T00:00:00+00:00"));
    EXPECT_EQ(Ok("{date_add: '2024-03-15T10:00:00Z', 90, 'minutes'}"), json::value("2024-03-15T11:30:00+00:00"));
    EXPECT_EQ(Ok("{date_add: '2024-03-15T10:00:00Z', 2, 'weeks'}"), json::value("2024-03-29T10:00:00+00:00"));
}

TEST_F(FormulasTest, DataEdgeCases) {
    EXPECT_EQ(Ok("{first: {object: '[]'}}"), json::value(nullptr));
    EXPECT_EQ(Ok("{get: {object: '{\"a\": [{\"b\": 7}]}'}, 'a[0].b'}"), json::value(7));
    EXPECT_EQ(Ok("{default: 0, 5}"), json::value(0));
    EXPECT_EQ(Ok("{sort: {object: '[\"b\", \"a\", 10, 9]'}}"), J(R"([9, 10, "a", "b"])"));
    EXPECT_EQ(Ok("{keys: {object: '[5, 6]'}}"), J("[0, 1]"));
    EXPECT_EQ(Ok("{json: 'x'}"), json::value("\"x\""));
}

TEST_F(FormulasTest, LogicAndEncodingEdgeCases) {
    EXPECT_EQ(Ok("{if: 'false', 1, 2}"), json::value(2));
    EXPECT_EQ(Ok("{if: '0', 1, 2}"), json::value(2));
    EXPECT_EQ(Ok("{and: 1}"), json::value(true));
    EXPECT_EQ(Ok("{equals: 1, 1.0}"), json::value(true));
    EXPECT_EQ(Ok("{equals: 'a', 'A'}"), json::value(false));
    EXPECT_EQ(Ok("{base64_encode: 'ab'}"), json::value("YWI="));
    EXPECT_EQ(Ok("{base64_decode: 'YWI'}"), json::value("ab"));
    EXPECT_EQ(Ok("{base64_decode: '_-8'}"), json::value("\xff\xef"));
    EXPECT_EQ(Ok("{url_encode: 'é'}"), json::value("%C3%A9"));
}

TEST_F(FormulasTest, UuidUsesInjectedSource) {
    int n = 0;
    ctx_.new_uuid = [&n] { return "id-" + std::to_string(++n); };
    EXPECT_EQ(Ok("{uuid} {uuid}"), json::value("id-1 id-2"));
}

}  // namespace
}  // namespace weft::engine::testing
