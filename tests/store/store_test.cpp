#include <gtest/gtest.h>

#include <set>

#include "core/ids.h"
#include "store/sql/migrations.h"
#include "store_backends.h"

namespace weft {
namespace {

class StoreTest : public ::testing::TestWithParam<testing::Backend> {
  protected:
    void SetUp() override {
        WEFT_REQUIRE_BACKEND(backend_);
        store_ = backend_.Open(2, true);
        a_ = MakePartner("A");
        b_ = MakePartner("B");
    }

    PartnerId MakePartner(const std::string& name) {
        Partner p;
        p.guid = NewGuid(now_);
        p.name = name;
        p.created_at = p.updated_at = now_;
        auto r = store_->CreatePartner(p);
        EXPECT_TRUE(r.ok());
        return r->app_id;
    }

    Account MakeAccount(PartnerId partner, const std::string& externalid, const std::string& name = "Acme") {
        Account a;
        a.partner_id = partner;
        a.guid = NewGuid(now_);
        a.externalid = externalid;
        a.name = name;
        a.created_at = a.updated_at = now_;
        auto r = store_->CreateAccount(a, std::nullopt);
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().detail);
        return r.ok() ? *r : Account{};
    }

    testing::TestBackend backend_{GetParam()};
    std::unique_ptr<SqlStore> store_;
    Micros now_ = 1'795'851'521'000'000;
    PartnerId a_ = 0, b_ = 0;
};

TEST_P(StoreTest, FindsAccountByGuidAndByExternalid) {
    const Account acc = MakeAccount(a_, "cust-1");
    auto by_guid = store_->FindAccount(a_, acc.guid);
    ASSERT_TRUE(by_guid.ok());
    EXPECT_EQ(by_guid->externalid, "cust-1");
    auto by_ext = store_->FindAccount(a_, "cust-1");
    ASSERT_TRUE(by_ext.ok());
    EXPECT_EQ(by_ext->guid, acc.guid);
}

TEST_P(StoreTest, AnotherPartnersAccountIsNotFound) {
    const Account acc = MakeAccount(a_, "cust-1");
    EXPECT_EQ(store_->FindAccount(b_, acc.guid).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->FindAccount(b_, "cust-1").error().code, ErrorCode::kNotFound);
    AccountPatch patch;
    patch.name = "stolen";
    EXPECT_EQ(store_->UpdateAccount(b_, acc.id, patch).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->DeleteAccount(b_, acc.id).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->ListAccounts(b_, {}, {}).value().total, 0);
    User u;
    u.account_id = acc.id;
    u.guid = NewGuid(now_);
    EXPECT_EQ(store_->CreateUser(b_, u).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->FindAccount(a_, acc.guid)->name, "Acme");
}

TEST_P(StoreTest, ExternalidIsUniquePerPartnerOnly) {
    MakeAccount(a_, "same");
    Account dup;
    dup.partner_id = a_;
    dup.guid = NewGuid(now_);
    dup.externalid = "same";
    dup.name = "x";
    auto r = store_->CreateAccount(dup, std::nullopt);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kConflict);
    MakeAccount(b_, "same");
}

TEST_P(StoreTest, ListPagesAndFilters) {
    for (int i = 0; i < 25; ++i) MakeAccount(a_, "c" + std::to_string(i), i % 5 == 0 ? "Big Corp" : "small shop");
    auto page = store_->ListAccounts(a_, {}, {10, 10});
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->total, 25);
    ASSERT_EQ(page->items.size(), 10u);
    EXPECT_EQ(page->items[0].externalid, "c10");
    AccountFilter search;
    search.search = "big";
    EXPECT_EQ(store_->ListAccounts(a_, search, {0, 100})->total, 5);
    AccountFilter ext;
    ext.externalid = "c7";
    auto one = store_->ListAccounts(a_, ext, {0, 100});
    ASSERT_EQ(one->items.size(), 1u);
    EXPECT_EQ(one->items[0].externalid, "c7");
    EXPECT_TRUE(store_->ListAccounts(a_, {}, {100, 100})->items.empty());
}

TEST_P(StoreTest, ExpireAndReactivate) {
    const Account acc = MakeAccount(a_, "e");
    AccountPatch expire;
    expire.expired = true;
    expire.now = now_ + 5;
    auto expired = store_->UpdateAccount(a_, acc.id, expire);
    ASSERT_TRUE(expired.ok());
    EXPECT_TRUE(expired->expired);
    EXPECT_EQ(expired->expired_at, now_ + 5);
    AccountPatch again = expire;
    again.now = now_ + 10;
    EXPECT_EQ(store_->UpdateAccount(a_, acc.id, again)->expired_at, now_ + 5);  // first expiry is kept
    AccountPatch revive;
    revive.expired = false;
    revive.now = now_ + 20;
    auto revived = store_->UpdateAccount(a_, acc.id, revive);
    EXPECT_FALSE(revived->expired);
    EXPECT_FALSE(revived->expired_at.has_value());
}

