#include "domain/automation_service.h"

#include <date/tz.h>

#include <array>
#include <sstream>

#include "core/crypto.h"
#include "core/ids.h"
#include "core/time_format.h"
#include "domain/schedule.h"

namespace weft {

namespace {

constexpr size_t kExecutionTokenLength = 40;
constexpr std::array<std::int64_t, 17> kIntervals = {-1,   0,     30,    60,    120,    300,    900,     1800,
                                                     3600, 14400, 43200, 86400, 172800, 604800, 1209600, 2592000};

void CheckOptionalText(const char* field, const NullableField& v, size_t max, FieldErrors& errors) {
    if (v && *v && (*v)->size() > max)
        errors[field].push_back("must be at most " + std::to_string(max) + " characters");
}

}  // namespace

bool IsAllowedScheduleInterval(std::int64_t seconds) {
    for (auto v : kIntervals) {
        if (v == seconds) return true;
    }
    return false;
}

bool IsKnownTimeZone(const std::string& tz) {
    try {
        (void)date::locate_zone(tz);
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

std::optional<Micros> LocalToUtc(std::string_view local, const std::string& tz) {
    // Parse as if UTC, then reinterpret the wall-clock time in the zone.
    auto as_utc = ParseUtcDateTime(local);
    if (!as_utc || local.size() != 19) return std::nullopt;
    try {
        const auto* zone = date::locate_zone(tz);
        const date::local_time<std::chrono::microseconds> lt{std::chrono::microseconds{*as_utc}};
        // Ambiguous or skipped local times (DST changes) resolve to the earliest valid instant.
        const auto zoned = date::zoned_time<std::chrono::microseconds>(zone, lt, date::choose::earliest);
        return zoned.get_sys_time().time_since_epoch().count();
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::string UtcToLocal(Micros utc, const std::string& tz) {
    try {
        const auto* zone = date::locate_zone(tz);
        const date::sys_time<std::chrono::seconds> st{std::chrono::seconds{utc / 1'000'000}};
        return date::format("%Y-%m-%d %H:%M:%S", date::zoned_time<std::chrono::seconds>(zone, st));
    } catch (const std::exception&) {
        return FormatTimestamp(utc);
    }
}

Result<DefinitionInfo> AutomationService::Describe(const Automation& automation) const {
    auto doc = ParseJson(automation.definition);
    if (!doc) return Error::Internal("stored definition is not JSON: " + doc.error().message);
    return checker_.Check(*doc);
}

Result<Automation> AutomationService::Apply(Automation b, const AutomationInput& in, bool creating) {
    FieldErrors errors;
    if (in.name) {
        if (in.name->empty() || in.name->size() > 255) errors["name"].push_back("must be 1 to 255 characters");
        b.name = *in.name;
    } else if (creating) {
        errors["name"].push_back("is required");
    }
    if (in.short_description) b.short_description = *in.short_description;
    if (in.description) b.description = *in.description;
    CheckOptionalText("icon", in.icon, 2048, errors);
    CheckOptionalText("icon2", in.icon2, 2048, errors);
    CheckOptionalText("icon3", in.icon3, 2048, errors);
    if (in.icon) b.icon = *in.icon;
    if (in.icon2) b.icon2 = *in.icon2;
    if (in.icon3) b.icon3 = *in.icon3;
    if (in.state) {
        if (*in.state != "available" && *in.state != "disabled") {
            errors["state"].push_back("must be \"available\" or \"disabled\"");
        }
        b.state = *in.state;
    }
    if (in.schedule_timezone) {
        if (!IsKnownTimeZone(*in.schedule_timezone)) {
            errors["schedule_timezone"].push_back("must be an IANA time zone name such as Europe/Brussels");
        } else {
            b.schedule_timezone = *in.schedule_timezone;
        }
    }
    if (in.schedule_interval) {
        if (!IsAllowedScheduleInterval(*in.schedule_interval)) {
            errors["schedule_interval"].push_back(
                "must be one of -1, 0, 30, 60, 120, 300, 900, 1800, 3600, 14400, 43200, 86400, 172800, 604800, "
                "1209600, 2592000");
        }
        b.schedule_interval = *in.schedule_interval;
    }
    auto set_time = [&](const char* field, const NullableField& v, std::optional<Micros>& out) {
        if (!v) return;
        if (!*v) {
            out.reset();
            return;
        }
        auto t = LocalToUtc(**v, b.schedule_timezone);
        if (!t) {
            errors[field].push_back("must be \"YYYY-MM-DD HH:MM:SS\" in schedule_timezone, or null");
        } else {
            out = *t;
        }
    };
    set_time("schedule_start_at", in.schedule_start_at, b.schedule_start_at);
    set_time("schedule_stop_at", in.schedule_stop_at, b.schedule_stop_at);
    if (b.schedule_start_at && b.schedule_stop_at && *b.schedule_stop_at <= *b.schedule_start_at &&
        !errors.count("schedule_stop_at")) {
        errors["schedule_stop_at"].push_back("must be after schedule_start_at");
    }
    if (in.definition) {
        auto info = checker_.Check(*in.definition);
        if (!info) return std::move(info).error();  // invalid_definition, with every fault
        b.definition = ToJson(*in.definition);
        b.run_mode = info->run_mode;
    } else if (creating) {
        errors["definition"].push_back("is required");
    }
    if (!errors.empty()) return Error::Validation(std::move(errors));
    // Re-arm the schedule only when something it depends on changed: a rename must not re-fire a one-off.
    if (creating || in.schedule_start_at || in.schedule_stop_at || in.schedule_interval || in.schedule_timezone ||
        in.state || in.definition) {
        b.next_fire_at = FirstTick(b, clock_.Now());
    }
    return b;
}

Result<Automation> AutomationService::Create(PartnerId partner, const Account& account, const AutomationInput& in) {
    const Micros now = clock_.Now();
    Automation b;
    b.account_id = account.id;
    b.guid = NewGuid(now);
    b.execution_token = RandomToken(kExecutionTokenLength);
    b.created_at = b.updated_at = now;
    auto applied = Apply(std::move(b), in, true);
    if (!applied) return applied;
    return store_.CreateAutomation(partner, *applied);
}

Result<Automation> AutomationService::Update(PartnerId partner, const Automation& automation,
                                             const AutomationInput& in) {
    auto applied = Apply(automation, in, false);
    if (!applied) return applied;
    applied->updated_at = clock_.Now();
    return store_.SaveAutomation(partner, *applied);
}

Result<Automation> AutomationService::RotateExecutionToken(PartnerId partner, const Automation& automation) {
    Automation b = automation;
    b.execution_token = RandomToken(kExecutionTokenLength);
    b.updated_at = clock_.Now();
    return store_.SaveAutomation(partner, b);
}

Status AutomationService::SetPersistedInputs(PartnerId partner, const Automation& automation,
                                             const json::object& values) {
    auto updated = WithPersistedInputs(automation, values);
    if (!updated) return std::move(updated).error();
    auto saved = store_.SaveAutomation(partner, *updated);
    if (!saved) return std::move(saved).error();
    return Ok();
}

Result<Automation> AutomationService::WithPersistedInputs(const Automation& automation,
                                                          const json::object& values) const {
    auto info = Describe(automation);
    if (!info) return std::move(info).error();
    auto current = ParseJson(automation.persisted_inputs);
    json::object persisted = current && current->is_object() ? current->as_object() : json::object{};
    FieldErrors errors;
    for (const auto& [key, value] : values) {
        const DefinitionInput* spec = nullptr;
        for (const auto& in : info->inputs) {
            if (in.field_name == key) spec = &in;
        }
        const std::string field(key);
        if (!spec || !spec->persisted) {
            errors[field].push_back("is not a persisted input of this automation");
        } else if (value.is_null() && spec->required) {
            errors[field].push_back("is required and cannot be null");
        } else {
            persisted[key] = value;
        }
    }
    if (!errors.empty()) return Error::Validation(std::move(errors));
    // Type-check the merged values the way a run would see them.
    for (const char* flow : {"start", "setup", "settings"}) {
        json::object typed_only;
        for (const auto& [k, v] : persisted) {
            if (!v.is_null()) typed_only[k] = v;
        }
        auto resolved = checker_.ResolveInputs(automation.definition, flow, typed_only, {});
        if (!resolved) {
            FieldErrors type_errors;
            for (const auto& [path, messages] : resolved.error().fields) {
                std::string name = path.rfind("inputs.", 0) == 0 ? path.substr(7) : path;
                // Missing required inputs of a flow are not this call's concern, wrong types are.
                for (const auto& m : messages) {
                    if (values.contains(name) && m.find("required") == std::string::npos) {
                        type_errors[name].push_back(m);
                    }
                }
            }
            if (!type_errors.empty()) return Error::Validation(std::move(type_errors));
        }
    }
    Automation b = automation;
    b.persisted_inputs = ToJson(persisted);
    b.updated_at = clock_.Now();
    return b;
}

}  // namespace weft
