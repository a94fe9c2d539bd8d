#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include "core/async.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "domain/definitions.h"
#include "domain/run_events.h"
#include "domain/store.h"

namespace weft::jobs {

// Fires scheduled automations. Every `tick_interval` it queues one run for each automation whose next tick has
// come (context `scheduled`, `schedule_starttime` = the tick), moves the tick on (missed ticks collapse into
// one), and skips — counting it — a tick whose previous scheduled run is still queued or running. Firing and
// moving the tick are one transaction, so no tick fires twice.
class Scheduler {
  public:
    Scheduler(Store& store, const Clock& clock, AsyncRuntime& runtime, const DefinitionChecker& checker,
              RunEvents& events, MetricsRegistry& metrics, std::chrono::milliseconds tick_interval);
    ~Scheduler();

    void Start();
    void Stop();
    // With several processes on one database only the one for which `active()` is true fires schedules
    // (PostgreSQL: the holder of an advisory lock); the others tick idly, ready to take over.
    void SetActiveGate(std::function<bool()> active) { active_ = std::move(active); }
    // One pass over the due schedules; returns how many runs it queued.
    int Tick();

  private:
    void ScheduleNext();

    Store& store_;
    const Clock& clock_;
    AsyncRuntime& runtime_;
    const DefinitionChecker& checker_;
    RunEvents& events_;
    std::chrono::milliseconds tick_interval_;
    Counter& fired_;
    Counter& skipped_overlap_;
    Counter& skipped_queue_full_;
    Counter& skipped_invalid_;
    std::function<bool()> active_;
    std::atomic<bool> running_{false};
    std::mutex mu_;
    std::shared_ptr<AsyncRuntime::Timer> timer_;
};

}  // namespace weft::jobs
