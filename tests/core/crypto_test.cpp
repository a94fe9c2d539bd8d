#include "core/crypto.h"

#include <gtest/gtest.h>

#include <set>

namespace weft {
namespace {

TEST(Crypto, Sha256MatchesKnownVector) {
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, HmacSha256MatchesRfc4231Case2) {
    EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, RandomTokenHasRequestedLengthAndAlphabet) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        const std::string t = RandomToken(48);
        ASSERT_EQ(t.size(), 48u);
        for (char c : t) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << t;
        seen.insert(t);
    }
    EXPECT_EQ(seen.size(), 100u);
}

TEST(Crypto, ConstantTimeEqualsComparesContentAndLength) {
    EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
    EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
    EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

}  // namespace
}  // namespace weft
