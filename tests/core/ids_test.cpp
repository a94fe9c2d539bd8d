#include "core/ids.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(Ids, GuidIsLowercaseUuidVersion7) {
    const std::string g = NewGuid(1'700'000'000'000'000);
    ASSERT_TRUE(LooksLikeGuid(g)) << g;
    EXPECT_EQ(g[14], '7');
    EXPECT_TRUE(g[19] == '8' || g[19] == '9' || g[19] == 'a' || g[19] == 'b') << g;
    for (char c : g) EXPECT_FALSE(c >= 'A' && c <= 'Z');
}

TEST(Ids, GuidsAreTimeOrdered) {
    const std::string a = NewGuid(1'700'000'000'000'000);
    const std::string b = NewGuid(1'700'000'000'001'000);
    EXPECT_LT(a, b);
    EXPECT_EQ(a.substr(0, 8), "018bcfe5");  // 1 700 000 000 000 ms = 0x018bcfe56800
}

TEST(Ids, LooksLikeGuidRejectsOtherText) {
    EXPECT_FALSE(LooksLikeGuid("customer-42"));
    EXPECT_FALSE(LooksLikeGuid("018bcfe5-6800-7000-8000-00000000000"));
    EXPECT_FALSE(LooksLikeGuid("018bcfe5x6800-7000-8000-000000000000"));
    EXPECT_TRUE(LooksLikeGuid("018bcfe5-6800-7000-8000-000000000000"));
}

}  // namespace
}  // namespace weft
