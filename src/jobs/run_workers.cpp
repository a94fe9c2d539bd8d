#include "jobs/run_workers.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace weft::jobs {

namespace {

// Runs claimed in one write. Each claim waits for a commit, so this over the commit time bounds how fast a
// backlog drains: at 64, async submissions on SQLite (which no longer wait for threads) outran the claims.
constexpr int kClaimBatch = 256;

const char* FinalStatus(engine::RunStatus s) {
    switch (s) {
        case engine::RunStatus::kFinished:
            return kRunStatusFinished;
        case engine::RunStatus::kFinishedWithWarnings:
            return kRunStatusFinishedWithWarnings;
        case engine::RunStatus::kFailed:
            return kRunStatusFailed;
        case engine::RunStatus::kStopped:
            return kRunStatusStopped;
        case engine::RunStatus::kRunning:
            break;
    }
    return kRunStatusFailed;
}

std::string ErrorJson(const std::string& message, const std::string& block_id) {
    json::object e;
    e["message"] = message;
    e["block_id"] = block_id.empty() ? json::value(nullptr) : json::value(block_id);
    return ToJson(e);
}

engine::HttpResult Unavailable(std::string message, engine::TransportError error = engine::TransportError::kBlocked) {
    engine::HttpResult r;
    r.error = error;
    r.error_message = std::move(message);
    return r;
}

}  // namespace

struct RunWorkers::Active {
    ClaimedRun claimed;
    std::shared_ptr<const engine::Definition> def;
    engine::RunState state;
    bool first_step = true;
    bool started_here = false;  // where it was submitted (its caller, if one waits, waits in this process)
    std::int64_t logged = 0;    // log entries this worker appended before the end
    std::atomic<bool> stop{false};
    std::mutex mu;  // guards timer
    std::shared_ptr<AsyncRuntime::Timer> timer;
};

RunWorkers::RunWorkers(Store& store, const Clock& clock, AsyncRuntime& runtime, RunEvents& events, RunService& runs,
                       DefinitionCache& definitions, const engine::Engine& engine, OutboundHttp* http,
                       MetricsRegistry& metrics, WorkerOptions options, ConnectorRunner* connectors)
    : store_(store),
      clock_(clock),
      runtime_(runtime),
      events_(events),
      runs_(runs),
      definitions_(definitions),
      engine_(engine),
      http_(http),
      options_(std::move(options)),
      connectors_(connectors),
      runs_started_(metrics.CounterFor("weft_runs_started_total")),
      runs_ended_(metrics.CounterFor("weft_runs_ended_total")) {
    metrics.Describe("weft_runs_started_total", "counter", "Runs claimed and started by this process.");
    metrics.Describe("weft_runs_ended_total", "counter", "Runs this process brought to a final state.");
}

RunWorkers::~RunWorkers() { Stop(); }

void RunWorkers::Start() {
    running_ = true;
    events_.SetWakeHandler([this] {
        ++wakes_;
        SchedulePoll(std::chrono::microseconds(0));
    });
    events_.SetStopHandler([this](std::int64_t id) { OnStopRequested(id); });
    SchedulePoll(std::chrono::microseconds(0));
    lease_timer_ = runtime_.After(std::chrono::microseconds(options_.lease / 3), [this] { RenewLeases(); });
    reap_timer_ = runtime_.After(std::chrono::microseconds(0), [this] { Reap(); });
}

void RunWorkers::Stop() {
    if (!running_.exchange(false)) return;
    events_.SetWakeHandler(nullptr);
    events_.SetStopHandler(nullptr);
    std::lock_guard lock(mu_);
    for (auto* t : {&poll_timer_, &lease_timer_, &reap_timer_}) {
        if (*t) (*t)->Cancel();
    }
}

std::optional<StartHere> RunWorkers::Reserve() {
    if (!running_) return std::nullopt;
    if (++reserved_ + active_count_.load() > options_.capacity) {
        --reserved_;
        return std::nullopt;
    }
    return StartHere{options_.owner, clock_.Now() + options_.lease, 0};
}

void RunWorkers::Unreserve() { --reserved_; }

void RunWorkers::BeginReserved(ClaimedRun run) {
    // Counted active (by Begin) before the reservation goes, so that the room a poll sees never overshoots.
    Begin(std::move(run), true);
    --reserved_;
}

void RunWorkers::BeginReservedLater(ClaimedRun run) {
    runtime_.Post([this, run = std::move(run)]() mutable { BeginReserved(std::move(run)); });
}

