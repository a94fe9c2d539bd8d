#include "domain/template_service.h"

#include <algorithm>
#include <tuple>

#include "core/crypto.h"
#include "core/ids.h"
#include "domain/schedule.h"

namespace weft {

namespace {

constexpr size_t kExecutionTokenLength = 40;
// A bundle may leave out its own definition: it then only groups its members.
constexpr const char* kEmptyDefinition = R"({"schema":1,"flows":{"start":[]}})";

void CheckText(const char* field, const std::optional<std::string>& v, size_t min, size_t max, FieldErrors& errors) {
    if (v && (v->size() < min || v->size() > max)) {
        errors[field].push_back("must be " + std::to_string(min) + " to " + std::to_string(max) + " characters");
    }
}

void CheckGroups(const json::array& groups, FieldErrors& errors) {
    for (size_t i = 0; i < groups.size(); ++i) {
        const std::string path = "groups[" + std::to_string(i) + "]";
        const auto* g = groups[i].if_object();
        if (!g) {
            errors[path].push_back("must be an object {group_id, group_name}");
            continue;
        }
        const auto* id = g->if_contains("group_id");
        const auto* name = g->if_contains("group_name");
        if (!id || !id->is_int64()) errors[path + ".group_id"].push_back("must be an integer");
        if (!name || !name->is_string()) errors[path + ".group_name"].push_back("must be a string");
        if (g->size() != 2 || !id || !name) errors[path].push_back("must have exactly group_id and group_name");
    }
}

// Whether the stored definition text and a new definition are the same document (key order aside).
bool SameDefinition(const std::string& stored, const json::value& next) {
    auto current = ParseJson(stored);
    return current && *current == next;
}

json::object ParsedObject(const std::string& text) {
    auto v = ParseJson(text);
    return v && v->is_object() ? v->as_object() : json::object{};
}

bool HasInput(const DefinitionInfo& info, std::string_view field, bool persisted_only) {
    for (const auto& in : info.inputs) {
        if (in.field_name == field && (!persisted_only || in.persisted)) return true;
    }
    return false;
}

}  // namespace

bool IsTemplateStatus(std::string_view status) {
    return status == "live" || status == "hidden" || status == "coming_soon";
}

Result<DefinitionInfo> TemplateService::Describe(const Template& tpl) const {
    auto doc = ParseJson(tpl.definition);
    if (!doc) return Error::Internal("stored template definition is not JSON: " + doc.error().message);
    return checker_.Check(*doc);
}

Result<std::vector<Template>> TemplateService::Members(PartnerId partner, const Template& tpl) {
    if (!tpl.isbundle) return std::vector<Template>{};
    return store_.ListTemplateMembers(partner, tpl.id);
}

Result<Template> TemplateService::Apply(Template t, const TemplateInput& in, bool creating, bool& new_version) {
    FieldErrors errors;
    new_version = false;
    CheckText("name", in.name, 1, 255, errors);
    if (in.name) {
        t.name = *in.name;
    } else if (creating) {
        errors["name"].push_back("is required");
    }
    if (in.short_description) t.short_description = *in.short_description;
    if (in.description) t.description = *in.description;
    for (auto [field, value, slot] : {std::tuple{"icon", &in.icon, &t.icon}, std::tuple{"icon2", &in.icon2, &t.icon2},
                                      std::tuple{"icon3", &in.icon3, &t.icon3}}) {
        if (!*value) continue;
        if (**value && (**value)->size() > 2048) errors[field].push_back("must be at most 2048 characters");
        *slot = **value;
    }
    if (in.status) {
        if (!IsTemplateStatus(*in.status)) errors["status"].push_back("must be one of live, hidden, coming_soon");
        t.status = *in.status;
    }
    if (in.isbundle) t.isbundle = *in.isbundle;
    if (in.sub_blends) t.sub_template_guids = *in.sub_blends;
    if (!t.isbundle) {
        if (in.sub_blends && !in.sub_blends->empty()) {
            errors["sub_blends"].push_back("only a bundle (isbundle true) has sub_blends");
        }
        t.sub_template_guids.clear();
    }
    if (in.groups) {
        CheckGroups(*in.groups, errors);
        t.groups = ToJson(*in.groups);
    }
    if (in.schedule_interval) {
        if (!IsAllowedScheduleInterval(*in.schedule_interval)) {
            errors["schedule_interval"].push_back(
                "must be one of -1, 0, 30, 60, 120, 300, 900, 1800, 3600, 14400, 43200, 86400, 172800, 604800, "
                "1209600, 2592000");
        }
        t.schedule_interval = *in.schedule_interval;
    }
    if (in.schedule_timezone) {
        if (!IsKnownTimeZone(*in.schedule_timezone)) {
            errors["schedule_timezone"].push_back("must be an IANA time zone name such as Europe/Brussels");
        }
        t.schedule_timezone = *in.schedule_timezone;
    }
    if (in.definition) {
        auto info = checker_.Check(*in.definition);
        if (!info) return std::move(info).error();  // invalid_definition, with every fault
        if (!creating && !SameDefinition(t.definition, *in.definition)) {
            new_version = true;
            ++t.version;
        }
        t.definition = ToJson(*in.definition);
    } else if (creating) {
        if (t.isbundle) {
            t.definition = kEmptyDefinition;
        } else {
            errors["definition"].push_back("is required");
        }
    }
    if (!errors.empty()) return Error::Validation(std::move(errors));
    return t;
}

Result<Template> TemplateService::Create(PartnerId partner, const TemplateInput& in) {
    const Micros now = clock_.Now();
    Template t;
    t.partner_id = partner;
    t.guid = NewGuid(now);
    t.version = 1;
    t.created_at = t.updated_at = now;
    bool new_version = false;
    auto applied = Apply(std::move(t), in, true, new_version);
    if (!applied) return applied;
    return store_.CreateTemplate(*applied);
}

Result<Template> TemplateService::Update(PartnerId partner, const Template& tpl, const TemplateInput& in) {
    bool new_version = false;
    auto applied = Apply(tpl, in, false, new_version);
    if (!applied) return applied;
    applied->updated_at = clock_.Now();
    return store_.SaveTemplate(partner, *applied, new_version);
}

Automation TemplateService::UpgradedTo(Automation b, const Template& tpl, const DefinitionInfo& info) const {
    const std::string old_mode = b.run_mode;
    b.definition = tpl.definition;
    b.template_guid = tpl.guid;
    b.template_version = tpl.version;
    b.run_mode = info.run_mode;
    b.updated_at = clock_.Now();
    // The schedule is kept; it only starts or stops when the new version changes whether it runs on one.
    if (b.run_mode != old_mode) b.next_fire_at = FirstTick(b, b.updated_at);
    return b;
}

Result<Automation> TemplateService::Push(PartnerId partner, const Automation& automation, const Template& tpl) {
    if (automation.template_guid != tpl.guid) {
        return Error::Invalid("The automation was not installed from this template.");
    }
    auto info = Describe(tpl);
    if (!info) return std::move(info).error();
    auto saved = store_.SaveAutomation(partner, UpgradedTo(automation, tpl, *info));
    if (!saved) return saved;
    if (automation.isbundle) {
        auto members = store_.ListBundleMembers(partner, automation.account_id, automation.id);
        if (!members) return std::move(members).error();
        for (const auto& m : *members) {
            if (!m.template_guid) continue;
            auto member_tpl = store_.FindTemplate(partner, *m.template_guid, std::nullopt);
            if (!member_tpl) {
                if (member_tpl.error().code == ErrorCode::kNotFound) continue;  // its template was deleted
                return std::move(member_tpl).error();
            }
            auto member_info = Describe(*member_tpl);
            if (!member_info) return std::move(member_info).error();
            if (auto r = store_.SaveAutomation(partner, UpgradedTo(m, *member_tpl, *member_info)); !r) {
                return std::move(r).error();
            }
        }
    }
    return saved;
}

Result<Installation> TemplateService::Install(const Partner& partner, const Account& account, const Template& tpl,
                                              const InstallRequest& request) {
    if (account.expired) {
        return Error{ErrorCode::kAccountExpired, "The account is expired: nothing can be installed into it.", {}, {}};
    }
    // One unit per automation the install makes: the template itself, then a bundle's members.
    struct InstallPart {
        Template tpl;
        DefinitionInfo info;
        json::object given;      // the install inputs this definition declares
        json::object persisted;  // those of them that are persisted
    };
    std::vector<InstallPart> units;
    units.push_back({tpl, {}, {}, {}});
    auto members = Members(partner.app_id, tpl);
    if (!members) return std::move(members).error();
    for (auto& m : *members) units.push_back({std::move(m), {}, {}, {}});
    for (auto& u : units) {
        auto info = Describe(u.tpl);
        if (!info) return std::move(info).error();
        u.info = std::move(*info);
    }

    FieldErrors errors;
    for (const auto& [key, value] : request.inputs) {
        bool known = false;
        for (auto& u : units) {
            if (!HasInput(u.info, key, false)) continue;
            known = true;
            u.given[key] = value;
            if (HasInput(u.info, key, true) && !value.is_null()) u.persisted[key] = value;
        }
        if (!known) errors["inputs." + std::string(key)].push_back("is not an input of this template");
    }
    if (!errors.empty()) return Error::Validation(std::move(errors));
    for (const auto& u : units) {
        // Types of every given input; with a Setup flow, also its required inputs (the Setup run needs them).
        auto resolved = checker_.ResolveInputs(u.tpl.definition, u.info.has_setup ? "setup" : "", u.given, {});
        if (!resolved) {
            for (auto& [field, messages] : resolved.error().fields) {
                auto& slot = errors[field];
                for (auto& m : messages) {
                    if (std::find(slot.begin(), slot.end(), m) == slot.end()) slot.push_back(m);
                }
            }
        }
    }
    if (!errors.empty()) return Error::Validation(std::move(errors));

    const Micros now = clock_.Now();
    Installation out;
    std::vector<Automation> installed;  // the main automation, then members
    if (request.prevent_duplicates) {
        json::object wanted;
        for (const auto& u : units) {
            for (const auto& [k, v] : u.persisted) wanted[k] = v;
        }
        auto instances = store_.FindTemplateInstances(partner.app_id, account.id, tpl.guid);
        if (!instances) return std::move(instances).error();
        for (const auto& inst : *instances) {
            json::object have = ParsedObject(inst.persisted_inputs);
            std::vector<Automation> inst_members;
            if (inst.isbundle) {
                auto ms = store_.ListBundleMembers(partner.app_id, account.id, inst.id);
                if (!ms) return std::move(ms).error();
                inst_members = std::move(*ms);
                for (const auto& m : inst_members) {
                    for (const auto& [k, v] : ParsedObject(m.persisted_inputs)) have[k] = v;
                }
            }
            if (have != wanted) continue;
            // The equal instance: to the template's latest version, schedule active again.
            auto pushed = Push(partner.app_id, inst, tpl);
            if (!pushed) return std::move(pushed).error();
            Automation b = *pushed;
            b.state = "available";
            b.next_fire_at = FirstTick(b, now);
            auto saved = store_.SaveAutomation(partner.app_id, b);
            if (!saved) return std::move(saved).error();
            installed.push_back(std::move(*saved));
            auto ms = store_.ListBundleMembers(partner.app_id, account.id, inst.id);
            if (!ms) return std::move(ms).error();
            for (auto& m : *ms) installed.push_back(std::move(m));
            out.created = false;
            break;
        }
    }
    if (installed.empty()) {
        std::vector<Automation> fresh;
        for (const auto& u : units) {
            Automation b;
            b.account_id = account.id;
            b.guid = NewGuid(now);
            b.name = u.tpl.name;
            b.short_description = u.tpl.short_description;
            b.description = u.tpl.description;
            b.icon = u.tpl.icon;
            b.icon2 = u.tpl.icon2;
            b.icon3 = u.tpl.icon3;
            b.definition = u.tpl.definition;
            b.run_mode = u.info.run_mode;
            b.template_guid = u.tpl.guid;
            b.template_version = u.tpl.version;
            b.persisted_inputs = ToJson(u.persisted);
            b.execution_token = RandomToken(kExecutionTokenLength);
            b.setup_complete = !u.info.has_setup;
            b.isbundle = u.tpl.isbundle;
            b.schedule_interval = u.tpl.schedule_interval;
            b.schedule_timezone = u.tpl.schedule_timezone;
            b.created_at = b.updated_at = now;
            b.next_fire_at = FirstTick(b, now);
            fresh.push_back(std::move(b));
        }
        const Automation main = fresh.front();
        fresh.erase(fresh.begin());
        auto created = store_.CreateInstalledAutomations(partner.app_id, main, fresh);
        if (!created) return std::move(created).error();
        installed = std::move(*created);
    }

    // Setup flows: the members' first, then the bundle's own.
    for (size_t i = installed.size(); i-- > 0;) {
        const Automation& b = installed[i];
        const InstallPart* unit = nullptr;
        for (const auto& u : units) {
            if (b.template_guid == u.tpl.guid) unit = &u;
        }
        if (!unit || !unit->info.has_setup) continue;
        RunRequest setup;
        setup.context = "setup";
        setup.flow = "setup";
        setup.inputs = unit->given;
        auto run = runs_.Submit(partner, account, b, setup);
        if (!run) {
            if (out.created) {
                // Undo the install: nothing is left of a refused call (members go with their bundle's delete).
                for (const auto& done : out.setup_runs) (void)runs_.Stop(partner.app_id, done);
                for (const auto& gone : installed) (void)store_.DeleteAutomation(partner.app_id, account.id, gone.id);
            }
            return std::move(run).error();
        }
        out.setup_runs.push_back(std::move(*run));
    }
    out.automation = installed.front();
    return out;
}

}  // namespace weft
