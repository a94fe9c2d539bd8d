#include <gtest/gtest.h>

#include "store/postgres/pg_db.h"

namespace weft::pg {
namespace {

TEST(TranslatePlaceholders, NumbersPlainPlaceholdersInOrder) {
    auto [sql, n] = TranslatePlaceholders("SELECT a FROM t WHERE b = ? AND c IN (?, ?)");
    EXPECT_EQ(sql, "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)");
    EXPECT_EQ(n, 3);
}

TEST(TranslatePlaceholders, KeepsNumberedPlaceholdersAndCountsTheHighest) {
    auto [sql, n] = TranslatePlaceholders("WHERE a = ?1 AND (?2 IS NULL OR b = ?2) LIMIT ?10");
    EXPECT_EQ(sql, "WHERE a = $1 AND ($2 IS NULL OR b = $2) LIMIT $10");
    EXPECT_EQ(n, 10);
}

TEST(TranslatePlaceholders, LeavesQuotedTextAndCommentsAlone) {
    auto [sql, n] = TranslatePlaceholders("SELECT '?', \"a?\" -- why?\nFROM t WHERE x = 'it''s ?' AND y = ?");
    EXPECT_EQ(sql, "SELECT '?', \"a?\" -- why?\nFROM t WHERE x = 'it''s ?' AND y = $1");
    EXPECT_EQ(n, 1);
}

TEST(TranslatePlaceholders, RefusesMixedStyles) {
    EXPECT_THROW(TranslatePlaceholders("SELECT ?1, ?"), std::logic_error);
}

}  // namespace
}  // namespace weft::pg