void RunWorkers::SchedulePoll(std::chrono::microseconds delay) {
    if (!running_) return;
    if (poll_pending_.exchange(true)) {
        // A poll is already on its way; make sure it looks again.
        poll_again_ = true;
        if (delay.count() == 0) {
            std::lock_guard lock(mu_);
            if (poll_timer_) poll_timer_->FireNow();
        }
        return;
    }
    auto timer = runtime_.After(delay, [this] {
        poll_again_ = false;
        Poll();
        poll_pending_ = false;
        // Something arrived while polling, or the batch was full: look again now; otherwise at the interval.
        SchedulePoll(poll_again_.exchange(false) ? std::chrono::microseconds(0)
                                                 : std::chrono::microseconds(options_.poll_interval));
    });
    std::lock_guard lock(mu_);
    poll_timer_ = std::move(timer);
}

void RunWorkers::Poll() {
    if (!running_) return;
    const int room = options_.capacity - active_count_.load() - reserved_.load();
    if (room <= 0) return;
    const Micros now = clock_.Now();
    const int batch = std::min(room, kClaimBatch);
    auto claimed = store_.ClaimRuns(options_.owner, batch, now, now + options_.lease);
    if (!claimed) {
        spdlog::error("claiming runs failed: {} {}", claimed.error().message, claimed.error().detail);
        return;
    }
    if (static_cast<int>(claimed->size()) == batch) poll_again_ = true;
    for (auto& c : *claimed) {
        runtime_.Post([this, c = std::move(c)]() mutable { Begin(std::move(c)); });
    }
}

void RunWorkers::FailBeforeStart(const ClaimedRun& claimed, const std::string& message) {
    RunOutcome o{kRunStatusFailed, std::nullopt, ErrorJson(message, ""), std::nullopt, clock_.Now(), {},
                 &claimed.run,     std::nullopt, options_.owner,         true};
    auto done = store_.FinishRun(claimed.run.id, o);
    if (done) events_.Finished(*done);
}

void RunWorkers::Begin(ClaimedRun claimed, bool started_here) {
    auto def = definitions_.Get(claimed.automation.definition);
    if (!def) return FailBeforeStart(claimed, "The automation's definition is invalid: " + def.error().message);
    auto inputs = ParseJson(claimed.run.inputs);
    engine::RunStart start;
    start.flow = claimed.run.flow;
    if (inputs && inputs->is_object()) start.inputs = inputs->as_object();
    if (claimed.run.start_payload) {
        if (auto payload = ParseJson(*claimed.run.start_payload)) start.start = *payload;
    }
    start.run["guid"] = claimed.run.guid;
    start.run["context"] = claimed.run.context;
    start.run["account"] = json::object{
        {"guid", claimed.account.guid}, {"externalid", claimed.account.externalid}, {"name", claimed.account.name}};
    start.call_depth = claimed.run.call_depth;
    // `datasource` inputs that name a connector must be datasources of the account for that connector.
    for (const auto& in : (*def)->inputs) {
        if (!connectors_ || in.type != engine::InputType::kDatasource || in.connector.empty()) continue;
        const auto* v = start.inputs.if_contains(in.field_name);
        if (v == nullptr || !v->is_string() || v->get_string().empty()) continue;
        if (auto problem = connectors_->CheckDatasourceInput(claimed.account.partner_id, claimed.account.id,
                                                             std::string(v->get_string()), in.connector)) {
            return FailBeforeStart(claimed, "input '" + in.field_name + "': " + *problem);
        }
    }

    auto a = std::make_shared<Active>();
    a->state = engine_.StartRun(**def, std::move(start));
    a->def = std::move(*def);
    a->claimed = std::move(claimed);
    a->started_here = started_here;
    {
        std::lock_guard lock(mu_);
        active_[a->claimed.run.id] = a;
    }
    ++active_count_;
    runs_started_.Add();
    Advance(a);
}

