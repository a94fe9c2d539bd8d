#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "domain/store.h"

namespace weft {

// A nullable string field of a request: absent (outer nullopt), null (inner nullopt) or a value.
using NullableField = std::optional<std::optional<std::string>>;

struct UserInput {
    NullableField externalid;
    NullableField name;
    NullableField email;
    NullableField locale;
};

struct AccountInput {
    std::optional<std::string> name;
    std::optional<std::string> externalid;
    std::optional<bool> expired;
    std::optional<UserInput> user;
};

// Accounts and their users: the rules of section 6 of the API contract.
class AccountService {
  public:
    AccountService(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

    Result<Account> Create(PartnerId partner, const AccountInput& input);
    Result<Account> Find(PartnerId partner, std::string_view key) { return store_.FindAccount(partner, key); }
    Result<Page<Account>> List(PartnerId partner, const AccountFilter& filter, const PageRequest& page) {
        return store_.ListAccounts(partner, filter, page);
    }
    Result<Account> Update(PartnerId partner, const Account& account, const AccountInput& input);
    Result<Account> Expire(PartnerId partner, const Account& account);
    Status Delete(PartnerId partner, const Account& account) { return store_.DeleteAccount(partner, account.id); }

    Result<User> CreateUser(PartnerId partner, const Account& account, const UserInput& input);
    Result<User> FindUser(PartnerId partner, const Account& account, std::string_view key) {
        return store_.FindUser(partner, account.id, key);
    }
    Result<Page<User>> ListUsers(PartnerId partner, const Account& account, const PageRequest& page) {
        return store_.ListUsers(partner, account.id, page);
    }
    Result<User> UpdateUser(PartnerId partner, const Account& account, const User& user, const UserInput& input);
    Status DeleteUser(PartnerId partner, const Account& account, const User& user) {
        return store_.DeleteUser(partner, account.id, user.id);
    }

  private:
    Store& store_;
    const Clock& clock_;
};

// Field rules shared by create and update; `prefix` names nested fields ("user.email").
void ValidateAccountFields(const AccountInput& input, bool creating, FieldErrors& errors);
void ValidateUserFields(const UserInput& input, const std::string& prefix, FieldErrors& errors);

}  // namespace weft
