#pragma once

#include <optional>
#include <string>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "domain/account_service.h"
#include "domain/definitions.h"
#include "domain/store.h"

namespace weft {

// Fields of a create or update; unset ones are left as they are (create: defaults).
struct AutomationInput {
    std::optional<std::string> name;
    std::optional<std::string> short_description;
    std::optional<std::string> description;
    NullableField icon, icon2, icon3;
    std::optional<std::string> state;
    NullableField schedule_start_at;  // "YYYY-MM-DD HH:MM:SS" in the schedule's time zone
    NullableField schedule_stop_at;
    std::optional<std::int64_t> schedule_interval;
    std::optional<std::string> schedule_timezone;
    std::optional<json::value> definition;
};

// Automations inside accounts (API.md section 7).
class AutomationService {
  public:
    AutomationService(Store& store, const Clock& clock, const DefinitionChecker& checker)
        : store_(store), clock_(clock), checker_(checker) {}

    Result<Automation> Create(PartnerId partner, const Account& account, const AutomationInput& input);
    Result<Automation> Find(PartnerId partner, const Account& account, std::string_view key) {
        return store_.FindAutomation(partner, account.id, key);
    }
    // Find, to start a run of it (Store::FindAutomationToRun: possibly from memory).
    Result<Automation> FindToRun(PartnerId partner, const Account& account, std::string_view key,
                                 std::uint64_t lookup_token) {
        return store_.FindAutomationToRun(partner, account.id, key, lookup_token);
    }
    Result<Page<Automation>> List(PartnerId partner, const Account& account, const PageRequest& page) {
        return store_.ListAutomations(partner, account.id, page);
    }
    Result<Automation> Update(PartnerId partner, const Automation& automation, const AutomationInput& input);
    Status Delete(PartnerId partner, const Automation& automation) {
        return store_.DeleteAutomation(partner, automation.account_id, automation.id);
    }
    Result<Automation> RotateExecutionToken(PartnerId partner, const Automation& automation);
    // Persisted top inputs only; a required one cannot be null.
    Status SetPersistedInputs(PartnerId partner, const Automation& automation, const json::object& values);
    // The automation with `values` merged into its persisted inputs, checked as SetPersistedInputs does; not saved.
    Result<Automation> WithPersistedInputs(const Automation& automation, const json::object& values) const;

    // The definition's inputs, run mode and flows (for the API's `inputs`, `has_setup`, ...).
    Result<DefinitionInfo> Describe(const Automation& automation) const;

  private:
    Result<Automation> Apply(Automation automation, const AutomationInput& input, bool creating);

    Store& store_;
    const Clock& clock_;
    const DefinitionChecker& checker_;
};

// The schedule intervals the API accepts, in seconds (-1 off, 0 once).
bool IsAllowedScheduleInterval(std::int64_t seconds);

// "YYYY-MM-DD HH:MM:SS" local time in IANA zone `tz` -> UTC microseconds; nullopt when either is invalid.
std::optional<Micros> LocalToUtc(std::string_view local, const std::string& tz);
std::string UtcToLocal(Micros utc, const std::string& tz);
bool IsKnownTimeZone(const std::string& tz);

}  // namespace weft
