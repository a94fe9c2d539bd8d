#include "domain/automation_flows.h"

namespace weft {

namespace {

bool DeclaresPersisted(const DefinitionInfo& info, std::string_view field) {
    for (const auto& in : info.inputs) {
        if (in.field_name == field && in.persisted) return true;
    }
    return false;
}

}  // namespace

Status AutomationFlows::SetPersistedInputs(const Partner& partner, const Account& account, const Automation& automation,
                                           const json::object& values) {
    std::vector<Automation> targets;
    if (automation.isbundle) {
        auto members = store_.ListBundleMembers(partner.app_id, account.id, automation.id);
        if (!members) return std::move(members).error();
        targets = std::move(*members);
    }
    targets.push_back(automation);

    struct Change {
        Automation updated;
        json::object values;
        bool has_settings = false;
    };
    std::vector<Change> changes;
    FieldErrors errors;
    std::vector<bool> used(values.size(), false);
    for (const auto& target : targets) {
        auto info = automations_.Describe(target);
        if (!info) return std::move(info).error();
        json::object mine;
        size_t i = 0;
        for (const auto& [key, value] : values) {
            // A plain automation reports every field itself; a bundle only those that none of its automations has.
            if (!automation.isbundle || DeclaresPersisted(*info, key)) {
                mine[key] = value;
                used[i] = true;
            }
            ++i;
        }
        if (mine.empty()) continue;
        auto updated = automations_.WithPersistedInputs(target, mine);
        if (!updated) {
            for (auto& [field, messages] : updated.error().fields) {
                auto& slot = errors[field];
                slot.insert(slot.end(), messages.begin(), messages.end());
            }
            if (updated.error().fields.empty()) return std::move(updated).error();
            continue;
        }
        changes.push_back({std::move(*updated), std::move(mine), info->has_settings});
    }
    size_t i = 0;
    for (const auto& [key, value] : values) {
        if (!used[i++]) errors[std::string(key)].push_back("is not a persisted input of this bundle's automations");
    }
    if (!errors.empty()) return Error::Validation(std::move(errors));

    std::vector<Run> queued;
    for (const auto& change : changes) {
        if (!change.has_settings) continue;
        RunRequest settings;
        settings.context = "settings";
        settings.flow = "settings";
        settings.inputs = change.values;
        auto run = runs_.Submit(partner, account, change.updated, settings);
        if (!run) {
            for (const auto& q : queued) (void)runs_.Stop(partner.app_id, q);
            return std::move(run).error();
        }
        queued.push_back(std::move(*run));
    }
    for (const auto& change : changes) {
        if (auto r = store_.SaveAutomation(partner.app_id, change.updated); !r) return std::move(r).error();
    }
    return Ok();
}

Result<std::vector<Run>> AutomationFlows::Delete(const Partner& partner, const Account& account,
                                                 const Automation& automation, bool force) {
    std::vector<Automation> targets;
    if (automation.isbundle) {
        auto members = store_.ListBundleMembers(partner.app_id, account.id, automation.id);
        if (!members) return std::move(members).error();
        targets = std::move(*members);
    }
    targets.push_back(automation);
    std::vector<Run> pending;
    for (const auto& target : targets) {
        bool run_flow = false;
        if (!force && !account.expired) {
            auto info = automations_.Describe(target);
            if (!info) return std::move(info).error();
            run_flow = info->has_delete;
        }
        if (!run_flow) {
            if (auto r = store_.DeleteAutomation(partner.app_id, account.id, target.id); !r) {
                return std::move(r).error();
            }
            continue;
        }
        RunRequest request;
        request.context = "delete";
        request.flow = "delete";
        auto run = runs_.Submit(partner, account, target, request);
        if (!run) return std::move(run).error();
        pending.push_back(std::move(*run));
    }
    return pending;
}

}  // namespace weft
