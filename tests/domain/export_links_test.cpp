#include "domain/export_links.h"

#include <gtest/gtest.h>

#include <map>

#include "support/temp_dir.h"

namespace weft {
namespace {

// Splits "/v1/exports/runs/{guid}/{kind}?expires=E&signature=S" into its parts.
struct Parsed {
    std::string guid, kind, expires, signature;
};
Parsed Parse(const std::string& link) {
    Parsed p;
    const std::string prefix = "/v1/exports/runs/";
    const auto q = link.find('?');
    const std::string path = link.substr(prefix.size(), q - prefix.size());
    p.guid = path.substr(0, path.find('/'));
    p.kind = path.substr(path.find('/') + 1);
    const std::string query = link.substr(q + 1);
    p.expires = query.substr(8, query.find('&') - 8);
    p.signature = query.substr(query.find("signature=") + 10);
    return p;
}

TEST(ExportLinks, AGenuineLinkVerifiesUntilItExpires) {
    testing::ManualClock clock(1'000'000'000'000'000);
    ExportLinks links("secret-key", clock);
    const auto p = Parse(links.Link(ExportLinks::Kind::kDebug, "run-1"));
    EXPECT_EQ(p.guid, "run-1");
    EXPECT_EQ(p.kind, "debug");
    EXPECT_EQ(std::stoll(p.expires), 1'000'000'000 + 3600);
    EXPECT_TRUE(links.Verify(p.kind, p.guid, p.expires, p.signature));
    clock.Advance(3600LL * 1'000'000);
    EXPECT_TRUE(links.Verify(p.kind, p.guid, p.expires, p.signature));
    clock.Advance(1'000'000);
    EXPECT_FALSE(links.Verify(p.kind, p.guid, p.expires, p.signature));
}

TEST(ExportLinks, AnyChangeBreaksTheSignature) {
    testing::ManualClock clock(1'000'000'000'000'000);
    ExportLinks links("secret-key", clock);
    const auto p = Parse(links.Link(ExportLinks::Kind::kDisplay, "run-1"));
    ASSERT_TRUE(links.Verify(p.kind, p.guid, p.expires, p.signature));
    EXPECT_FALSE(links.Verify("debug", p.guid, p.expires, p.signature));
    EXPECT_FALSE(links.Verify(p.kind, "run-2", p.expires, p.signature));
    EXPECT_FALSE(links.Verify(p.kind, p.guid, std::to_string(std::stoll(p.expires) + 1), p.signature));
    EXPECT_FALSE(links.Verify(p.kind, p.guid, p.expires + "0", p.signature));
    EXPECT_FALSE(links.Verify(p.kind, p.guid, "", p.signature));
    EXPECT_FALSE(links.Verify(p.kind, p.guid, "12x", p.signature));
    EXPECT_FALSE(links.Verify(p.kind, p.guid, p.expires, ""));
    EXPECT_FALSE(links.Verify("all", p.guid, p.expires, p.signature));
    ExportLinks other_key("another-key", clock);
    EXPECT_FALSE(other_key.Verify(p.kind, p.guid, p.expires, p.signature));
}

}  // namespace
}  // namespace weft
