#include "domain/account_service.h"

#include "core/ids.h"

namespace weft {

namespace {

constexpr size_t kMaxNameLength = 255;

bool HasControlChars(std::string_view s) {
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) return true;
    }
    return false;
}

void CheckText(const std::string& field, const std::string& value, size_t max, FieldErrors& errors) {
    if (value.empty()) {
        errors[field].push_back("must not be empty");
    } else if (value.size() > max) {
        errors[field].push_back("must be at most " + std::to_string(max) + " characters");
    } else if (HasControlChars(value)) {
        errors[field].push_back("must not contain control characters");
    }
}

void CheckNullable(const std::string& field, const NullableField& value, size_t max, FieldErrors& errors) {
    if (value && *value) CheckText(field, **value, max, errors);
}

}  // namespace

void ValidateAccountFields(const AccountInput& input, bool creating, FieldErrors& errors) {
    if (input.name) {
        CheckText("name", *input.name, kMaxNameLength, errors);
    } else if (creating) {
        errors["name"].push_back("is required");
    }
    if (input.externalid) {
        CheckText("externalid", *input.externalid, kMaxNameLength, errors);
    } else if (creating) {
        errors["externalid"].push_back("is required");
    }
    if (input.user) ValidateUserFields(*input.user, "user.", errors);
}

void ValidateUserFields(const UserInput& input, const std::string& prefix, FieldErrors& errors) {
    CheckNullable(prefix + "externalid", input.externalid, kMaxNameLength, errors);
    CheckNullable(prefix + "name", input.name, kMaxNameLength, errors);
    CheckNullable(prefix + "email", input.email, 320, errors);
    CheckNullable(prefix + "locale", input.locale, 35, errors);
    if (input.email && *input.email && (*input.email)->find('@') == std::string::npos) {
        errors[prefix + "email"].push_back("must be an e-mail address");
    }
}

Result<Account> AccountService::Create(PartnerId partner, const AccountInput& input) {
    FieldErrors errors;
    ValidateAccountFields(input, true, errors);
    if (!errors.empty()) return Error::Validation(std::move(errors));
    const Micros now = clock_.Now();
    Account a;
    a.partner_id = partner;
    a.guid = NewGuid(now);
    a.externalid = *input.externalid;
    a.name = *input.name;
    a.expired = input.expired.value_or(false);
    if (a.expired) a.expired_at = now;
    a.created_at = a.updated_at = now;
    std::optional<User> first_user;
    if (input.user) {
        User u;
        u.guid = NewGuid(now);
        u.externalid = input.user->externalid.value_or(std::nullopt);
        u.name = input.user->name.value_or(std::nullopt);
        u.email = input.user->email.value_or(std::nullopt);
        u.locale = input.user->locale.value_or(std::nullopt);
        u.created_at = u.updated_at = now;
        first_user = std::move(u);
    }
    return store_.CreateAccount(a, first_user);
}

Result<Account> AccountService::Update(PartnerId partner, const Account& account, const AccountInput& input) {
    FieldErrors errors;
    ValidateAccountFields(input, false, errors);
    if (!errors.empty()) return Error::Validation(std::move(errors));
    AccountPatch patch{input.externalid, input.name, input.expired, clock_.Now()};
    auto updated = store_.UpdateAccount(partner, account.id, patch);
    if (!updated || !input.user) return updated;
    // `user` on update: the user with that externalid is updated, or created when new.
    const UserInput& u = *input.user;
    if (u.externalid && *u.externalid) {
        auto existing = store_.FindUser(partner, account.id, **u.externalid);
        if (existing) {
            auto r = UpdateUser(partner, *updated, *existing, u);
            if (!r) return std::move(r).error();
            return updated;
        }
    }
    auto created = CreateUser(partner, *updated, u);
    if (!created) return std::move(created).error();
    return updated;
}

Result<Account> AccountService::Expire(PartnerId partner, const Account& account) {
    AccountPatch patch;
    patch.expired = true;
    patch.now = clock_.Now();
    return store_.UpdateAccount(partner, account.id, patch);
}

Result<User> AccountService::CreateUser(PartnerId partner, const Account& account, const UserInput& input) {
    FieldErrors errors;
    ValidateUserFields(input, "", errors);
    if (!errors.empty()) return Error::Validation(std::move(errors));
    const Micros now = clock_.Now();
    User u;
    u.account_id = account.id;
    u.guid = NewGuid(now);
    u.externalid = input.externalid.value_or(std::nullopt);
    u.name = input.name.value_or(std::nullopt);
    u.email = input.email.value_or(std::nullopt);
    u.locale = input.locale.value_or(std::nullopt);
    u.created_at = u.updated_at = now;
    return store_.CreateUser(partner, u);
}

Result<User> AccountService::UpdateUser(PartnerId partner, const Account& account, const User& user,
                                        const UserInput& input) {
    FieldErrors errors;
    ValidateUserFields(input, "", errors);
    if (!errors.empty()) return Error::Validation(std::move(errors));
    UserPatch patch{input.externalid, input.name, input.email, input.locale, clock_.Now()};
    return store_.UpdateUser(partner, account.id, user.id, patch);
}

}  // namespace weft
