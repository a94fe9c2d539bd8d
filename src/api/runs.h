#pragma once

#include <memory>
#include <mutex>

#include "api/partner_call.h"

namespace weft::api {

// Section 7 "Running" and section 9: runs of an automation.
void RunAutomation(ApiDeps& deps, CallContext& ctx, Reply reply);

// A sync caller's wait for its run: `outcome(run)` answers once the run has ended, or 202 with the run (and its
// location) when the sync timeout comes first; whichever comes second finds the caller answered. Made before the
// run is submitted (OnEnd goes to RunService::Submit), so that a run started at once cannot end unheard; Arm
// starts the timeout once the run is known. Holds no thread while waiting.
class SyncWait : public std::enable_shared_from_this<SyncWait> {
  public:
    SyncWait(ApiDeps& deps, std::function<http::Response(const Run&)> outcome,
             std::function<void(http::Response)> answer)
        : deps_(deps), outcome_(std::move(outcome)), answer_(std::move(answer)) {}
    RunEvents::FinishedFn OnEnd();
    void Arm(const Run& run, std::string location);

  private:
    ApiDeps& deps_;
    std::function<http::Response(const Run&)> outcome_;
    std::function<void(http::Response)> answer_;
    std::mutex mu_;  // guards the two fields below
    bool answered_ = false;
    std::shared_ptr<AsyncRuntime::Timer> timer_;
};
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
