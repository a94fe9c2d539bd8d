#pragma once

#include "api/partner_call.h"

namespace weft::api {

// Section 7: automations ("blends") in accounts.
Result<http::Response> ListAutomations(ApiDeps& deps, CallContext& ctx);
Result<http::Response> CreateAutomation(ApiDeps& deps, CallContext& ctx);
Result<http::Response> GetAutomation(ApiDeps& deps, CallContext& ctx);
Result<http::Response> UpdateAutomation(ApiDeps& deps, CallContext& ctx);
// Runs the Delete flow(s) first when there are any (AutomationFlows::Delete); `?force=true` skips them.
void DeleteAutomation(ApiDeps& deps, CallContext& ctx, Reply reply);
Result<http::Response> SetPersistedInputs(ApiDeps& deps, CallContext& ctx);
Result<http::Response> RotateExecutionToken(ApiDeps& deps, CallContext& ctx);

// The automation named by {blend} in the call's account.
Result<Automation> PathAutomation(ApiDeps& deps, CallContext& ctx);
// The automation's wire object, with a bundle's members as `sub_automations`/`sub_blends`.
Result<json::object> AutomationJson(ApiDeps& deps, PartnerId partner, const Automation& b, const std::string& base,
                                    bool detailed);
Result<http::Response> AutomationResponse(ApiDeps& deps, CallContext& ctx, const Automation& b, bool detailed);

}  // namespace weft::api