TEST_P(StoreTest, DeleteCascadesToUsersAndFreesTheExternalid) {
    const Account acc = MakeAccount(a_, "gone");
    User u;
    u.account_id = acc.id;
    u.guid = NewGuid(now_);
    u.externalid = "u1";
    ASSERT_TRUE(store_->CreateUser(a_, u).ok());
    ASSERT_TRUE(store_->DeleteAccount(a_, acc.id).ok());
    EXPECT_EQ(store_->FindUser(a_, acc.id, "u1").error().code, ErrorCode::kNotFound);
    EXPECT_EQ(store_->FindAccount(a_, "gone").error().code, ErrorCode::kNotFound);
    MakeAccount(a_, "gone");
}

TEST_P(StoreTest, RevokedKeysAreNotCredentials) {
    ApiKey k1{0, a_, "aaaaaa", "hash1", now_, std::nullopt};
    ApiKey k2{0, a_, "bbbbbb", "hash2", now_, std::nullopt};
    auto s1 = store_->AddApiKey(k1);
    ASSERT_TRUE(store_->AddApiKey(k2).ok());
    ASSERT_TRUE(store_->RevokeApiKey(a_, s1->id, now_).ok());
    auto creds = store_->GetPartnerCredentials(a_, std::nullopt);
    ASSERT_TRUE(creds.ok());
    EXPECT_EQ(creds->active_key_hashes, std::vector<std::string>{"hash2"});
    EXPECT_EQ(store_->RevokeApiKey(b_, s1->id, now_).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreTest, CredentialsCarryTheAddressedAccountOfThatPartnerOnly) {
    ASSERT_TRUE(store_->AddApiKey({0, a_, "aaaaaa", "hash1", now_, std::nullopt}).ok());
    ASSERT_TRUE(store_->AddApiKey({0, a_, "bbbbbb", "hash2", now_, std::nullopt}).ok());
    const Account acc = MakeAccount(a_, "mine");
    auto own = store_->GetPartnerCredentials(a_, std::string_view("mine"));
    ASSERT_TRUE(own.ok());
    ASSERT_TRUE(own->account.has_value());
    EXPECT_EQ(own->account->guid, acc.guid);
    auto by_guid = store_->GetPartnerCredentials(a_, std::string_view(acc.guid));
    EXPECT_EQ(by_guid->account->externalid, "mine");
    auto other = store_->GetPartnerCredentials(b_, std::string_view(acc.guid));
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE(other->account.has_value());
    EXPECT_EQ(store_->GetPartnerCredentials(999, std::nullopt).error().code, ErrorCode::kNotFound);
    // An account whose externalid is another account's guid: the guid wins, as in FindAccount; every active key
    // is still there once.
    const Account shadow = MakeAccount(a_, acc.guid, "Shadow");
    auto both = store_->GetPartnerCredentials(a_, std::string_view(acc.guid));
    ASSERT_TRUE(both.ok());
    EXPECT_EQ(both->account->id, acc.id);
    EXPECT_EQ(store_->FindAccount(a_, acc.guid)->id, acc.id);
    EXPECT_EQ(both->active_key_hashes, (std::vector<std::string>{"hash1", "hash2"}));
    EXPECT_EQ(own->active_key_hashes, (std::vector<std::string>{"hash1", "hash2"}));
    EXPECT_EQ(store_->GetPartnerCredentials(a_, std::string_view("nobody"))->account, std::nullopt);
    EXPECT_NE(shadow.id, acc.id);
}

TEST_P(StoreTest, ReopeningAppliesNothingTwiceAndPingIsReady) {
    EXPECT_TRUE(store_->Ping().ok());
    MakeAccount(a_, "kept");
    store_.reset();
    store_ = backend_.Open(1, true);
    EXPECT_EQ(store_->Migrate(), 0);
    EXPECT_TRUE(store_->FindAccount(a_, "kept").ok());
}

TEST_P(StoreTest, RefusesASchemaNewerThanTheBinary) {
    auto w = store_->database().Write([](sql::Connection& c) -> Status {
        c.Exec("INSERT INTO schema_migrations (version, description, applied_at) VALUES (9999, 'future', 0)");
        return Ok();
    });
    ASSERT_TRUE(w.ok());
    store_.reset();
    EXPECT_THROW(backend_.Open(1, true), std::runtime_error);
}

TEST_P(StoreTest, UnmigratedDatabaseIsNotReady) {
    auto fresh = backend_.Open(1, false, "fresh");
    EXPECT_FALSE(fresh->Ping().ok());
    EXPECT_EQ(fresh->Migrate(), static_cast<int>(sql::Migrations().size()));
    EXPECT_TRUE(fresh->Ping().ok());
}

TEST(MigrationsTest, VersionsAreOneToNEachOnce) {
    // A repeated version would be skipped as applied on every database that has the first one.
    std::set<int> versions;
    for (const auto& m : sql::Migrations()) EXPECT_TRUE(versions.insert(m.version).second) << m.version;
    ASSERT_FALSE(versions.empty());
    EXPECT_EQ(*versions.begin(), 1);
    EXPECT_EQ(*versions.rbegin(), static_cast<int>(versions.size()));
    EXPECT_EQ(sql::LatestVersion(), static_cast<int>(versions.size()));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values(testing::Backend::kSqlite, testing::Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace weft
