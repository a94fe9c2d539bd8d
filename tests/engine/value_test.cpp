#include "engine/value.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <cstdint>
#include <limits>

#include "test_support.h"

namespace weft::engine {
namespace {

using testing::J;

// The run's data and log limits count JSON bytes without serialising: the count must match the real thing.
TEST(JsonSizeTest, MatchesTheCompactSerialisation) {
    const json::value values[] = {
        nullptr,
        true,
        false,
        0,
        7,
        -7,
        10,
        99,
        100,
        -1000,
        1234567890123,
        std::numeric_limits<std::int64_t>::max(),
        std::numeric_limits<std::int64_t>::min(),
        std::numeric_limits<std::uint64_t>::max(),
        json::value(std::uint64_t{10}),
        "",
        "plain",
        "quote \" backslash \\ newline \n tab \t bell \x07",
        "caf\xc3\xa9",
        J(R"({"a":[1,-2,{"b":"c\n"}],"d":{},"e":[],"f":null})"),
        J(R"([[1,2],[3,[4,[5]]],"x",true])"),
    };
    for (const auto& v : values) EXPECT_EQ(JsonSize(v), boost::json::serialize(v).size()) << boost::json::serialize(v);
}

TEST(TruncateForLogTest, KeepsValuesWithinTheLimitAndReportsTheirSize) {
    const json::value v = J(R"({"a":[1,2,3],"b":"text"})");
    std::size_t size = 0;
    EXPECT_EQ(TruncateForLog(v, 100, size), v);
    EXPECT_EQ(size, boost::json::serialize(v).size());
    json::value moved = v;
    EXPECT_EQ(TruncateForLog(std::move(moved), 100, size), v);
    EXPECT_EQ(size, boost::json::serialize(v).size());
}

TEST(TruncateForLogTest, CutsLargeValuesAndReportsTheSizeOfWhatIsLogged) {
    const json::value v = json::value(std::string(100, 'x'));
    std::size_t size = 0;
    const json::value logged = TruncateForLog(json::value(v), 10, size);
    EXPECT_EQ(logged, json::value("xxxxxxxxxx... [truncated: value was 102 bytes]"));
    EXPECT_EQ(size, boost::json::serialize(logged).size());
    EXPECT_EQ(TruncateForLog(v, 10), logged);
}

}  // namespace
}  // namespace weft::engine
