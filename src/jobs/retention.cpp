#include "jobs/retention.h"

#include <spdlog/spdlog.h>

namespace weft::jobs {

Retention::Retention(Store& store, const Clock& clock, AsyncRuntime& runtime, MetricsRegistry& metrics, Micros window,
                     std::chrono::milliseconds interval)
    : store_(store),
      clock_(clock),
      runtime_(runtime),
      window_(window),
      interval_(interval),
      pruned_(metrics.CounterFor("weft_runs_pruned_total")) {
    metrics.Describe("weft_runs_pruned_total", "counter",
                     "Ended runs deleted, with their logs, because they stopped longer ago than the retention window.");
}

Retention::~Retention() { Stop(); }

void Retention::Start() {
    running_ = true;
    ScheduleNext(std::chrono::milliseconds(0));
}

void Retention::Stop() {
    running_ = false;
    stopped_ = true;
    std::lock_guard lock(mu_);
    if (timer_) timer_->Cancel();
}

void Retention::ScheduleNext(std::chrono::milliseconds delay) {
    if (!running_) return;
    auto t = runtime_.After(delay, [this] {
        Prune();
        ScheduleNext(interval_);
    });
    std::lock_guard lock(mu_);
    timer_ = std::move(t);
}

int Retention::Prune() {
    const Micros before = clock_.Now() - window_;
    int total = 0;
    while (!stopped_) {
        auto n = store_.PruneRuns(before, kBatch);
        if (!n) {
            spdlog::error("retention: deleting old runs failed: {}", n.error().detail);
            break;
        }
        total += *n;
        pruned_.Add(*n);
        if (*n < kBatch) break;
    }
    if (total > 0) spdlog::info("retention: deleted {} runs that ended before the retention window", total);
    return total;
}

}  // namespace weft::jobs
