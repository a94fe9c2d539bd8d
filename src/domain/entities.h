#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace weft {

// A partner's numeric app id. Every store query about partner-owned data takes one: tenant isolation is
// enforced by the store, not left to handlers.
using PartnerId = std::int64_t;

struct PartnerLimits {
    int rate_limit = 300;  // calls per 60-second window, per account and for the partner's own window
    int queue_cap = 200;   // queued runs per account
    int concurrency = 5;   // running runs per account
};

struct Partner {
    PartnerId app_id = 0;
    std::string guid;
    std::string name;
    PartnerLimits limits;
    Micros created_at = 0;
    Micros updated_at = 0;
};

// An API key as stored: only its SHA-256 hash is kept; `prefix` lets an operator tell keys apart.
struct ApiKey {
    std::int64_t id = 0;
    PartnerId app_id = 0;
    std::string prefix;
    std::string hash_hex;
    Micros created_at = 0;
    std::optional<Micros> revoked_at;
};

struct Account {
    std::int64_t id = 0;
    PartnerId partner_id = 0;
    std::string guid;
    std::string externalid;
    std::string name;
    bool expired = false;
    std::optional<Micros> expired_at;
    Micros created_at = 0;
    Micros updated_at = 0;
};

struct User {
    std::int64_t id = 0;
    std::int64_t account_id = 0;
    std::string guid;
    std::optional<std::string> externalid;
    std::optional<std::string> name;
    std::optional<std::string> email;
    std::optional<std::string> locale;
    Micros created_at = 0;
    Micros updated_at = 0;
};

// A slice of a collection: `offset` items skipped, at most `limit` returned.
struct PageRequest {
    std::int64_t offset = 0;
    std::int64_t limit = 100;
};

template <typename T>
struct Page {
    std::vector<T> items;
    std::int64_t total = 0;
};

struct AccountFilter {
    std::optional<std::string> externalid;
    std::optional<std::string> search;  // case-insensitive substring of the name
};

}  // namespace weft
