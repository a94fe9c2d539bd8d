#pragma once

#include "api/partner_call.h"

namespace weft::api {

// Section 7 "Running" and section 9: runs of an automation.
void RunAutomation(ApiDeps& deps, CallContext& ctx, Reply reply);

// Answers a sync caller: `outcome(run)` once the run has ended, or 202 with the run (and `location`) when the
// sync timeout comes first. Holds no thread while waiting.
void AwaitRun(ApiDeps& deps, const Run& run, const std::string& location,
              std::function<http::Response(const Run&)> outcome, std::function<void(http::Response)> answer);
http::Response AcceptedRun(const Run& run, const std::string& location);
// The sync answer for an ended run: its output (200 unless an output block set a status/headers for a triggered
// call), or 422 run_failed with the run.
http::Response RunOutcome(const Run& run, const std::string& request_id, bool use_output_response);
Result<http::Response> ListRuns(ApiDeps& deps, CallContext& ctx);
Result<http::Response> GetRun(ApiDeps& deps, CallContext& ctx);
Result<http::Response> LastRun(ApiDeps& deps, CallContext& ctx);
Result<http::Response> RunLogs(ApiDeps& deps, CallContext& ctx);
Result<http::Response> StopRun(ApiDeps& deps, CallContext& ctx);
Result<http::Response> RetryRun(ApiDeps& deps, CallContext& ctx);
// `GET .../runs/{run}/export`: signed links, valid one hour, to the run's full log and to its output.
Result<http::Response> ExportRun(ApiDeps& deps, CallContext& ctx);
// `GET /v1/exports/runs/{run}/{kind}?expires=&signature=`: the download a signed export link points at. No
// partner credentials: the signature is the authorisation. Every refusal is the same 404.
void DownloadRunExport(ApiDeps& deps, http::Request& req, const http::PathParams& params, http::Respond respond);

}  // namespace weft::api
