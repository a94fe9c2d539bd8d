#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/async.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "domain/run_events.h"
#include "domain/run_service.h"
#include "domain/store.h"
#include "engine/engine.h"
#include "jobs/connector_runner.h"
#include "jobs/definition_cache.h"

namespace weft::jobs {

// Performs the engine's HTTP effects (the http layer implements it with an asynchronous client).
class OutboundHttp {
  public:
    virtual ~OutboundHttp() = default;
    virtual void Send(const engine::HttpRequestEffect& request, std::function<void(engine::HttpResult)> done) = 0;
};

struct WorkerOptions {
    std::string owner;   // this process's lease owner id
    int capacity = 512;  // runs in flight in this process
    Micros lease = 30'000'000;
    std::chrono::milliseconds poll_interval{250};
    int max_attempts = 3;
};

// Claims queued runs (respecting each account's concurrency), executes them with the engine, performs their
// effects without holding a thread (timers, async HTTP, sub-runs), writes their block logs and outcome, and
// keeps their leases alive. A reaper requeues runs whose worker died.
class RunWorkers final : public LocalStarter {
  public:
    RunWorkers(Store& store, const Clock& clock, AsyncRuntime& runtime, RunEvents& events, RunService& runs,
               DefinitionCache& definitions, const engine::Engine& engine, OutboundHttp* http, MetricsRegistry& metrics,
               WorkerOptions options, ConnectorRunner* connectors = nullptr);
    ~RunWorkers() override;

    // LocalStarter: runs started by this process's own submissions count against its capacity like claimed ones.
    std::optional<StartHere> Reserve() override;
    void Unreserve() override;
    void BeginReserved(ClaimedRun run) override;
    void BeginReservedLater(ClaimedRun run) override;

    void Start();
    // Stops claiming; runs in flight are abandoned to their leases (they are picked up again after a restart).
    void Stop();
    int active() const { return active_count_.load(); }

  private:
    struct Active;
    void SchedulePoll(std::chrono::microseconds delay);
    void Poll();
    void Begin(ClaimedRun claimed, bool started_here = false);
    void Advance(const std::shared_ptr<Active>& a);
    void Perform(const std::shared_ptr<Active>& a, engine::Effect effect);
    void Resume(const std::shared_ptr<Active>& a, engine::EffectResult result);
    void Complete(const std::shared_ptr<Active>& a, std::vector<std::string> logs);
    // After the end of the run is written (or failed to be).
    // nothing_to_start: the end saw no run queued, and none was queued through this process since.
    void Ended(const std::shared_ptr<Active>& a, const Result<Run>& done, bool nothing_to_start);
    void FailBeforeStart(const ClaimedRun& claimed, const std::string& message);
    void RenewLeases();
    void Reap();
    void OnStopRequested(std::int64_t run_id);

    Store& store_;
    const Clock& clock_;
    AsyncRuntime& runtime_;
    RunEvents& events_;
    RunService& runs_;
    DefinitionCache& definitions_;
    const engine::Engine& engine_;
    OutboundHttp* http_;
    WorkerOptions options_;
    ConnectorRunner* connectors_;
    Counter& runs_started_;
    Counter& runs_ended_;

    std::atomic<bool> running_{false};
    std::atomic<bool> poll_pending_{false};
    std::atomic<bool> poll_again_{false};
    std::atomic<int> active_count_{0};
    std::atomic<int> reserved_{0};         // slots promised to runs being submitted here
    std::atomic<std::uint64_t> wakes_{0};  // runs queued through this process, counted
    std::mutex mu_;
    std::map<std::int64_t, std::shared_ptr<Active>> active_;
    std::shared_ptr<AsyncRuntime::Timer> poll_timer_, lease_timer_, reap_timer_;
};

}  // namespace weft::jobs
