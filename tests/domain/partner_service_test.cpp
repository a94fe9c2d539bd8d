#include "domain/partner_service.h"

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace weft {
namespace {

class PartnerServiceTest : public ::testing::Test {
  protected:
    testing::TempDir dir_;
    testing::ManualClock clock_;
    SqliteStore store_{dir_.File("weft.db"), 1, true};
    PartnerService service_{store_, clock_};
};

TEST_F(PartnerServiceTest, CreatedKeyAuthenticatesAndIsStoredOnlyAsHash) {
    auto created = service_.Create("Acme SaaS", {});
    ASSERT_TRUE(created.ok());
    EXPECT_GE(created->api_key.size(), 32u);
    EXPECT_EQ(created->partner.limits.rate_limit, 300);
    EXPECT_EQ(created->partner.limits.queue_cap, 200);
    EXPECT_EQ(created->partner.limits.concurrency, 5);
    EXPECT_NE(created->key.hash_hex, created->api_key);
    auto ok = service_.Authenticate(std::to_string(created->partner.app_id), created->api_key);
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok->name, "Acme SaaS");
}

TEST_F(PartnerServiceTest, WrongOrMalformedCredentialsAreUnauthenticated) {
    auto created = service_.Create("Acme", {});
    const std::string id = std::to_string(created->partner.app_id);
    for (auto [app, key] : std::vector<std::pair<std::string, std::string>>{{id, "wrong"},
                                                                            {id, ""},
                                                                            {"", created->api_key},
                                                                            {"abc", created->api_key},
                                                                            {"1.0", created->api_key},
                                                                            {"-1", created->api_key},
                                                                            {"999", created->api_key},
                                                                            {id + " ", created->api_key}}) {
        auto r = service_.Authenticate(app, key);
        ASSERT_FALSE(r.ok()) << app << " / " << key;
        EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    }
}

TEST_F(PartnerServiceTest, RotationKeepsTheOtherKeyWorking) {
    auto created = service_.Create("Acme", {});
    const PartnerId id = created->partner.app_id;
    auto second = service_.AddKey(id);
    ASSERT_TRUE(second.ok());
    ASSERT_TRUE(service_.RevokeKey(id, created->key.id).ok());
    EXPECT_FALSE(service_.Authenticate(std::to_string(id), created->api_key).ok());
    EXPECT_TRUE(service_.Authenticate(std::to_string(id), second->api_key).ok());
}

TEST_F(PartnerServiceTest, LimitsAreValidatedAndUpdated) {
    PartnerLimitsPatch bad;
    bad.rate_limit = 0;
    bad.concurrency = -3;
    auto r = service_.Create("Acme", bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().fields.count("rate_limit"), 1u);
    EXPECT_EQ(r.error().fields.count("concurrency"), 1u);
    auto created = service_.Create("Acme", {});
    PartnerLimitsPatch patch;
    patch.rate_limit = 5;
    auto updated = service_.UpdateLimits(created->partner.app_id, patch);
    ASSERT_TRUE(updated.ok());
    EXPECT_EQ(updated->limits.rate_limit, 5);
    EXPECT_EQ(updated->limits.queue_cap, 200);
    EXPECT_EQ(service_.UpdateLimits(12345, patch).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace weft