void RunWorkers::Advance(const std::shared_ptr<Active>& a) {
    if (!a->first_step && !a->stop) {
        // A stop requested through another process reaches this one through the database.
        auto stop = store_.StopRequested(a->claimed.run.id);
        if (stop && *stop) a->stop = true;
    }
    a->first_step = false;
    if (a->stop) a->state.RequestStop();
    auto step = engine_.Step(*a->def, a->state);
    std::vector<std::string> entries;
    for (const auto& e : a->state.TakeLogs()) entries.push_back(ToJson(e.ToJson()));
    // A run that ends here writes its last log entries with its outcome: one commit, not two.
    if (step.done()) return Complete(a, std::move(entries));
    if (!entries.empty()) {
        if (auto r = store_.AppendRunLogs(a->claimed.run.id, entries); !r) {
            spdlog::error("run {}: writing its log failed: {}", a->claimed.run.guid, r.error().detail);
            a->logged = -1;  // the store looks the last entry up
        } else if (a->logged >= 0) {
            a->logged += static_cast<std::int64_t>(entries.size());
        }
    }
    Perform(a, std::move(*step.effect));
}

void RunWorkers::Resume(const std::shared_ptr<Active>& a, engine::EffectResult result) {
    runtime_.Post([this, a, result = std::move(result)]() mutable {
        a->state.Resume(std::move(result));
        Advance(a);
    });
}

void RunWorkers::Perform(const std::shared_ptr<Active>& a, engine::Effect effect) {
    if (auto* sleep = std::get_if<engine::SleepEffect>(&effect)) {
        const auto delay = std::chrono::microseconds(std::max<Micros>(0, sleep->until - clock_.Now()));
        std::lock_guard lock(a->mu);
        a->timer = runtime_.After(delay, [this, a] {
            a->state.Resume(engine::SleepDone{});
            Advance(a);
        });
        if (a->stop) a->timer->FireNow();
        return;
    }
    if (auto* http = std::get_if<engine::HttpRequestEffect>(&effect)) {
        if (!http_) {
            return Resume(
                a, Unavailable("outbound HTTP is not available in this server", engine::TransportError::kNetwork));
        }
        if (!http->datasource.empty()) {
            if (!connectors_) return Resume(a, Unavailable("datasources are not available in this server"));
            connectors_->SendWithDatasource(a->claimed.account.partner_id, a->claimed.account.id, *http,
                                            [this, a](engine::HttpResult r) { Resume(a, std::move(r)); });
            return;
        }
        http_->Send(*http, [this, a](engine::HttpResult r) { Resume(a, std::move(r)); });
        return;
    }
    if (auto* connector = std::get_if<engine::ConnectorEffect>(&effect)) {
        if (!connectors_) return Resume(a, Unavailable("connectors are not available in this server"));
        connectors_->Run(a->claimed.account.partner_id, a->claimed.account.id, *connector,
                         [this, a](engine::HttpResult r) { Resume(a, std::move(r)); });
        return;
    }
    const auto& call = std::get<engine::CallAutomationEffect>(effect);
    const PartnerId partner_id = a->claimed.account.partner_id;
    auto fail = [&](std::string message) {
        engine::CallResult r;
        r.ok = false;
        r.error_message = std::move(message);
        Resume(a, std::move(r));
    };
    auto partner = store_.GetPartner(partner_id);
    if (!partner) return fail("the partner of this account is gone");
    auto account = store_.FindAccount(partner_id, a->claimed.account.guid);
    if (!account) return fail("the account is gone");
    auto target = store_.FindAutomation(partner_id, account->id, call.automation);
    if (!target) return fail("no automation \"" + call.automation + "\" in this account");
    RunRequest request;
    request.context = "call_automation";
    request.inputs = call.inputs;
    request.call_depth = call.depth;
    auto run = runs_.Submit(*partner, *account, *target, request);
    if (!run) return fail(run.error().message);
    if (call.async) {
        engine::CallResult r;
        r.value = json::object{{"guid", run->guid}, {"status", run->status}, {"context", run->context}};
        return Resume(a, std::move(r));
    }
    runs_.WhenFinished(*run, [this, a](const Run& ended) {
        engine::CallResult r;
        r.ok = ended.status == kRunStatusFinished || ended.status == kRunStatusFinishedWithWarnings;
        if (ended.output) {
            if (auto v = ParseJson(*ended.output)) r.value = *v;
        }
        if (!r.ok) r.error_message = "the called run ended " + ended.status;
        Resume(a, std::move(r));
    });
    // The parent keeps one of the account's concurrency slots while it waits, so the sub-run starts at once in
    // that slot instead of queueing behind the limit (where it would wait forever if the parent held the last
    // slot). Another worker may have claimed it already; then this finds nothing to do.
    const Micros now = clock_.Now();
    auto mine = store_.ClaimRun(run->id, options_.owner, now, now + options_.lease);
    if (!mine) {
        spdlog::error("run {}: claiming its sub-run {} failed: {}", a->claimed.run.guid, run->guid,
                      mine.error().detail);
    } else if (*mine) {
        runtime_.Post([this, c = std::move(**mine)]() mutable { Begin(std::move(c)); });
    }
}

