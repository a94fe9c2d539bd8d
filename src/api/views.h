#pragma once

#include "core/json.h"
#include "domain/definitions.h"
#include "domain/entities.h"

namespace weft::api {

// The wire shape of each entity (API.md): exact field names, explicit nulls.
json::object AccountView(const Account& a);
json::object UserView(const User& u);

// `info` describes the definition; `base_url` makes `execution_url` absolute. `detailed` adds the single-GET
// fields: inputs, definition, execution_token.
// `sub_automations`: a bundle's members (their list views).
json::object AutomationView(const Automation& b, const DefinitionInfo& info, const std::string& base_url, bool detailed,
                            json::array sub_automations = {});
// A template; `sub_blends` are a bundle's member templates (their list views). `detailed` adds inputs and
// definition (single GET).
json::object TemplateView(const Template& t, const DefinitionInfo& info, const std::string& base_url, bool detailed,
                          json::array sub_blends = {});
// `detailed` adds inputs and output (single GET).
json::object RunView(const Run& r, bool detailed);

}  // namespace weft::api
