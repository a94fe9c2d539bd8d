#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "domain/entities.h"

namespace weft {

// Changes to an account; unset fields are left as they are.
struct AccountPatch {
    std::optional<std::string> externalid;
    std::optional<std::string> name;
    std::optional<bool> expired;
    Micros now = 0;
};

struct UserPatch {
    std::optional<std::optional<std::string>> externalid;
    std::optional<std::optional<std::string>> name;
    std::optional<std::optional<std::string>> email;
    std::optional<std::optional<std::string>> locale;
    Micros now = 0;
};

// A partner and its active key hashes, as needed to authenticate one request, and the account the request
// addresses when it names one (looked up in the same snapshot: one read transaction per API call).
struct PartnerCredentials {
    Partner partner;
    std::vector<std::string> active_key_hashes;
    std::optional<Account> account;  // set when an account key was given and that account exists
};

// The storage port. Implementations: SQLite (embedded default) and PostgreSQL (scale-out).
//
// Every method is blocking and thread-safe: callers run it on the blocking pool, never on an I/O thread.
// Every method about partner-owned data takes the PartnerId and must only ever see that partner's rows;
// another partner's object is reported as not found. Guids and timestamps are chosen by the caller
// (services own the clock and the id generator), so the store stays deterministic.
class Store {
  public:
    virtual ~Store() = default;

    // Health: the database answers and the schema is current.
    virtual Status Ping() = 0;

    // --- Partners and keys (operator CLI and authentication) ---
    virtual Result<Partner> CreatePartner(const Partner& partner) = 0;
    virtual Result<Partner> UpdatePartnerLimits(PartnerId app_id, const PartnerLimits& limits, Micros now) = 0;
    virtual Result<Partner> GetPartner(PartnerId app_id) = 0;
    virtual Result<std::vector<Partner>> ListPartners() = 0;
    virtual Result<ApiKey> AddApiKey(const ApiKey& key) = 0;
    virtual Status RevokeApiKey(PartnerId app_id, std::int64_t key_id, Micros now) = 0;
    virtual Result<std::vector<ApiKey>> ListApiKeys(PartnerId app_id) = 0;
    // `account_key` (guid or externalid) is looked up among this partner's accounts only.
    virtual Result<PartnerCredentials> GetPartnerCredentials(PartnerId app_id,
                                                             std::optional<std::string_view> account_key) = 0;

    // --- Accounts ---
    // Creates the account and, when given, its first user, in one transaction. Duplicate externalid: conflict.
    virtual Result<Account> CreateAccount(const Account& account, const std::optional<User>& first_user) = 0;
    // By guid first, then by externalid.
    virtual Result<Account> FindAccount(PartnerId partner, std::string_view guid_or_externalid) = 0;
    virtual Result<Page<Account>> ListAccounts(PartnerId partner, const AccountFilter& filter,
                                               const PageRequest& page) = 0;
    virtual Result<Account> UpdateAccount(PartnerId partner, std::int64_t account_id, const AccountPatch& patch) = 0;
    // Removes the account and everything in it.
    virtual Status DeleteAccount(PartnerId partner, std::int64_t account_id) = 0;

    // --- Users of an account ---
    virtual Result<User> CreateUser(PartnerId partner, const User& user) = 0;
    virtual Result<User> FindUser(PartnerId partner, std::int64_t account_id, std::string_view guid_or_externalid) = 0;
    virtual Result<Page<User>> ListUsers(PartnerId partner, std::int64_t account_id, const PageRequest& page) = 0;
    virtual Result<User> UpdateUser(PartnerId partner, std::int64_t account_id, std::int64_t user_id,
                                    const UserPatch& patch) = 0;
    virtual Status DeleteUser(PartnerId partner, std::int64_t account_id, std::int64_t user_id) = 0;
};

}  // namespace weft