void RunWorkers::Complete(const std::shared_ptr<Active>& a, std::vector<std::string> logs) {
    const auto& st = a->state;
    RunOutcome o;
    o.logs = std::move(logs);
    o.status = FinalStatus(st.status);
    o.output = ToJson(st.output);
    if (st.error) o.error = ErrorJson(st.error->message, st.error->block_id);
    if (st.response_status || !st.response_headers.empty()) {
        json::object response;
        response["status"] = st.response_status ? json::value(*st.response_status) : json::value(nullptr);
        response["headers"] = st.response_headers;
        o.response = ToJson(response);
    }
    o.stoptime = clock_.Now();
    o.claimed = &a->claimed.run;
    o.owner = options_.owner;
    const std::string& context = a->claimed.run.context;
    o.announce = !a->started_here && context != "api_async" && context != "scheduled";
    // A first attempt's earlier entries are the ones this worker wrote.
    if (a->claimed.run.attempt == 1 && a->logged >= 0) o.last_seq = a->logged;
    // The end joins the store's next group commit without holding this thread; `a` keeps the claimed run alive.
    const std::uint64_t wakes = wakes_.load();
    store_.FinishRunAsync(a->claimed.run.id, std::move(o), [this, a, wakes](Result<Run> done, bool none_queued) {
        Ended(a, done, none_queued && wakes_.load() == wakes);
    });
}

void RunWorkers::Ended(const std::shared_ptr<Active>& a, const Result<Run>& done, bool nothing_to_start) {
    {
        std::lock_guard lock(mu_);
        active_.erase(a->claimed.run.id);
    }
    --active_count_;
    runs_ended_.Add();
    if (!done && done.error().code == ErrorCode::kNotFound) {
        spdlog::debug("run {}: deleted (with its account or automation) before it ended", a->claimed.run.guid);
    } else if (!done && done.error().code == ErrorCode::kConflict) {
        spdlog::warn("run {}: its outcome was not recorded: {}", a->claimed.run.guid, done.error().message);
    } else if (!done) {
        spdlog::error("run {}: recording its end failed: {}", a->claimed.run.guid, done.error().detail);
    } else {
        events_.Finished(*done);
    }
    // A slot is free: the account's next run may start. Unless the end saw nothing queued: a run queued through
    // this process since then woke the workers itself (and the count of such runs tells), one queued through
    // another process is that process's to start, or found by the next poll.
    if (!nothing_to_start) SchedulePoll(std::chrono::microseconds(0));
}

void RunWorkers::OnStopRequested(std::int64_t run_id) {
    std::shared_ptr<Active> a;
    {
        std::lock_guard lock(mu_);
        auto it = active_.find(run_id);
        if (it == active_.end()) return;
        a = it->second;
    }
    a->stop = true;
    std::lock_guard lock(a->mu);
    if (a->timer) a->timer->FireNow();  // a sleeping run wakes to stop now
}

void RunWorkers::RenewLeases() {
    if (!running_) return;
    std::vector<std::int64_t> ids;
    {
        std::lock_guard lock(mu_);
        for (const auto& [id, a] : active_) ids.push_back(id);
    }
    const Micros now = clock_.Now();
    if (auto r = store_.RenewLeases(options_.owner, ids, now + options_.lease); !r) {
        spdlog::error("renewing run leases failed: {}", r.error().detail);
    }
    auto next = runtime_.After(std::chrono::microseconds(options_.lease / 3), [this] { RenewLeases(); });
    std::lock_guard lock(mu_);
    lease_timer_ = std::move(next);
}

void RunWorkers::Reap() {
    if (!running_) return;
    auto reaped = store_.ReapExpiredLeases(clock_.Now(), options_.max_attempts);
    if (!reaped) {
        spdlog::error("reaping lapsed run leases failed: {}", reaped.error().detail);
    } else if (*reaped > 0) {
        spdlog::warn("{} runs whose worker was lost went back to the queue (or failed after {} attempts)", *reaped,
                     options_.max_attempts);
        SchedulePoll(std::chrono::microseconds(0));
    }
    auto next = runtime_.After(std::chrono::microseconds(options_.lease / 2), [this] { Reap(); });
    std::lock_guard lock(mu_);
    reap_timer_ = std::move(next);
}

}  // namespace weft::jobs
