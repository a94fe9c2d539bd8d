#include "core/time_format.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(TimeFormat, FormatsApiTimestamps) {
    EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(FormatTimestamp(1'795'851'521'000'123), "2026-11-28T07:38:41.000123Z");
}

TEST(TimeFormat, ParsesBothAcceptedForms) {
    EXPECT_EQ(ParseUtcDateTime("2026-11-28 07:38:41"), 1'795'851'521'000'000);
    EXPECT_EQ(ParseUtcDateTime("2026-11-28T07:38:41.000123Z"), 1'795'851'521'000'123);
    EXPECT_EQ(ParseUtcDateTime("1970-01-01 00:00:00"), 0);
}

TEST(TimeFormat, RejectsMalformedDates) {
    EXPECT_FALSE(ParseUtcDateTime("2026-02-30 00:00:00"));
    EXPECT_FALSE(ParseUtcDateTime("2026-11-28"));
    EXPECT_FALSE(ParseUtcDateTime("2026-11-28 24:00:00"));
    EXPECT_FALSE(ParseUtcDateTime("2026-11-28 07:38:41x"));
    EXPECT_FALSE(ParseUtcDateTime("abcd-11-28 07:38:41"));
}

TEST(TimeFormat, RoundTrips) {
    const Micros t = 1'234'567'890'123'456;
    EXPECT_EQ(ParseUtcDateTime(FormatTimestamp(t)), t);
}

}  // namespace
}  // namespace weft
