#pragma once

#include <optional>
#include <string>

#include "api/partner_call.h"

namespace weft::api {

// Section 7: templates (partner-owned), their install into accounts, and the push of a new version to an
// installed automation.
Result<http::Response> ListTemplates(ApiDeps& deps, CallContext& ctx);
Result<http::Response> GetTemplate(ApiDeps& deps, CallContext& ctx);
Result<http::Response> CreateTemplate(ApiDeps& deps, CallContext& ctx);
Result<http::Response> UpdateTemplate(ApiDeps& deps, CallContext& ctx);
Result<http::Response> DeleteTemplate(ApiDeps& deps, CallContext& ctx);
Result<http::Response> InstallTemplate(ApiDeps& deps, CallContext& ctx);
Result<http::Response> PushTemplate(ApiDeps& deps, CallContext& ctx);

// The account an install addresses (its body's `account`), for the rate-limit window and the account lookup.
std::optional<std::string> InstallAccountKey(const http::Request& req);

}  // namespace weft::api
