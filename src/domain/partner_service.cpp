#include "domain/partner_service.h"

#include <charconv>

#include "core/crypto.h"
#include "core/ids.h"

namespace weft {

namespace {

constexpr int kMaxLimit = 1'000'000;

Error Unauthenticated() {
    return {ErrorCode::kUnauthenticated, "Missing or invalid X-App-Id / X-Api-Key credentials.", {}, {}};
}

void Apply(const PartnerLimitsPatch& patch, PartnerLimits& limits) {
    if (patch.rate_limit) limits.rate_limit = *patch.rate_limit;
    if (patch.queue_cap) limits.queue_cap = *patch.queue_cap;
    if (patch.concurrency) limits.concurrency = *patch.concurrency;
}

}  // namespace

FieldErrors ValidateLimits(const PartnerLimitsPatch& limits) {
    FieldErrors errors;
    auto check = [&](const char* field, const std::optional<int>& v) {
        if (v && (*v < 1 || *v > kMaxLimit)) {
            errors[field].push_back("must be an integer from 1 to " + std::to_string(kMaxLimit));
        }
    };
    check("rate_limit", limits.rate_limit);
    check("queue_cap", limits.queue_cap);
    check("concurrency", limits.concurrency);
    return errors;
}

Result<NewPartnerKey> PartnerService::Create(std::string_view name, const PartnerLimitsPatch& limits) {
    FieldErrors errors = ValidateLimits(limits);
    if (name.empty() || name.size() > 255) errors["name"].push_back("is required, at most 255 characters");
    if (!errors.empty()) return Error::Validation(std::move(errors));
    const Micros now = clock_.Now();
    Partner p;
    p.guid = NewGuid(now);
    p.name = std::string(name);
    Apply(limits, p.limits);
    p.created_at = p.updated_at = now;
    auto created = store_.CreatePartner(p);
    if (!created) return std::move(created).error();
    auto key = AddKey(created->app_id);
    if (!key) return std::move(key).error();
    key->partner = *created;
    return key;
}

Result<Partner> PartnerService::UpdateLimits(PartnerId app_id, const PartnerLimitsPatch& limits) {
    FieldErrors errors = ValidateLimits(limits);
    if (!errors.empty()) return Error::Validation(std::move(errors));
    auto partner = store_.GetPartner(app_id);
    if (!partner) return partner;
    PartnerLimits merged = partner->limits;
    Apply(limits, merged);
    return store_.UpdatePartnerLimits(app_id, merged, clock_.Now());
}

Result<NewPartnerKey> PartnerService::AddKey(PartnerId app_id) {
    auto partner = store_.GetPartner(app_id);
    if (!partner) return std::move(partner).error();
    NewPartnerKey out;
    out.partner = *partner;
    out.api_key = RandomToken(kApiKeyLength);
    ApiKey key;
    key.app_id = app_id;
    key.prefix = out.api_key.substr(0, 6);
    key.hash_hex = Sha256Hex(out.api_key);
    key.created_at = clock_.Now();
    auto stored = store_.AddApiKey(key);
    if (!stored) return std::move(stored).error();
    out.key = *stored;
    return out;
}

Status PartnerService::RevokeKey(PartnerId app_id, std::int64_t key_id) {
    return store_.RevokeApiKey(app_id, key_id, clock_.Now());
}

Result<std::vector<Partner>> PartnerService::List() { return store_.ListPartners(); }

Result<std::vector<ApiKey>> PartnerService::Keys(PartnerId app_id) { return store_.ListApiKeys(app_id); }

Result<Partner> PartnerService::Authenticate(std::string_view app_id, std::string_view api_key) {
    auto call = AuthenticateCall(app_id, api_key, std::nullopt);
    if (!call) return std::move(call).error();
    return std::move(call->partner);
}

Result<PartnerService::AuthorizedCall> PartnerService::AuthenticateCall(std::string_view app_id_text,
                                                                        std::string_view api_key,
                                                                        std::optional<std::string_view> account_key,
                                                                        bool defer_check) {
    PartnerId app_id = 0;
    const auto* end = app_id_text.data() + app_id_text.size();
    auto [ptr, ec] = std::from_chars(app_id_text.data(), end, app_id);
    if (app_id_text.empty() || ec != std::errc{} || ptr != end || app_id <= 0 || api_key.empty() ||
        api_key.size() > 256) {
        return Unauthenticated();
    }
    auto creds = store_.GetPartnerCredentials(app_id, account_key, false, defer_check);
    if (!creds) {
        if (creds.error().code == ErrorCode::kNotFound) return Unauthenticated();
        return std::move(creds).error();
    }
    const std::string presented = Sha256Hex(api_key);
    auto matches = [&](const PartnerCredentials& c) {
        bool match = false;
        // Compare against every active key without stopping early: timing says nothing about which matched.
        for (const auto& hash : c.active_key_hashes) match |= ConstantTimeEquals(presented, hash);
        return match;
    };
    if (!matches(*creds) && creds->from_memory) {
        // A key added moments ago by another process (`weft partner key-add`) works at once: a refusal from
        // memory is checked against the database before it is given.
        creds = store_.GetPartnerCredentials(app_id, account_key, true);
        if (!creds && creds.error().code == ErrorCode::kNotFound) return Unauthenticated();
        if (!creds) return std::move(creds).error();
    }
    if (!matches(*creds)) return Unauthenticated();
    return AuthorizedCall{std::move(creds->partner), std::move(creds->account), creds->lookup_token,
                          creds->unconfirmed_epoch};
}

}  // namespace weft
