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

// An automation ("blend") inside an account. `definition` and `persisted_inputs` are JSON text.
struct Automation {
    std::int64_t id = 0;
    std::int64_t account_id = 0;
    std::string guid;
    std::string name;
    std::string short_description;
    std::string description;
    std::optional<std::string> icon, icon2, icon3;
    std::string state = "available";  // available | disabled
    std::string run_mode = "manual";  // manual | scheduled | triggered
    std::optional<Micros> schedule_start_at;
    std::optional<Micros> schedule_stop_at;
    std::int64_t schedule_interval = -1;
    std::string schedule_timezone = "UTC";
    std::string definition;
    std::optional<std::string> template_guid;
    std::optional<std::int64_t> template_version;
    std::string persisted_inputs = "{}";
    std::string execution_token;
    bool setup_complete = false;
    bool isbundle = false;                  // installed from a bundle template: groups the automations below
    std::optional<std::int64_t> bundle_id;  // the bundle automation this one was installed with, if any
    std::optional<Micros> last_run_at;
    std::optional<Micros> next_fire_at;  // the schedule's next tick (UTC); null when nothing is scheduled
    Micros created_at = 0;
    Micros updated_at = 0;
};

// A template (API.md section 7): an automation owned by the partner, installable into its accounts. Every
// definition change makes a new version; older versions are kept. `definition` is the JSON text of `version`.
struct Template {
    std::int64_t id = 0;
    PartnerId partner_id = 0;
    std::string guid;
    std::string name;
    std::string short_description;
    std::string description;
    std::optional<std::string> icon, icon2, icon3;
    std::string status = "live";  // live | hidden | coming_soon
    bool isbundle = false;
    std::vector<std::string> sub_template_guids;  // bundles: the member templates, in order
    std::string groups = "[]";                    // JSON [{group_id, group_name}]
    std::int64_t schedule_interval = -1;          // what an install starts with
    std::string schedule_timezone = "UTC";
    std::int64_t version = 1;
    std::string definition;
    Micros created_at = 0;
    Micros updated_at = 0;
};

// Run statuses (API.md section 9).
inline constexpr const char* kRunStatusQueued = "queued";
inline constexpr const char* kRunStatusRunning = "running";
inline constexpr const char* kRunStatusMustStop = "must stop";
inline constexpr const char* kRunStatusFinished = "finished";
inline constexpr const char* kRunStatusFinishedWithWarnings = "finished with warnings";
inline constexpr const char* kRunStatusFailed = "failed";
inline constexpr const char* kRunStatusStopped = "stopped";

// One run of an automation. `inputs`, `output`, `error` and `start_payload` are JSON text.
struct Run {
    std::int64_t id = 0;
    std::int64_t account_id = 0;
    std::int64_t automation_id = 0;
    std::string guid;
    std::string automation_guid;
    std::string status = kRunStatusQueued;
    std::string context = "api_async";
    std::string flow = "start";
    std::string inputs = "{}";
    std::optional<std::string> start_payload;
    std::optional<std::string> output;
    std::optional<std::string> error;
    std::optional<std::string> response;  // {"status", "headers"} set by an output block, for triggered calls
    int attempt = 1;
    int call_depth = 0;
    std::optional<std::string> idempotency_key;
    std::optional<Micros> schedule_starttime;
    std::optional<Micros> starttime;
    std::optional<Micros> stoptime;
    Micros created_at = 0;
    Micros updated_at = 0;

    bool Final() const {
        return status == kRunStatusFinished || status == kRunStatusFinishedWithWarnings || status == kRunStatusFailed ||
               status == kRunStatusStopped;
    }
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
