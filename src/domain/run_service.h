#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "domain/definitions.h"
#include "domain/run_events.h"
#include "domain/store.h"

namespace weft {

struct RunRequest {
    std::string context = "api_sync";  // api_sync, api_async, webhook, scheduled, manual, retry, call_automation, ...
    std::string flow = "start";
    json::object inputs;
    std::optional<std::string> idempotency_key;
    std::optional<json::value> start_payload;  // `$.start` of triggered runs
    int call_depth = 0;
    std::optional<Micros> schedule_starttime;
    // A run call's rate decision, to be made where the run is queued (Store::AdmitsInEnqueue).
    std::shared_ptr<CallAdmission> admission;
};

// Executes runs started at once in this process (RunWorkers implements it): a run submitted when its account has
// a free slot and nothing queued skips the queue and the claim.
class LocalStarter {
  public:
    virtual ~LocalStarter() = default;
    // Room for one more run here: its lease (concurrency is the submitter's to fill in), or nothing when this
    // process has none (full, stopping, or running no runs).
    virtual std::optional<StartHere> Reserve() = 0;
    virtual void Unreserve() = 0;
    // Executes a run created running under a reservation's lease; it takes the reservation's place.
    virtual void BeginReserved(ClaimedRun run) = 0;
    // BeginReserved on one of the workers' threads, not the caller's (a store's committing thread, say).
    virtual void BeginReservedLater(ClaimedRun run) = 0;
};

// Runs over the API (API.md sections 7 "Running" and 9): submission into the durable queue, stop, retry,
// and the read side.
class RunService {
  public:
    static constexpr Micros kIdempotencyWindow = 24LL * 3600 * 1'000'000;

    RunService(Store& store, const Clock& clock, const DefinitionChecker& checker, RunEvents& events)
        : store_(store), clock_(clock), checker_(checker), events_(events) {}

    // Checks the account and the inputs, then queues the run (durable, or refused with queue_full). With
    // `on_end` (a caller that waits for the run), on_end is called once when the run has ended, and the run may
    // start at once in this process (see LocalStarter): it is then returned `running`.
    Result<Run> Submit(const Partner& partner, const Account& account, const Automation& automation,
                       const RunRequest& request, RunEvents::FinishedFn on_end = nullptr);
    // Submit for a caller that does not wait for the run, without holding the calling thread until the run is
    // durable: done gets the run as it was accepted (queued), possibly on another thread and before this
    // returns. A run that can start at once is written running in the same transaction, and this process's
    // workers begin it (see LocalStarter).
    void SubmitAsync(const Partner& partner, const Account& account, const Automation& automation,
                     const RunRequest& request, std::function<void(Result<Run>)> done);
    // The starter must outlive every submission that reserved a place in it (those in flight at shutdown too).
    void SetLocalStarter(LocalStarter* starter) { local_ = starter; }
    Result<Run> Stop(PartnerId partner, const Run& run);
    Result<Run> Retry(const Partner& partner, const Account& account, const Automation& automation, const Run& run);

    Result<Run> Find(PartnerId partner, const Automation& automation, std::string_view guid) {
        return store_.FindRun(partner, automation.id, guid);
    }
    Result<Page<Run>> List(PartnerId partner, const Automation& automation, const RunFilter& filter,
                           const PageRequest& page) {
        return store_.ListRuns(partner, automation.id, filter, page);
    }
    Result<Run> Last(PartnerId partner, const Automation& automation);
    Result<Page<std::string>> Logs(PartnerId partner, const Run& run, const PageRequest& page) {
        return store_.ListRunLogs(partner, run.id, page);
    }

    // The triggered automation (API.md section 8) that `key` (guid or name) and `token` designate. Every kind of
    // refusal (unknown key, wrong token, run_mode not `triggered`) is the same not_found.
    struct TriggerTarget {
        Partner partner;
        Account account;
        Automation automation;
    };
    Result<TriggerTarget> ResolveTrigger(std::string_view key, std::string_view token);

    // Runs deleted with their account while queued or running: running ones are told to stop, and whoever
    // waits for any of them learns it ended `stopped`.
    void Abandoned(const std::vector<Run>& runs);

    // Calls fn once when the run has ended (at once when it already has).
    void WhenFinished(const Run& run, RunEvents::FinishedFn fn);

  private:
    // The run a submission creates, once the account and the inputs are checked.
    Result<Run> NewRun(const Account& account, const Automation& automation, const RunRequest& request) const;

    Store& store_;
    const Clock& clock_;
    const DefinitionChecker& checker_;
    RunEvents& events_;
    std::atomic<LocalStarter*> local_{nullptr};
};

}  // namespace weft
