#pragma once

#include "api/partner_call.h"

namespace weft::api {

// Section 7 "Running" and section 9: runs of an automation.
void RunAutomation(ApiDeps& deps, CallContext& ctx, Reply reply);
Result<http::Response> ListRuns(ApiDeps& deps, CallContext& ctx);
Result<http::Response> GetRun(ApiDeps& deps, CallContext& ctx);
Result<http::Response> LastRun(ApiDeps& deps, CallContext& ctx);
Result<http::Response> RunLogs(ApiDeps& deps, CallContext& ctx);
Result<http::Response> StopRun(ApiDeps& deps, CallContext& ctx);
Result<http::Response> RetryRun(ApiDeps& deps, CallContext& ctx);

}  // namespace weft::api
