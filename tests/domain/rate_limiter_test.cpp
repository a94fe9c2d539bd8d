#include "domain/rate_limiter.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

constexpr Micros kSecond = 1'000'000;

TEST(RateLimiter, AdmitsUpToTheLimitThenRefusesWithRetryAfter) {
    InMemoryRateLimiter rl;
    for (int i = 0; i < 300; ++i) {
        auto d = rl.Admit("a", 300, 1000 * kSecond);
        ASSERT_TRUE(d.allowed) << i;
        EXPECT_EQ(d.remaining, 299 - i);
    }
    auto d = rl.Admit("a", 300, 1000 * kSecond);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.remaining, 0);
    EXPECT_EQ(d.retry_after, 60);
}

TEST(RateLimiter, RefusedCallsDoNotCount) {
    InMemoryRateLimiter rl;
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(rl.Admit("a", 2, 0).allowed);
    for (int i = 0; i < 50; ++i) ASSERT_FALSE(rl.Admit("a", 2, 10 * kSecond).allowed);
    // Exactly 60 s after the first two calls both leave the window: two more fit, not fewer.
    EXPECT_TRUE(rl.Admit("a", 2, 60 * kSecond).allowed);
    EXPECT_TRUE(rl.Admit("a", 2, 60 * kSecond).allowed);
    EXPECT_FALSE(rl.Admit("a", 2, 60 * kSecond).allowed);
}

TEST(RateLimiter, WindowSlides) {
    InMemoryRateLimiter rl;
    for (int i = 0; i < 150; ++i) ASSERT_TRUE(rl.Admit("a", 300, 0).allowed);
    for (int i = 0; i < 150; ++i) ASSERT_TRUE(rl.Admit("a", 300, 30 * kSecond).allowed);
    auto refused = rl.Admit("a", 300, 30 * kSecond);
    ASSERT_FALSE(refused.allowed);
    EXPECT_EQ(refused.retry_after, 30);
    auto d = rl.Admit("a", 300, 61 * kSecond);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, 149);  // the 150 calls at t=30 s are still in the window, plus this one
}

TEST(RateLimiter, KeysHaveSeparateWindows) {
    InMemoryRateLimiter rl;
    ASSERT_TRUE(rl.Admit("a", 1, 0).allowed);
    EXPECT_FALSE(rl.Admit("a", 1, 0).allowed);
    EXPECT_TRUE(rl.Admit("b", 1, 0).allowed);
}

TEST(RateLimiter, LoweringTheLimitLiveTakesEffect) {
    InMemoryRateLimiter rl;
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(rl.Admit("a", 300, i * kSecond).allowed);
    auto d = rl.Admit("a", 5, 20 * kSecond);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.limit, 5);
    // Six of the ten must leave the window before a call fits under 5: the sixth was at t=5 s.
    EXPECT_EQ(d.retry_after, 45);
}

}  // namespace
}  // namespace weft
