#include "domain/account_service.h"

#include <gtest/gtest.h>

#include "core/ids.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace weft {
namespace {

class AccountServiceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        Partner p;
        p.guid = NewGuid(clock_.Now());
        p.name = "P";
        partner_ = store_.CreatePartner(p)->app_id;
    }
    testing::TempDir dir_;
    testing::ManualClock clock_;
    SqliteStore store_{dir_.File("weft.db"), 1, true};
    AccountService service_{store_, clock_};
    PartnerId partner_ = 0;
};

TEST_F(AccountServiceTest, CreateReportsEveryMissingFieldAtOnce) {
    AccountInput in;
    in.user = UserInput{};
    in.user->email = std::optional<std::string>("not-an-email");
    auto r = service_.Create(partner_, in);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kValidationFailed);
    EXPECT_EQ(r.error().fields.count("name"), 1u);
    EXPECT_EQ(r.error().fields.count("externalid"), 1u);
    EXPECT_EQ(r.error().fields.count("user.email"), 1u);
}

TEST_F(AccountServiceTest, CreateWithUserStoresBoth) {
    AccountInput in;
    in.name = "Acme";
    in.externalid = "acme";
    in.user = UserInput{std::optional<std::string>("u-1"), std::optional<std::string>("Ann"), std::nullopt,
                        std::optional<std::string>("nl")};
    auto acc = service_.Create(partner_, in);
    ASSERT_TRUE(acc.ok());
    EXPECT_EQ(acc->created_at, clock_.Now());
    auto user = service_.FindUser(partner_, *acc, "u-1");
    ASSERT_TRUE(user.ok());
    EXPECT_EQ(user->name, "Ann");
    EXPECT_EQ(user->locale, "nl");
    EXPECT_FALSE(user->email.has_value());
}

TEST_F(AccountServiceTest, UpdateKeepsUnsetFieldsAndExpireStampsTime) {
    AccountInput in;
    in.name = "Acme";
    in.externalid = "acme";
    auto acc = service_.Create(partner_, in);
    clock_.Advance(1'000'000);
    AccountInput rename;
    rename.name = "Acme 2";
    auto updated = service_.Update(partner_, *acc, rename);
    ASSERT_TRUE(updated.ok());
    EXPECT_EQ(updated->externalid, "acme");
    EXPECT_EQ(updated->name, "Acme 2");
    EXPECT_EQ(updated->updated_at, clock_.Now());
    auto expired = service_.Expire(partner_, *updated);
    EXPECT_TRUE(expired->expired);
    EXPECT_EQ(expired->expired_at, clock_.Now());
}

TEST_F(AccountServiceTest, EmptyAndControlCharacterValuesAreRefused) {
    AccountInput in;
    in.name = "";
    in.externalid = std::string("a\nb");
    auto r = service_.Create(partner_, in);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().fields.at("name").size(), 1u);
    EXPECT_EQ(r.error().fields.at("externalid").size(), 1u);
}

}  // namespace
}  // namespace weft
