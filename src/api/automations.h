#pragma once

#include "api/partner_call.h"

namespace weft::api {

// Section 7: automations ("blends") in accounts.
Result<http::Response> ListAutomations(ApiDeps& deps, CallContext& ctx);
Result<http::Response> CreateAutomation(ApiDeps& deps, CallContext& ctx);
Result<http::Response> GetAutomation(ApiDeps& deps, CallContext& ctx);
Result<http::Response> UpdateAutomation(ApiDeps& deps, CallContext& ctx);
Result<http::Response> DeleteAutomation(ApiDeps& deps, CallContext& ctx);
Result<http::Response> SetPersistedInputs(ApiDeps& deps, CallContext& ctx);
Result<http::Response> RotateExecutionToken(ApiDeps& deps, CallContext& ctx);

// The automation named by {blend} in the call's account.
Result<Automation> PathAutomation(ApiDeps& deps, CallContext& ctx);

}  // namespace weft::api
