#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "domain/entities.h"

namespace weft {

// In-process signals about runs: sync callers waiting for a run to end, workers woken when a run is queued,
// running runs told to stop. (Across processes the same signals travel through the database.)
class RunEvents {
  public:
    using FinishedFn = std::function<void(const Run&)>;

    // fn is called once, from the thread that ends the run.
    void OnFinished(std::int64_t run_id, FinishedFn fn);
    void Finished(const Run& run);
    // Whether a caller waits for this run, and every run someone waits for (to deliver runs that ended on
    // another process).
    bool HasWaiters(std::int64_t run_id);
    std::vector<std::int64_t> WaitedRunIds();

    void SetWakeHandler(std::function<void()> fn);
    void Enqueued();

    void SetStopHandler(std::function<void(std::int64_t run_id)> fn);

    // Drops every waiter and handler without calling them. At shutdown, before the event loop their callbacks
    // belong to is destroyed (a waiter holds a sync caller's reply and its timer).
    void Clear();
    void StopRequested(std::int64_t run_id);

  private:
    std::mutex mu_;
    std::multimap<std::int64_t, FinishedFn> waiters_;
    std::function<void()> wake_;
    std::function<void(std::int64_t)> stop_;
};

}  // namespace weft
