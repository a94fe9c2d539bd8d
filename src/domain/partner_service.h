#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "domain/store.h"

namespace weft {

struct NewPartnerKey {
    Partner partner;
    ApiKey key;
    std::string api_key;  // the secret itself: shown once, never stored
};

struct PartnerLimitsPatch {
    std::optional<int> rate_limit;
    std::optional<int> queue_cap;
    std::optional<int> concurrency;
};

// Partners and their API keys: operator commands and request authentication.
class PartnerService {
  public:
    static constexpr size_t kApiKeyLength = 48;

    PartnerService(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

    Result<NewPartnerKey> Create(std::string_view name, const PartnerLimitsPatch& limits);
    Result<Partner> UpdateLimits(PartnerId app_id, const PartnerLimitsPatch& limits);
    Result<NewPartnerKey> AddKey(PartnerId app_id);
    Status RevokeKey(PartnerId app_id, std::int64_t key_id);
    Result<std::vector<Partner>> List();
    Result<std::vector<ApiKey>> Keys(PartnerId app_id);

    // Checks X-App-Id / X-Api-Key. Any failure is `unauthenticated` with the same message, so a caller
    // learns nothing about which part was wrong.
    Result<Partner> Authenticate(std::string_view app_id, std::string_view api_key);

    // Authenticate, and look up the account the call addresses (guid or externalid) in the same snapshot.
    // `account` in the result is empty when that partner has no such account.
    // `defer_check`: see Store::GetPartnerCredentials; the caller confirms `unconfirmed_epoch`, when there is
    // one, before it relies on the result (RateLimiter::AdmitConfirming), and asks again without it when that
    // fails.
    struct AuthorizedCall {
        Partner partner;
        std::optional<Account> account;
        std::uint64_t lookup_token = 0;                 // PartnerCredentials::lookup_token
        std::optional<std::int64_t> unconfirmed_epoch;  // PartnerCredentials::unconfirmed_epoch
    };
    Result<AuthorizedCall> AuthenticateCall(std::string_view app_id, std::string_view api_key,
                                            std::optional<std::string_view> account_key, bool defer_check = false);

  private:
    Store& store_;
    const Clock& clock_;
};

// Validates a limits patch: each value must be positive and sane.
FieldErrors ValidateLimits(const PartnerLimitsPatch& limits);

}  // namespace weft
