#include "domain/run_service.h"

#include <atomic>
#include <memory>

#include "core/crypto.h"
#include "core/ids.h"

namespace weft {

namespace {

// A place in `local` (when there is one with room) for a run of `partner` that may start where it is submitted.
std::optional<StartHere> ReserveIn(LocalStarter* local, const Partner& partner) {
    if (!local) return std::nullopt;
    auto here = local->Reserve();
    if (here) here->concurrency = partner.limits.concurrency;
    return here;
}

// Whether the enqueue of the run `guid` created it running (under a reservation), not queued, and not an
// idempotent retry's earlier run.
bool StartedHere(const Result<Run>& queued, const std::string& guid) {
    return queued && queued->guid == guid && queued->status == kRunStatusRunning;
}

}  // namespace

Result<Run> RunService::NewRun(const Account& account, const Automation& automation, const RunRequest& request) const {
    if (account.expired) {
        return Error{ErrorCode::kAccountExpired, "The account is expired: it cannot start runs.", {}, {}};
    }
    auto persisted = ParseJson(automation.persisted_inputs);
    const json::object empty;
    auto inputs = checker_.ResolveInputs(automation.definition, request.flow, request.inputs,
                                         persisted && persisted->is_object() ? persisted->as_object() : empty);
    if (!inputs) return std::move(inputs).error();

    const Micros now = clock_.Now();
    Run run;
    run.account_id = account.id;
    run.automation_id = automation.id;
    run.guid = NewGuid(now);
    run.context = request.context;
    run.flow = request.flow;
    run.inputs = ToJson(*inputs);
    if (request.start_payload) run.start_payload = ToJson(*request.start_payload);
    run.call_depth = request.call_depth;
    run.idempotency_key = request.idempotency_key;
    run.schedule_starttime = request.schedule_starttime;
    run.created_at = run.updated_at = now;
    return run;
}

Result<Run> RunService::Submit(const Partner& partner, const Account& account, const Automation& automation,
                               const RunRequest& request, RunEvents::FinishedFn on_end) {
    auto created = NewRun(account, automation, request);
    if (!created) return created;
    const Run& run = *created;
    const Micros now = run.created_at;
    // (The starter that reserved is the one told: local_ may be cleared meanwhile, at shutdown.)
    LocalStarter* const local = on_end ? local_.load() : nullptr;
    const std::optional<StartHere> here = ReserveIn(local, partner);
    auto queued = store_.EnqueueRun(partner.app_id, run, partner.limits.queue_cap, now - kIdempotencyWindow,
                                    here ? &*here : nullptr, request.admission.get());
    const bool started_here = here && StartedHere(queued, run.guid);
    if (here && !started_here) local->Unreserve();
    if (!queued) return queued;
    if (started_here) {
        // Heard of before it can end: it has not begun yet.
        events_.OnFinished(queued->id, std::move(on_end));
        local->BeginReserved(ClaimedRun{*queued, automation, account});
        return queued;
    }
    if (queued->guid == run.guid) events_.Enqueued();
    if (on_end) WhenFinished(*queued, std::move(on_end));
    return queued;
}

void RunService::SubmitAsync(const Partner& partner, const Account& account, const Automation& automation,
                             const RunRequest& request, std::function<void(Result<Run>)> done) {
    auto run = NewRun(account, automation, request);
    if (!run) return done(std::move(run));
    const Micros since = run->created_at - kIdempotencyWindow;
    std::string guid = run->guid;
    LocalStarter* const local = local_.load();
    std::optional<StartHere> here = ReserveIn(local, partner);
    // What a worker needs of the run's owners, should it start here.
    std::shared_ptr<const std::pair<Account, Automation>> owners;
    if (here) owners = std::make_shared<const std::pair<Account, Automation>>(account, automation);
    store_.EnqueueRunAsync(
        partner.app_id, std::move(*run), partner.limits.queue_cap, since,
        [this, local, guid = std::move(guid), owners = std::move(owners), done = std::move(done)](Result<Run> queued) {
            const bool new_run = queued && queued->guid == guid;  // not an idempotent retry's earlier run
            const bool started_here = owners && StartedHere(queued, guid);
            if (owners && !started_here) local->Unreserve();
            if (!started_here) {
                if (new_run) events_.Enqueued();  // (an earlier run woke the workers when it was queued)
                return done(std::move(queued));
            }
            // On the thread that committed: the run begins on a worker's.
            Run accepted = *queued;
            local->BeginReservedLater(ClaimedRun{std::move(*queued), owners->second, owners->first});
            // Answered as accepted: queued, not begun (the start was written with it, for this process).
            accepted.status = kRunStatusQueued;
            accepted.starttime.reset();
            done(std::move(accepted));
        },
        request.admission, here);
}

Result<Run> RunService::Stop(PartnerId partner, const Run& run) {
    auto stopped = store_.RequestRunStop(partner, run.id, clock_.Now());
    if (stopped && stopped->status == kRunStatusMustStop) events_.StopRequested(run.id);
    if (stopped && stopped->status == kRunStatusStopped && run.status == kRunStatusQueued) events_.Finished(*stopped);
    return stopped;
}

void RunService::Abandoned(const std::vector<Run>& runs) {
    const Micros now = clock_.Now();
    for (Run run : runs) {
        if (run.status != kRunStatusQueued) events_.StopRequested(run.id);
        run.status = kRunStatusStopped;
        run.stoptime = now;
        run.updated_at = now;
        events_.Finished(run);
    }
}

Result<Run> RunService::Retry(const Partner& partner, const Account& account, const Automation& automation,
                              const Run& run) {
    auto inputs = ParseJson(run.inputs);
    RunRequest request;
    request.context = "retry";
    request.flow = run.flow;
    if (inputs && inputs->is_object()) request.inputs = inputs->as_object();
    if (run.start_payload) {
        if (auto start = ParseJson(*run.start_payload)) request.start_payload = *start;
    }
    return Submit(partner, account, automation, request);
}

Result<Run> RunService::Last(PartnerId partner, const Automation& automation) {
    auto page = store_.ListRuns(partner, automation.id, {}, {0, 1});
    if (!page) return std::move(page).error();
    if (page->items.empty()) return Error::NotFound("The automation has no runs yet.");
    return std::move(page->items.front());
}

Result<RunService::TriggerTarget> RunService::ResolveTrigger(std::string_view key, std::string_view token) {
    const Error refused = Error::NotFound("No triggered automation answers at this address with this token.");
    if (key.empty() || token.empty()) return refused;
    auto candidates = store_.FindAutomationsByKey(key);
    if (!candidates) return std::move(candidates).error();
    for (auto& c : *candidates) {
        if (!ConstantTimeEquals(token, c.automation.execution_token)) continue;
        if (c.automation.run_mode != "triggered") return refused;
        auto partner = store_.GetPartner(c.account.partner_id);
        if (!partner) return std::move(partner).error();
        return TriggerTarget{std::move(*partner), std::move(c.account), std::move(c.automation)};
    }
    return refused;
}

void RunService::WhenFinished(const Run& run, RunEvents::FinishedFn fn) {
    // Register first, then look: a run that ends in between is caught by one of the two, and `once` keeps
    // the caller from hearing about it twice.
    auto once = std::make_shared<std::atomic<bool>>(false);
    auto shared = std::make_shared<RunEvents::FinishedFn>(std::move(fn));
    events_.OnFinished(run.id, [once, shared](const Run& r) {
        if (!once->exchange(true)) (*shared)(r);
    });
    auto current = store_.GetRunById(run.id);
    if (current && current->Final() && !once->exchange(true)) (*shared)(*current);
}

}  // namespace weft
