#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "domain/account_service.h"
#include "domain/automation_service.h"
#include "domain/definitions.h"
#include "domain/run_service.h"
#include "domain/store.h"

namespace weft {

// Fields of a template create or update (API.md section 7, ext); unset ones are left as they are.
struct TemplateInput {
    std::optional<std::string> name;
    std::optional<std::string> short_description;
    std::optional<std::string> description;
    NullableField icon, icon2, icon3;
    std::optional<std::string> status;
    std::optional<bool> isbundle;
    std::optional<std::vector<std::string>> sub_blends;  // member template guids
    std::optional<json::array> groups;                   // [{group_id, group_name}]
    std::optional<std::int64_t> schedule_interval;
    std::optional<std::string> schedule_timezone;
    std::optional<json::value> definition;
};

struct InstallRequest {
    json::object inputs;                   // {field_name: value}: persisted inputs and the Setup flow's inputs
    std::vector<std::string> datasources;  // guids
    bool prevent_duplicates = false;
};

// The outcome of an install: the automation, and the Setup flow runs it queued.
struct Installation {
    Automation automation;
    bool created = true;  // false: an equal instance was updated (template_prevent_duplicates)
    std::vector<Run> setup_runs;
};

// Templates and what moves between them and accounts: install, push of a new version (API.md section 7).
class TemplateService {
  public:
    TemplateService(Store& store, const Clock& clock, const DefinitionChecker& checker, RunService& runs)
        : store_(store), clock_(clock), checker_(checker), runs_(runs) {}

    Result<Template> Create(PartnerId partner, const TemplateInput& input);
    Result<Template> Find(PartnerId partner, std::string_view guid, std::optional<std::int64_t> version = {}) {
        return store_.FindTemplate(partner, guid, version);
    }
    Result<Page<Template>> List(PartnerId partner, const std::optional<std::string>& status, const PageRequest& page) {
        return store_.ListTemplates(partner, status, page);
    }
    // A definition that differs from the current one makes a new version.
    Result<Template> Update(PartnerId partner, const Template& tpl, const TemplateInput& input);
    Status Delete(PartnerId partner, const Template& tpl) { return store_.DeleteTemplate(partner, tpl.id); }
    Result<std::vector<Template>> Members(PartnerId partner, const Template& tpl);
    Result<DefinitionInfo> Describe(const Template& tpl) const;

    // Creates the template's automation (a bundle: with one member automation per sub-template) in the account,
    // at the template's latest version, with its schedule active, and queues the Setup flow of each that has
    // one. With prevent_duplicates, an instance whose persisted inputs equal the given ones is updated instead.
    // When a Setup run cannot be queued, a new install is undone and the error returned.
    Result<Installation> Install(const Partner& partner, const Account& account, const Template& tpl,
                                 const InstallRequest& request);
    // Moves the instance (and a bundle's members) to the latest version of its template, keeping persisted inputs,
    // bindings, schedule and state. 400 when the automation was not installed from `tpl`.
    Result<Automation> Push(PartnerId partner, const Automation& automation, const Template& tpl);

  private:
    Result<Template> Apply(Template tpl, const TemplateInput& input, bool creating, bool& new_version);
    Automation UpgradedTo(Automation b, const Template& tpl, const DefinitionInfo& info) const;

    Store& store_;
    const Clock& clock_;
    const DefinitionChecker& checker_;
    RunService& runs_;
};

// "live", "hidden", "coming_soon".
bool IsTemplateStatus(std::string_view status);

}  // namespace weft
