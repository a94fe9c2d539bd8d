#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "core/async.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "domain/store.h"

namespace weft::jobs {

// Run retention (DESIGN.md "Runs and the queue"): ended runs, with their block logs, are deleted once they
// stopped more than `window` ago. Runs at start and then every `interval`, deleting in batches so that no
// transaction holds the writer for long; queued and running runs are never touched.
class Retention {
  public:
    static constexpr int kBatch = 500;

    Retention(Store& store, const Clock& clock, AsyncRuntime& runtime, MetricsRegistry& metrics, Micros window,
              std::chrono::milliseconds interval);
    ~Retention();

    void Start();
    void Stop();
    // One pass: deletes every run past the window, batch by batch. Returns how many it deleted.
    int Prune();

  private:
    void ScheduleNext(std::chrono::milliseconds delay);

    Store& store_;
    const Clock& clock_;
    AsyncRuntime& runtime_;
    Micros window_;
    std::chrono::milliseconds interval_;
    Counter& pruned_;
    std::atomic<bool> running_{false};
    std::atomic<bool> stopped_{false};  // set by Stop(): a pass in progress ends after its current batch
    std::mutex mu_;
    std::shared_ptr<AsyncRuntime::Timer> timer_;
};

}  // namespace weft::jobs
