#pragma once

#include <memory>
#include <string>

#include "domain/store.h"
#include "store/sqlite/sqlite_db.h"

namespace weft {

// The embedded default store: one SQLite file in the data folder.
class SqliteStore final : public Store {
  public:
    // Opens (creating when missing) the database file. Throws when it cannot be opened, or when its schema is
    // newer than this binary knows. `migrate` applies pending migrations; without it, pending migrations
    // make Ping() report the store as not ready.
    SqliteStore(const std::string& path, int readers, bool migrate);

    // Applies pending migrations, each in its own transaction. Returns how many were applied.
    int Migrate();
    int SchemaVersion();

    Status Ping() override;

    Result<Partner> CreatePartner(const Partner& partner) override;
    Result<Partner> UpdatePartnerLimits(PartnerId app_id, const PartnerLimits& limits, Micros now) override;
    Result<Partner> GetPartner(PartnerId app_id) override;
    Result<std::vector<Partner>> ListPartners() override;
    Result<ApiKey> AddApiKey(const ApiKey& key) override;
    Status RevokeApiKey(PartnerId app_id, std::int64_t key_id, Micros now) override;
    Result<std::vector<ApiKey>> ListApiKeys(PartnerId app_id) override;
    Result<PartnerCredentials> GetPartnerCredentials(PartnerId app_id,
                                                     std::optional<std::string_view> account_key) override;

    Result<Account> CreateAccount(const Account& account, const std::optional<User>& first_user) override;
    Result<Account> FindAccount(PartnerId partner, std::string_view guid_or_externalid) override;
    Result<Page<Account>> ListAccounts(PartnerId partner, const AccountFilter& filter,
                                       const PageRequest& page) override;
    Result<Account> UpdateAccount(PartnerId partner, std::int64_t account_id, const AccountPatch& patch) override;
    Status DeleteAccount(PartnerId partner, std::int64_t account_id) override;

    Result<User> CreateUser(PartnerId partner, const User& user) override;
    Result<User> FindUser(PartnerId partner, std::int64_t account_id, std::string_view guid_or_externalid) override;
    Result<Page<User>> ListUsers(PartnerId partner, std::int64_t account_id, const PageRequest& page) override;
    Result<User> UpdateUser(PartnerId partner, std::int64_t account_id, std::int64_t user_id,
                            const UserPatch& patch) override;
    Status DeleteUser(PartnerId partner, std::int64_t account_id, std::int64_t user_id) override;

  private:
    std::unique_ptr<sqlite::Database> db_;
};

}  // namespace weft
